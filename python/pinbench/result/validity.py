"""Whether a run's numbers can be trusted: one small rule per function, each returning reasons.

A run is **valid** when no rule gives a reason. The rules and their thresholds:

- ``high_variance``: latency std >= 10% of the mean (pyperf's rule), over all iterations;
- ``too_few_iterations``: a reported percentile p needs ``ceil(10 / (1 - p/100))`` iterations, so
  that at least 10 samples lie beyond it (p99 needs 1000, p99.9 needs 10000);
- ``clock_resolution``: median latency below 100x the clock's resolution or read overhead
  (whichever is larger): each latency's timing error may then exceed 1%;
- ``governor``: the CPU frequency governor is known and is not ``performance``;
- ``load_at_start``: the 1-minute load average at the start exceeds max(1, 0.25 per allowed CPU)
  (the threshold of ``system.warnings_for``);
- ``smt_siblings``: two streams run on different hardware threads of the same physical core
  (streams given the very same CPUs, as in ``elastic``, share them by design and do not count);
- ``wall_clock``: over the ``measure()`` call, the steady clock's elapsed time and the wall
  clock's differ by more than 1%, or the measured window lies outside that call's steady interval;
- ``gil_bound``: two or more thread streams spent more than 10% of their time in the window
  waiting for the GIL inside the timed region (their waits over streams x window): the GIL, not
  the engine, limited the run, and latency includes the wait; ``--isolation process`` runs each
  stream in an interpreter of its own. (Each iteration's wait also holds the uncontended taking
  of the GIL, a few tens of ns; a lone stream and worker processes are not timed.)
- ``stream_failed``: a stream failed and stopped the run: its figures cover what every stream
  measured until then.

Rules whose input is unknown (no cpufreq, no readings) give no reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..base.stats import PERCENTILES
from ..base.system import LOAD_PER_CPU_LIMIT

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ..base.stats import LatencyStats
    from .measurement import Failure, Measurement

CV_LIMIT = 0.10
TAIL_SAMPLES = 10
CLOCK_FACTOR = 100.0
WALL_CLOCK_LIMIT = 0.01
GIL_SHARE_LIMIT = 0.10

RULES: tuple[str, ...] = (
    "high_variance",
    "too_few_iterations",
    "clock_resolution",
    "governor",
    "load_at_start",
    "smt_siblings",
    "wall_clock",
    "gil_bound",
    "stream_failed",
)


@dataclass(frozen=True)
class Reason:
    """Why a run may not be trusted: the rule's name and one line for a person."""

    rule: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


@dataclass(frozen=True)
class Validity:
    """The verdict: valid when there is no reason."""

    reasons: tuple[Reason, ...]

    @property
    def valid(self) -> bool:
        return not self.reasons

    @property
    def verdict(self) -> str:
        return "valid" if self.valid else "invalid"

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "reasons": [r.to_dict() for r in self.reasons],
            "rules_checked": list(RULES),
        }


# --- the rules -----------------------------------------------------------------------------------


def high_variance(latency: LatencyStats, limit: float = CV_LIMIT) -> list[Reason]:
    cv = latency.cv
    if math.isfinite(cv) and cv >= limit:
        return [
            Reason(
                "high_variance",
                f"latency std is {cv:.0%} of the mean (limit {limit:.0%}): the run is unstable",
            )
        ]
    return []


def needed_iterations(p: float, tail: int = TAIL_SAMPLES) -> int:
    """Iterations for ``tail`` samples to lie beyond percentile ``p``: ceil(tail / (1 - p/100))."""
    return math.ceil(round(tail / (1.0 - p / 100.0), 6))


def too_few_iterations(
    iterations: int, percentiles: Sequence[float] = PERCENTILES, tail: int = TAIL_SAMPLES
) -> list[Reason]:
    short = [p for p in percentiles if iterations < needed_iterations(p, tail)]
    if not short:
        return []
    names = ", ".join(f"p{p:g} ({needed_iterations(p, tail)})" for p in short)
    return [
        Reason(
            "too_few_iterations",
            f"{iterations} iterations are too few for {names}: a percentile needs {tail} "
            "samples beyond it; run longer with -t",
        )
    ]


def clock_resolution(
    median_ms: float, clock: Mapping[str, float], factor: float = CLOCK_FACTOR
) -> list[Reason]:
    grain = max(float(clock.get("resolution_ns", 0.0)), float(clock.get("overhead_ns", 0.0)))
    if grain <= 0 or not math.isfinite(median_ms) or median_ms * 1e6 >= factor * grain:
        return []
    return [
        Reason(
            "clock_resolution",
            f"median latency {median_ms * 1e6:.0f} ns is below {factor:g}x the clock's "
            f"resolution/overhead ({grain:.0f} ns): timing error may exceed {100 / factor:g}%",
        )
    ]


def governor(environment: Mapping[str, Any]) -> list[Reason]:
    g = environment.get("governor")
    if g is None or g == "performance":
        return []
    what = "differs between CPUs" if g == "mixed" else f"is '{g}'"
    return [
        Reason(
            "governor",
            f"CPU frequency governor {what}, not 'performance': clock speeds may vary",
        )
    ]


def load_at_start(environment: Mapping[str, Any]) -> list[Reason]:
    load = environment.get("load_average") or [0.0]
    cpus = len(environment.get("allowed_cpus") or [])
    limit = max(1.0, LOAD_PER_CPU_LIMIT * cpus)
    if not cpus or float(load[0]) <= limit:
        return []
    return [
        Reason(
            "load_at_start",
            f"load average was {float(load[0]):.2f} at the start (limit {limit:g} for {cpus} "
            "CPUs): other work may have shared the cores",
        )
    ]


def smt_siblings(
    stream_cpus: Sequence[Sequence[int]], core_cpus: Sequence[Sequence[int]]
) -> list[Reason]:
    core_of = {cpu: i for i, core in enumerate(core_cpus) for cpu in core}
    shared: list[str] = []
    for i, a in enumerate(stream_cpus):
        for j in range(i + 1, len(stream_cpus)):
            b = stream_cpus[j]
            if set(a) == set(b):
                continue  # the same CPUs on purpose (elastic, unpinned): not SMT sharing
            ca = {core_of[c] for c in set(a) - set(b) if c in core_of}
            cb = {core_of[c] for c in set(b) - set(a) if c in core_of}
            if ca & cb:
                shared.append(f"{i} and {j}")
    if not shared:
        return []
    return [
        Reason(
            "smt_siblings",
            f"streams {', '.join(shared)} run on sibling hardware threads of the same physical "
            "core: they slow each other",
        )
    ]


def wall_clock(
    clock: Mapping[str, float],
    window_ns: tuple[int, int] | None,
    limit: float = WALL_CLOCK_LIMIT,
) -> list[Reason]:
    keys = ("wall_start_ns", "wall_end_ns", "steady_start_ns", "steady_end_ns")
    if not all(k in clock for k in keys):
        return []
    wall = float(clock["wall_end_ns"]) - float(clock["wall_start_ns"])
    steady = float(clock["steady_end_ns"]) - float(clock["steady_start_ns"])
    if steady <= 0:
        return [Reason("wall_clock", "the steady clock did not advance during the run")]
    error = abs(wall - steady) / steady
    if error > limit:
        return [
            Reason(
                "wall_clock",
                f"the steady clock measured {steady / 1e9:.3f} s where the wall clock measured "
                f"{wall / 1e9:.3f} s ({error:.1%} apart, limit {limit:.0%})",
            )
        ]
    if window_ns is not None and not (
        clock["steady_start_ns"] <= window_ns[0] <= window_ns[1] <= clock["steady_end_ns"]
    ):
        return [Reason("wall_clock", "the measured window lies outside the run's steady interval")]
    return []


def gil_bound(
    share: float | None, isolation: str, streams: int, limit: float = GIL_SHARE_LIMIT
) -> list[Reason]:
    if isolation != "thread" or streams < 2 or share is None or not share > limit:
        return []
    return [
        Reason(
            "gil_bound",
            f"the {streams} streams waited for the GIL {share:.0%} of their time (limit "
            f"{limit:.0%}): the GIL limited the run; run each stream in a process of its own "
            "with --isolation process",
        )
    ]


def stream_failed(failure: Failure | None) -> list[Reason]:
    if failure is None:
        return []
    return [
        Reason(
            "stream_failed",
            f"stream {failure.stream} failed ({failure.phase}, iteration {failure.iteration}): "
            f"{failure.message}; the figures cover what was measured until the run stopped",
        )
    ]


# --- the verdict ---------------------------------------------------------------------------------


def assess(
    m: Measurement,
    lat: LatencyStats,
    clock: Mapping[str, float],
    environment: Mapping[str, Any],
    core_cpus: Sequence[Sequence[int]],
) -> Validity:
    """Every rule over a finished run's measurement, statistics, clock and environment."""
    reasons = [
        *high_variance(lat),
        *too_few_iterations(m.iterations),
        *clock_resolution(lat.median, clock),
        *governor(environment),
        *load_at_start(environment),
        *smt_siblings([s.cpus for s in m.streams], core_cpus),
        *wall_clock(clock, m.window_ns),
        *gil_bound(m.gil_wait_share, m.isolation, len(m.streams)),
        *stream_failed(m.failure),
    ]
    return Validity(tuple(reasons))
