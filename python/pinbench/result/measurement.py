"""What a run measured: per-stream samples (start and end of every iteration, steady-clock ns),
exact totals, and the statistics over them. Plain records, built by ``pinbench.run.measure``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from ..base.stats import LatencyStats, latency_stats

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray


@dataclass(frozen=True)
class Totals:
    """Exact figures over every measured iteration of a stream, stored as a sample or not."""

    count: int
    sum_ns: int
    sum_sq_ns: float
    min_ns: int
    max_ns: int
    first_ns: int  # first start (closed loop) or first arrival served (open loop)
    last_ns: int  # last end


@dataclass(frozen=True)
class Failure:
    """The stream failure that stopped a run: where, and the error in one line."""

    stream: int
    phase: str  # pin | factory | warmup | measure | start (a worker process not yet running)
    iteration: int  # 0-based within the phase; -1 for pin, factory and start
    message: str  # "TypeName: message"


@dataclass(frozen=True)
class Warmup:
    """The warmup that ran: ``fixed`` seconds (-w N), or ``auto`` (-w auto): until the
    throughput of successive slices settled (``base.warmup``), at most ``bound_s`` seconds."""

    mode: str  # fixed | auto
    bound_s: float  # fixed: its length; auto: the most it may last (--warmup-max)
    seconds: float  # from the warmup's start to the measured window's; 0 when it never began
    iterations: int  # warmup calls finished, across streams
    slice_s: float | None = None  # auto: the shortest slice judged
    slices: tuple[float, ...] = ()  # auto: each slice's calls per second, across streams
    settled: bool | None = None  # auto: ended because it settled (False: it ran to its bound)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mode": self.mode,
            "bound_seconds": self.bound_s,
            "seconds": self.seconds,
            "iterations": self.iterations,
        }
        if self.mode == "auto":
            out["slice_seconds"] = self.slice_s
            out["slices"] = list(self.slices)
            out["settled"] = self.settled
        return out


@dataclass(frozen=True)
class StreamMeasurement:
    """One stream's measured iterations: start and end in steady-clock ns.

    ``starts_ns``/``ends_ns`` hold every iteration unless ``max_samples`` capped them: then they
    are a uniform random sample (in time order) and ``totals`` keeps count, sum, min and max exact.
    In the open loop ``scheduled_ns`` holds each iteration's arrival, and latency counts from it.
    """

    index: int
    planned_cpus: tuple[int, ...]  # what the plan asked for; empty = not pinned
    cpus: tuple[int, ...]  # the affinity read back on the stream thread after pinning
    thread_id: int  # kernel thread id of the stream thread
    starts_ns: NDArray[np.int64]
    ends_ns: NDArray[np.int64]
    warmup_iterations: int
    totals: Totals
    scheduled_ns: NDArray[np.int64] | None = None
    abandoned: bool = False  # its step never returned (iteration timeout)
    # Measured phase: ns the step waited inside the timed region before its work began (a Python
    # step: for the GIL, from the iteration's start until it held the GIL), summed. None: not
    # timed (a lone Python stream, or one in a worker process: nothing contends for its GIL).
    step_wait_ns: int | None = 0
    pid: int = 0  # the process that ran the stream (a worker's, with process isolation)
    # Its counters over its window, as the core read them (result.counters); () when off
    counters: tuple[tuple[str, bool, int, bool, int, int, int], ...] = ()

    @property
    def iterations(self) -> int:
        return self.totals.count

    @property
    def sampled(self) -> bool:
        """True when the stored samples are a subset of the iterations (max_samples)."""
        return self.starts_ns.size < self.totals.count

    @property
    def latencies_ns(self) -> NDArray[np.int64]:
        """Latency of each stored iteration: end - start, or end - arrival in the open loop."""
        origin = self.scheduled_ns if self.scheduled_ns is not None else self.starts_ns
        return self.ends_ns - origin

    @property
    def late_ns(self) -> NDArray[np.int64] | None:
        """Open loop: how late each stored iteration started after its arrival."""
        return None if self.scheduled_ns is None else self.starts_ns - self.scheduled_ns

    @cached_property
    def latency(self) -> LatencyStats:
        """Latency statistics of this stream, in ms (exact mean/std/min/max when sampled)."""
        return merged_stats([self])


@dataclass(frozen=True)
class Measurement:
    """What measure() measured. The window is [first start, last end] over all streams."""

    streams: list[StreamMeasurement]
    warmup_s: float
    duration_s: float | None
    iteration_cap: int | None
    interrupted: bool
    interrupt: str | None  # the exception a signal handler raised (KeyboardInterrupt, ...)
    measure_start_ns: int  # when the measure barrier released the streams (0 if never)
    deadline_ns: int | None
    arrivals_issued: int | None = None  # open loop: arrivals served
    arrivals_dropped: int | None = None  # open loop: due before the deadline, never served
    isolation: str = "thread"  # thread: streams share this interpreter; process: a worker each
    counters: str = "off"  # the counters asked for: off | software | all | auto
    failure: Failure | None = None  # the failure that stopped the run (then it is partial)
    extra: dict[str, Any] = field(default_factory=dict)  # worker_reports: each worker's report
    warmup_start_ns: int = 0  # when every factory had returned and the warmup began (0: never)
    # Calls per unit (a generation request): the runner never cut one, so every stream's
    # samples are whole units; an open loop's arrival is one unit.
    calls_per_unit: int = 1
    warmup: Warmup | None = None  # what the warmup did (None: a record made before -w auto)

    @property
    def phase_reached(self) -> str:
        """How far the run got: "start" (the streams' engine instances and inputs were being
        made), "warmup", or "measure"."""
        if self.measure_start_ns:
            return "measure"
        return "warmup" if self.warmup_start_ns else "start"

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
            min(s.totals.first_ns for s in measured),
            max(s.totals.last_ns for s in measured),
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

    @property
    def gil_wait_share(self) -> float | None:
        """The share of the streams' time in the window spent waiting for the GIL inside the
        timed region: every stream's wait over (streams x window); None when nothing finished or
        the waits were not timed."""
        s = self.seconds
        waits = [st.step_wait_ns for st in self.streams]
        if s <= 0 or not waits or None in waits:
            return None
        return sum(w or 0 for w in waits) / 1e9 / (s * len(waits))

    def latencies_ns(self) -> NDArray[np.int64]:
        """Every stream's latencies, concatenated in stream order."""
        if not self.streams:
            return np.empty(0, dtype=np.int64)
        return np.concatenate([s.latencies_ns for s in self.streams])

    @cached_property
    def latency(self) -> LatencyStats:
        """Latency statistics over all streams, in ms (exact mean/std/min/max when sampled)."""
        return merged_stats(self.streams)


def merged_stats(streams: Sequence[StreamMeasurement]) -> LatencyStats:
    """Exact statistics from the samples, unless some were capped: then count, mean, std, min
    and max come from the exact totals and the percentiles from the samples, each stream's
    weighted by the iterations it stands for."""
    latencies = [s.latencies_ns for s in streams]
    if not any(s.sampled for s in streams):
        return latency_stats(np.concatenate(latencies) if latencies else np.empty(0, np.int64))
    count = sum(s.totals.count for s in streams)
    if count == 0:
        return latency_stats(np.empty(0, np.int64))
    mean = sum(s.totals.sum_ns for s in streams) / count
    var = max(0.0, sum(s.totals.sum_sq_ns for s in streams) / count - mean * mean)
    weights = np.concatenate(
        [
            np.full(s.latencies_ns.size, s.totals.count / max(1, s.latencies_ns.size))
            for s in streams
        ]
    )
    base = latency_stats(np.concatenate(latencies))
    wanted = tuple(base.percentiles)
    pct = _weighted_percentiles(np.concatenate(latencies), weights, (*wanted, 50.0))
    return LatencyStats(
        count=count,
        mean=mean / 1e6,
        median=pct[50.0],
        std=math.sqrt(var) / 1e6,
        min=min(s.totals.min_ns for s in streams if s.totals.count) / 1e6,
        max=max(s.totals.max_ns for s in streams if s.totals.count) / 1e6,
        percentiles={p: pct[p] for p in wanted},
    )


def _weighted_percentiles(
    values_ns: NDArray[np.int64], weights: NDArray[np.float64], percentiles: tuple[float, ...]
) -> dict[float, float]:
    """Percentiles (ms) of weighted samples, interpolating linearly on the weighted ranks."""
    order = np.argsort(values_ns, kind="stable")
    v = values_ns[order].astype(np.float64) / 1e6
    w = weights[order]
    ranks = (np.cumsum(w) - w / 2) / w.sum() * 100.0
    return {p: float(np.interp(p, ranks, v)) for p in percentiles}
