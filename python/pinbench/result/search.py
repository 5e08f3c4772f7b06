"""What the searches tried and found: ``-nstreams auto``'s probes, ``--find-qps``'s trials and a
sweep's grid. Plain records; ``pinbench.search`` fills them, the reporters show them."""

from __future__ import annotations

import math
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
    items_per_sec_ci: tuple[float, float] = (float("nan"), float("nan"))


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True when two intervals share a point (False when either is unknown)."""
    if not all(map(math.isfinite, (*a, *b))):
        return False
    return a[0] <= b[1] and b[0] <= a[1]


def runner_up(values: list[float], best: int, eligible: list[int]) -> int | None:
    """The index of the highest value after ``best`` among ``eligible`` (None without one)."""
    rest = [i for i in eligible if i != best and math.isfinite(values[i])]
    return max(rest, key=lambda i: values[i], default=None)


@dataclass(frozen=True)
class StreamTuning:
    """What ``-nstreams auto`` tried and chose."""

    probes: tuple[StreamProbe, ...]
    chosen: int  # the number of streams chosen
    probe_seconds: float
    warmup_seconds: float
    tolerance: float = TIE_TOLERANCE
    runner_up: int | None = None  # the next best number of streams
    within_noise: bool = False  # the runner-up's 95% interval overlaps the chosen one's

    @property
    def best_probe(self) -> StreamProbe:
        return next(p for p in self.probes if p.num_streams == self.chosen)

    def reason(self) -> str:
        p = self.best_probe
        return (
            f"auto: {p.num_streams} stream(s) of {cores_label(p.cores_per_stream)} core(s) had "
            f"the highest throughput in {len(self.probes)} probes of {self.probe_seconds:g} s "
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
    final_latency_ms: float | None = None  # the reported run's percentile latency
    final_meets: bool | None = None  # whether the last confirmation met the target
    confirmations: tuple[QpsTrial, ...] = ()  # full -t runs at the answer (and below it)
    confirmed: bool = False  # best_qps held in every confirmation run at it


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
    runner_up: int | None = None  # the next fastest point meeting the target
    within_noise: bool = False  # its 95% interval overlaps the best one's
    timestamp: str = ""
    command_line: tuple[str, ...] = ()
