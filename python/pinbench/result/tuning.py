"""What a run searched for before it measured: ``-nstreams auto``'s probes and ``--find-qps``'s
trials. Plain records that ``RunConfig`` holds; ``pinbench.search`` fills them, the reporters show
them. Example::

    >>> describe_target(99, 20, None, None)
    'p99 <= 20 ms'
"""

from __future__ import annotations

from dataclasses import dataclass

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
    runner_up: int | None = None  # the next best number of streams
    within_noise: bool = False  # the runner-up's 95% interval overlaps the chosen one's
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
    latency_ms: float  # at the search's percentile, queueing included (a request's, end to end)
    median_ms: float
    issued: int
    dropped: int
    meets: bool
    # -s generate: each request's time to first token (from its arrival) and time per output
    # token, at the search's percentile
    ttft_ms: float | None = None
    tpot_ms: float | None = None
    # runs at this rate set aside before this one: each missed the target beside other work on
    # the streams' CPUs (the verdict's interference), which says nothing of the rate
    disturbed: int = 0


@dataclass(frozen=True)
class QpsSearch:
    """What ``--find-qps`` tried and found, and how the final run at the best rate did."""

    latency_slo_ms: float | None  # None when the targets are on tokens (-s generate)
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
    ttft_slo_ms: float | None = None  # -s generate's targets, at ``percentile``
    tpot_slo_ms: float | None = None

    @property
    def target(self) -> str:
        return describe_target(
            self.percentile, self.latency_slo_ms, self.ttft_slo_ms, self.tpot_slo_ms
        )


def describe_target(
    percentile: float, latency_ms: float | None, ttft_ms: float | None, tpot_ms: float | None
) -> str:
    """A rate search's targets in words.

    >>> describe_target(99, None, 2000, 100)
    'p99 TTFT <= 2000 ms, p99 TPOT <= 100 ms'
    """
    p = f"p{percentile:g}"
    pairs = (("", latency_ms), (" TTFT", ttft_ms), (" TPOT", tpot_ms))
    return ", ".join(f"{p}{label} <= {slo:g} ms" for label, slo in pairs if slo is not None)
