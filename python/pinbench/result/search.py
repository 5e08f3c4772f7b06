"""What the searches tried and found: ``-nstreams auto``'s probes, ``--find-qps``'s trials and a
sweep's grid. Plain records; ``pinbench.search`` fills them, the reporters show them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .record import Result

TIE_TOLERANCE = 0.03  # auto streams: fewer streams preferred within this share of the best
QPS_TOLERANCE = 0.02  # find-qps: bisection ends when the bounds are this close
QPS_MAX_TRIALS = 10
QPS_HEADROOM = 1.1  # find-qps: the search's upper bound, times the closed-loop capacity


@dataclass(frozen=True)
class StreamProbe:
    """One candidate of ``-nstreams auto``, as measured by its probe."""

    num_streams: int
    cores_per_stream: tuple[int, ...]  # engine threads of each stream
    items_per_sec: float
    iterations: int
    seconds: float
    median_ms: float
    p99_ms: float
    isolation: str = "thread"  # thread streams, or a worker process per stream
    gil_wait_share: float | None = None  # the streams' share of time waiting for the GIL


@dataclass(frozen=True)
class StreamTuning:
    """What ``-nstreams auto`` tried and chose."""

    probes: tuple[StreamProbe, ...]
    chosen: int  # the number of streams chosen
    probe_seconds: float
    warmup_seconds: float
    tolerance: float = TIE_TOLERANCE
    chosen_isolation: str = "thread"  # the isolation of the chosen probe

    @property
    def best_probe(self) -> StreamProbe:
        return next(
            p
            for p in self.probes
            if p.num_streams == self.chosen and p.isolation == self.chosen_isolation
        )

    def reason(self) -> str:
        p = self.best_probe
        how = " in worker processes" if p.isolation == "process" else ""
        return (
            f"auto: {p.num_streams} stream(s) of {cores_label(p.cores_per_stream)} core(s){how} "
            f"had the highest throughput in {len(self.probes)} probes of {self.probe_seconds:g} s "
            f"({p.items_per_sec:.1f} items/s)"
        )


def cores_label(threads: tuple[int, ...]) -> str:
    """``2`` when every stream has 2 cores, ``1-2`` when they differ."""
    lo, hi = min(threads), max(threads)
    return str(lo) if lo == hi else f"{lo}-{hi}"


@dataclass(frozen=True)
class QpsTrial:
    """One server run of the rate search."""

    qps: float
    seconds: float
    qps_achieved: float
    latency_ms: float  # at the search's percentile, queueing included
    median_ms: float
    issued: int
    dropped: int
    meets: bool


@dataclass(frozen=True)
class QpsSearch:
    """What ``--find-qps`` tried and found, and how the final run at the best rate did."""

    latency_slo_ms: float
    percentile: float
    capacity_qps: float  # closed-loop queries/s of the same streams
    trials: tuple[QpsTrial, ...]
    best_qps: float | None
    tolerance: float = QPS_TOLERANCE
    max_trials: int = QPS_MAX_TRIALS
    final_latency_ms: float | None = None  # the final -t run's percentile latency
    final_meets: bool | None = None  # whether that run met the target with nothing dropped


@dataclass(frozen=True)
class SweepPoint:
    """One configuration of a sweep's grid, as measured."""

    batch_size: int
    num_streams: int
    items_per_sec: float
    latency_ms: float  # at the sweep's percentile
    median_ms: float
    iterations: int
    valid: bool
    result: Result | None = field(default=None, compare=False, repr=False)

    def label(self) -> str:
        return f"b{self.batch_size} s{self.num_streams}"


@dataclass(frozen=True)
class Sweep:
    """A finished sweep: the points in grid order, the frontier and the best point (indices)."""

    model: str
    scenario: str
    percentile: float
    latency_slo_ms: float | None
    points: tuple[SweepPoint, ...]
    frontier: tuple[int, ...]  # by increasing latency
    best: int | None  # None: no point meets the target
    seconds: float = 0.0  # -t of each point
    timestamp: str = ""
    command_line: tuple[str, ...] = ()
