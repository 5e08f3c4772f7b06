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
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from ..base.errors import Interrupted, UsageError
from ..base.signals import take_latched
from ..base.warmup import WarmupJudge
from ..result.measurement import Failure, Measurement, StreamMeasurement, Totals, Warmup
from ..settings import AUTO, COUNTER_MODES, ISOLATION_MODES, MAX_SECONDS, WARMUP_MAX_S
from .isolation import run_in_processes
from .topology import plan_streams, topology

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .._core import NativeWork, RunnerConfig, RunResult, Topology

StepFactory = Callable[[int], Callable[[], Any]]
Work = Union[StepFactory, "NativeWork"]


class StreamError(RuntimeError):
    """A step or step factory raised in one stream; every stream was stopped.

    The original exception is chained as ``__cause__``; ``stream``, ``phase`` ("pin", "factory",
    "warmup" or "measure"; "start" for a worker process that had not reached its stream loop)
    and ``iteration`` (0-based within the phase, -1 for pin, factory and start) say where.
    ``partial`` is what every stream had measured when the run stopped (its ``failure`` set).
    """

    def __init__(
        self,
        stream: int,
        phase: str,
        iteration: int,
        error: BaseException,
        partial: Measurement | None = None,
    ) -> None:
        super().__init__(
            f"stream {stream} failed {failure_place(phase, iteration)}: "
            f"{type(error).__name__}: {error}"
        )
        self.stream = stream
        self.phase = phase
        self.iteration = iteration
        self.error = error
        self.partial = partial


def failure_place(phase: str, iteration: int) -> str:
    """``at iteration 50 (measure)``, ``in its factory``."""
    return f"at iteration {iteration} ({phase})" if iteration >= 0 else f"in its {phase}"


def measure(
    make_step: Work,
    *,
    streams: int = 1,
    pinning: str = "core",
    cores: int | None = None,
    warmup: float | str = 0.5,
    duration: float | None = 2.0,
    iterations: int | None = None,
    smt: bool = False,
    cpus: Sequence[Sequence[int]] | None = None,
    topo: Topology | None = None,
    max_samples: int | None = None,
    iteration_timeout: float | None = None,
    arrivals_ns: NDArray[np.int64] | None = None,
    drain: float | None = None,
    seed: int = 0,
    isolation: str = "thread",
    calls_per_unit: int = 1,
    warmup_max: float = WARMUP_MAX_S,
    on_measure: Callable[[], object] | None = None,
    counters: str = "off",
) -> Measurement:
    """Runs ``make_step(i)()`` in a closed loop on ``streams`` pinned native threads.

    ``make_step(i)`` is called once on stream ``i``'s pinned thread and returns the zero-argument
    step that is timed; a ``NativeWork`` (``pinbench.spin(ns)``, ``pinbench.noop()``) runs without
    the GIL. Streams are planned by ``pinning`` over ``cores`` physical cores (all by default),
    unless ``cpus`` gives each stream's CPU set explicitly (an empty set = not pinned).
    ``warmup`` seconds run first, uncounted; then every stream measures until ``duration`` seconds
    have passed (the iteration in flight finishes) or ``iterations`` per stream are done.
    ``warmup="auto"`` warms up until the throughput of successive slices settles
    (``pinbench.base.warmup``), at most ``warmup_max`` seconds; ``Measurement.warmup`` records
    what either kind of warmup did.

    ``max_samples`` caps the samples stored per stream (16 bytes each, 24 in the open loop):
    past it a uniform reservoir is kept and the totals stay exact. ``iteration_timeout`` seconds:
    a step running longer ends the run with StreamError (cause TimeoutError); its thread is left
    behind until the step returns. ``arrivals_ns`` (ascending ns offsets from the measure start)
    switches to the open loop: the streams serve the arrivals as a queue, latency counts from each
    arrival, and arrivals still queued ``drain`` seconds after the deadline are dropped.

    ``calls_per_unit`` K > 1: the step's calls come in units of K (a generation request: its
    prefill and its decode calls) that the warmup and the window never cut; each call is a
    sample, and ``iterations`` and ``max_samples`` are rounded up to whole units. In the open
    loop an arrival is one unit: its first call's latency counts from the arrival (its
    ``scheduled_ns``), each later call's from its own start.

    ``isolation="process"`` runs each stream in a worker process of its own (its own interpreter,
    so no GIL is shared; see ``pinbench.run.isolation``): ``make_step`` must then be importable by
    name (a module-level function or class) or picklable, else UsageError; it is called in the
    worker, on its pinned stream thread. A worker that dies (a signal, ``os._exit``) fails its
    stream like a step that raises (the cause is a ``WorkerDied``); one past ``iteration_timeout``
    is killed.

    ``counters`` (off, software, all, auto): what each stream counts (``result.counters``).

    ``on_measure()``, when given, is called once on the calling thread within a poll interval
    (20 ms) of the measured window's start, with thread isolation (e.g. to say so in the log).

    Raises StreamError when a step or factory raises; Ctrl-C ends the run early and returns what
    was measured with ``interrupted=True``; a signal the command line latched before the run
    (``pinbench.base.signals``) raises Interrupted without starting it.

    Example::

        >>> m = pinbench.measure(pinbench.spin(100_000), streams=1, warmup=0, duration=0.2)
        >>> round(m.latency.median, 1)  # ms  # doctest: +SKIP
        0.1
    """
    from .. import _core

    stream_cpus = _stream_cpus(streams, pinning, cores, smt, cpus, topo)
    judge = WarmupJudge() if warmup == AUTO else None
    bound = warmup_max if judge is not None else warmup
    _check_phases(bound, duration, iterations)
    if judge is not None and not (isinstance(warmup_max, (int, float)) and warmup_max > 0):
        raise UsageError(f"warmup_max must be a number of seconds > 0, got {warmup_max!r}")
    _check_limits(max_samples, iteration_timeout, arrivals_ns is not None and duration is None,
                  isolation, calls_per_unit)  # fmt: skip
    assert not isinstance(bound, str)  # _check_phases
    config = _runner_config(
        stream_cpus, bound, duration, iterations, max_samples, iteration_timeout, seed
    )
    _set_units_and_counters(config, calls_per_unit, counters)
    if arrivals_ns is not None:
        config.mode = _core.LoopMode.open
        config.arrivals_ns = np.asarray(arrivals_ns, dtype=np.int64)
        config.drain_s = float(duration if drain is None and duration else drain or 0.0)
    latched = take_latched()
    if latched:  # a signal whose exception was swallowed before the run: it ends the run still
        raise Interrupted(latched, "start")
    raw, extra = _run(make_step, config, judge, on_measure, isolation)
    take_latched()  # the runner caught it (raw.interrupt), or it is being raised now
    open_loop = arrivals_ns is not None
    return _measurement(raw, stream_cpus, bound, duration, iterations, open_loop, isolation,
                        judge, calls_per_unit, counters, extra)  # fmt: skip


def _run(
    work: Work,
    config: RunnerConfig,
    judge: WarmupJudge | None,
    on_measure: Callable[[], object] | None,
    isolation: str,
) -> tuple[RunResult, dict[str, Any]]:
    """The run on threads or in worker processes, and what only workers send (their reports and
    memory, as ``Measurement.extra`` holds them)."""
    from .. import _core

    if isolation == "process":
        return run_in_processes(work, config, judge)
    return _core.run_streams(work, config, judge, on_measure), {}


def _runner_config(
    stream_cpus: list[list[int]],
    warmup: float,
    duration: float | None,
    iterations: int | None,
    max_samples: int | None,
    iteration_timeout: float | None,
    seed: int,
) -> RunnerConfig:
    from .. import _core

    config = _core.RunnerConfig()
    config.stream_cpus = stream_cpus
    config.warmup_s = float(warmup)
    config.duration_s = float(duration or 0.0)
    config.max_iterations = int(iterations or 0)
    config.max_samples = int(max_samples or 0)
    config.iteration_timeout_s = float(iteration_timeout or 0.0)
    config.seed = int(seed)
    return config


def _set_units_and_counters(config: RunnerConfig, unit: int, counters: str) -> None:
    """The caps in whole units of ``unit`` calls; the core's counter set for ``counters`` (auto
    opens every event and keeps those the machine has)."""
    if counters not in COUNTER_MODES:
        raise UsageError(f"counters must be one of {', '.join(COUNTER_MODES)}, got {counters!r}")
    config.counters = "all" if counters == AUTO else counters
    config.calls_per_unit = unit
    config.max_iterations = _whole_units(config.max_iterations, unit)
    config.max_samples = _whole_units(config.max_samples, unit)


def _whole_units(count: int, unit: int) -> int:
    """``count`` rounded up to a multiple of ``unit`` (0 stays 0: no cap)."""
    return -(-count // unit) * unit


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


def _check_limits(
    max_samples: int | None,
    iteration_timeout: float | None,
    open_without_duration: bool,
    isolation: str,
    calls_per_unit: int,
) -> None:
    if max_samples is not None and max_samples < 1:
        raise UsageError(f"max_samples must be at least 1, got {max_samples}")
    if iteration_timeout is not None and not 0 < iteration_timeout <= MAX_SECONDS:
        raise UsageError(f"iteration timeout must be more than 0 s, got {iteration_timeout}")
    if open_without_duration:
        raise UsageError("the open loop (arrivals) needs a duration")
    if isolation not in ISOLATION_MODES:
        raise UsageError(f"isolation must be thread or process, got {isolation!r}")
    if type(calls_per_unit) is not int or calls_per_unit < 1:
        raise UsageError(f"calls_per_unit must be a positive integer, got {calls_per_unit!r}")


def _check_phases(warmup: object, duration: float | None, iterations: int | None) -> None:
    if not (isinstance(warmup, (int, float)) and math.isfinite(warmup) and warmup >= 0):
        raise UsageError(f"warmup must be a number of seconds >= 0 or 'auto', got {warmup!r}")
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        raise UsageError(f"duration must be a number of seconds > 0, got {duration!r}")
    if max(warmup, duration or 0.0) > MAX_SECONDS:
        raise UsageError(f"warmup and duration must be at most {MAX_SECONDS:g} s (int64 ns)")
    if iterations is not None and iterations < 1:
        raise UsageError(f"iterations must be at least 1, got {iterations}")
    if duration is None and iterations is None:
        raise UsageError("give a duration, an iteration count, or both")


def _measurement(
    raw: RunResult,
    stream_cpus: list[list[int]],
    warmup: float,
    duration: float | None,
    iterations: int | None,
    open_loop: bool,
    isolation: str,
    judge: WarmupJudge | None = None,
    calls_per_unit: int = 1,
    counters: str = "off",
    extra: dict[str, Any] | None = None,
) -> Measurement:
    streams = [_stream(raw, i, stream_cpus[i], open_loop) for i in range(len(stream_cpus))]
    failure = None
    if raw.failures:
        stream, phase, iteration, error = raw.failures[0]
        failure = Failure(stream, phase, iteration, f"{type(error).__name__}: {error}")
    m = Measurement(
        streams=streams,
        warmup_s=float(warmup),
        duration_s=duration,
        iteration_cap=iterations,
        interrupted=raw.interrupted,
        interrupt=type(raw.interrupt).__name__ if raw.interrupt is not None else None,
        measure_start_ns=raw.measure_start_ns,
        warmup_start_ns=raw.warmup_start_ns,
        deadline_ns=raw.deadline_ns if duration is not None else None,
        arrivals_issued=raw.arrivals_issued if open_loop else None,
        arrivals_dropped=raw.arrivals_dropped if open_loop else None,
        isolation=isolation,
        failure=failure,
        extra=extra or {},
        calls_per_unit=calls_per_unit,
        warmup=_warmup(raw, streams, warmup, judge),
        counters=counters,
    )
    if raw.failures:
        stream, phase, iteration, error = raw.failures[0]
        raise StreamError(stream, phase, iteration, error, partial=m) from error
    return m


def _warmup(
    raw: RunResult,
    streams: list[StreamMeasurement],
    bound: float,
    judge: WarmupJudge | None,
) -> Warmup:
    began, ended = raw.warmup_start_ns, raw.measure_start_ns
    return Warmup(
        mode="fixed" if judge is None else AUTO,
        bound_s=float(bound),
        seconds=(ended - began) / 1e9 if began and ended else 0.0,
        iterations=sum(s.warmup_iterations for s in streams),
        slice_s=None if judge is None else judge.rule.slice_s,
        slices=() if judge is None else tuple(judge.rates),
        settled=None if judge is None else judge.settled,
    )


def _stream(raw: RunResult, i: int, planned: list[int], open_loop: bool) -> StreamMeasurement:
    starts, ends, scheduled = raw.starts[i], raw.ends[i], raw.scheduled[i]
    totals = Totals(*raw.totals[i])
    if starts.size < totals.count:
        # A reservoir is in no particular order: put the samples back in time order.
        order = np.argsort(starts, kind="stable")
        starts, ends = starts[order], ends[order]
        scheduled = scheduled[order] if open_loop else scheduled
    return StreamMeasurement(
        index=i,
        planned_cpus=tuple(planned),
        cpus=tuple(raw.cpus[i]),
        thread_id=int(raw.thread_ids[i]),
        starts_ns=starts,
        ends_ns=ends,
        warmup_iterations=int(raw.warmup_iterations[i]),
        totals=totals,
        scheduled_ns=scheduled if open_loop else None,
        abandoned=bool(raw.abandoned[i]),
        step_wait_ns=int(raw.step_wait_ns[i]) if raw.step_wait_ns[i] >= 0 else None,
        pid=int(raw.pids[i]),
        counters=tuple(tuple(r) for r in raw.counters[i]),  # type: ignore[misc]
    )


def spin(ns: int) -> NativeWork:
    """A native step that busy-waits ``ns`` nanoseconds, without the GIL (for calibration)."""
    from .. import _core

    return _core.NativeWork.spin(int(ns))


def noop() -> NativeWork:
    """A native step that does nothing: what remains is the runner's own cost."""
    from .. import _core

    return _core.NativeWork.noop()
