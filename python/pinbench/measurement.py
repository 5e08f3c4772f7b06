"""measure(): run a step on pinned native stream threads and get per-stream samples back.

Example (a numpy matmul per stream, one stream per core)::

    import numpy as np
    import pinbench

    def make_step(stream: int):
        a = np.random.default_rng(stream).random((128, 128))  # made on the pinned thread
        return lambda: a @ a

    m = pinbench.measure(make_step, streams=2, warmup=0.2, duration=1.0)
    for s in m.streams:
        print(s.index, s.cpus, s.iterations, s.latency.median)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from .errors import UsageError
from .pinning import plan_streams, topology
from .stats import LatencyStats, latency_stats

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ._core import NativeWork, RawRun, Topology

StepFactory = Callable[[int], Callable[[], Any]]
Work = Union[StepFactory, "NativeWork"]


class StreamError(RuntimeError):
    """A step or step factory raised in one stream; every stream was stopped.

    The original exception is chained as ``__cause__``; ``stream``, ``phase`` ("pin", "factory",
    "warmup" or "measure") and ``iteration`` (0-based within the phase, -1 for pin and factory)
    say where.
    """

    def __init__(self, stream: int, phase: str, iteration: int, error: BaseException) -> None:
        where = f"at iteration {iteration} ({phase})" if iteration >= 0 else f"in its {phase}"
        super().__init__(f"stream {stream} failed {where}: {type(error).__name__}: {error}")
        self.stream = stream
        self.phase = phase
        self.iteration = iteration
        self.error = error


@dataclass(frozen=True)
class StreamMeasurement:
    """One stream's measured iterations: start and end in steady-clock ns."""

    index: int
    planned_cpus: tuple[int, ...]  # what the plan asked for; empty = not pinned
    cpus: tuple[int, ...]  # the affinity read back on the stream thread after pinning
    thread_id: int  # kernel thread id of the stream thread
    starts_ns: NDArray[np.int64]
    ends_ns: NDArray[np.int64]
    warmup_iterations: int

    @property
    def iterations(self) -> int:
        return int(self.starts_ns.size)

    @property
    def latencies_ns(self) -> NDArray[np.int64]:
        return self.ends_ns - self.starts_ns

    @cached_property
    def latency(self) -> LatencyStats:
        """Latency statistics of this stream, in ms."""
        return latency_stats(self.latencies_ns)


@dataclass(frozen=True)
class Measurement:
    """What measure() measured. The window is [first start, last end] over all streams."""

    streams: list[StreamMeasurement]
    warmup_s: float
    duration_s: float | None
    iteration_cap: int | None
    interrupted: bool
    measure_start_ns: int  # when the measure barrier released the streams (0 if never)
    deadline_ns: int | None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def iterations(self) -> int:
        return sum(s.iterations for s in self.streams)

    @cached_property
    def window_ns(self) -> tuple[int, int] | None:
        """(first start, last end) over all streams; None when nothing finished."""
        measured = [s for s in self.streams if s.iterations]
        if not measured:
            return None
        return (
            int(min(s.starts_ns[0] for s in measured)),
            int(max(s.ends_ns[-1] for s in measured)),
        )

    @property
    def seconds(self) -> float:
        """Length of the window in seconds (0.0 when nothing finished)."""
        w = self.window_ns
        return (w[1] - w[0]) / 1e9 if w else 0.0

    @property
    def throughput(self) -> float:
        """Iterations per second over the window (NaN when nothing finished)."""
        s = self.seconds
        return self.iterations / s if s > 0 else math.nan

    def latencies_ns(self) -> NDArray[np.int64]:
        """Every stream's latencies, concatenated in stream order."""
        if not self.streams:
            return np.empty(0, dtype=np.int64)
        return np.concatenate([s.latencies_ns for s in self.streams])

    @cached_property
    def latency(self) -> LatencyStats:
        """Latency statistics over all streams, in ms."""
        return latency_stats(self.latencies_ns())


def measure(
    make_step: Work,
    *,
    streams: int = 1,
    pinning: str = "core",
    cores: int | None = None,
    warmup: float = 0.5,
    duration: float | None = 2.0,
    iterations: int | None = None,
    smt: bool = False,
    cpus: Sequence[Sequence[int]] | None = None,
    topo: Topology | None = None,
) -> Measurement:
    """Runs ``make_step(i)()`` in a closed loop on ``streams`` pinned native threads.

    ``make_step(i)`` is called once on stream ``i``'s pinned thread and returns the zero-argument
    step that is timed; a ``NativeWork`` (``pinbench.spin(ns)``, ``pinbench.noop()``) runs without
    the GIL. Streams are planned by ``pinning`` over ``cores`` physical cores (all by default),
    unless ``cpus`` gives each stream's CPU set explicitly (an empty set = not pinned).
    ``warmup`` seconds run first, uncounted; then every stream measures until ``duration`` seconds
    have passed (the iteration in flight finishes) or ``iterations`` per stream are done.

    Raises StreamError when a step or factory raises; Ctrl-C ends the run early and returns what
    was measured with ``interrupted=True``.

    Example::

        >>> m = pinbench.measure(pinbench.spin(100_000), streams=1, warmup=0, duration=0.2)
        >>> round(m.latency.median, 1)  # ms  # doctest: +SKIP
        0.1
    """
    from . import _core

    stream_cpus = _stream_cpus(streams, pinning, cores, smt, cpus, topo)
    _check_phases(warmup, duration, iterations)
    raw = _core.run_streams(
        make_step, stream_cpus, float(warmup), float(duration or 0.0), int(iterations or 0)
    )
    return _measurement(raw, stream_cpus, warmup, duration, iterations)


def _stream_cpus(
    streams: int,
    pinning: str,
    cores: int | None,
    smt: bool,
    cpus: Sequence[Sequence[int]] | None,
    topo: Topology | None,
) -> list[list[int]]:
    if cpus is not None:
        if len(cpus) != streams and streams != 1:
            raise UsageError(f"cpus gives {len(cpus)} CPU sets for {streams} streams")
        return [sorted(int(c) for c in s) for s in cpus]
    if not isinstance(streams, int) or streams < 1:
        raise UsageError(f"number of streams must be at least 1, got {streams}")
    plans = plan_streams(topo or topology(), streams, cores=cores, pinning=pinning, smt=smt)
    return [list(p.cpus) for p in plans]


def _check_phases(warmup: float, duration: float | None, iterations: int | None) -> None:
    if not (isinstance(warmup, (int, float)) and math.isfinite(warmup) and warmup >= 0):
        raise UsageError(f"warmup must be a number of seconds >= 0, got {warmup!r}")
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        raise UsageError(f"duration must be a number of seconds > 0, got {duration!r}")
    if iterations is not None and iterations < 1:
        raise UsageError(f"iterations must be at least 1, got {iterations}")
    if duration is None and iterations is None:
        raise UsageError("give a duration, an iteration count, or both")


def _measurement(
    raw: RawRun,
    stream_cpus: list[list[int]],
    warmup: float,
    duration: float | None,
    iterations: int | None,
) -> Measurement:
    if raw.failures:
        stream, phase, iteration, error = raw.failures[0]
        raise StreamError(stream, phase, iteration, error) from error
    streams = [
        StreamMeasurement(
            index=i,
            planned_cpus=tuple(stream_cpus[i]),
            cpus=tuple(raw.cpus[i]),
            thread_id=int(raw.thread_ids[i]),
            starts_ns=raw.starts[i],
            ends_ns=raw.ends[i],
            warmup_iterations=int(raw.warmup_iterations[i]),
        )
        for i in range(len(stream_cpus))
    ]
    return Measurement(
        streams=streams,
        warmup_s=float(warmup),
        duration_s=duration,
        iteration_cap=iterations,
        interrupted=raw.interrupted,
        measure_start_ns=raw.measure_start_ns,
        deadline_ns=raw.deadline_ns if duration is not None else None,
    )


def spin(ns: int) -> NativeWork:
    """A native step that busy-waits ``ns`` nanoseconds, without the GIL (for calibration)."""
    from . import _core

    return _core.NativeWork.spin(int(ns))


def noop() -> NativeWork:
    """A native step that does nothing: what remains is the runner's own cost."""
    from . import _core

    return _core.NativeWork.noop()
