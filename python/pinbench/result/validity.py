"""Whether a run's headline figures can be trusted: one small rule per function.

The verdict judges what the headline figures (throughput, mean, median) can be trusted for. A run
is **valid** when no rule gives a *reason*; *notes* inform without invalidating, and percentiles
with too few samples beyond them are marked *unreliable* on their own, not held against the run.

Reasons (each rule's threshold in its constant):

- ``too_few_iterations``: fewer than ``MIN_ITERATIONS`` (30) measured iterations: too few for a
  mean or a median to mean much, and for the throughput's interval;
- ``unstable``: the throughput over the window's slices (the batch means of its confidence
  interval, ``base.stats``: one slice per second, 10 to 60 of them) varies by ``CV_LIMIT`` (10%,
  pyperf's limit) or more of its mean. The latency's own spread is not used: a small model's
  latency distribution is skewed by nature (a few slow iterations), and that does not make its
  throughput or median less repeatable;
- ``drift``: the throughput over the window's slices (10 a second, 20 to 60) has a monotone trend
  (Mann-Kendall) or its last third differs from its first (Welch's t-test), p below
  ``DRIFT_ALPHA`` (0.01), and the two thirds' means differ by ``DRIFT_LIMIT`` (5%) or more of
  the whole's: the run had not settled (caches, allocator, frequency
  ramps: warm up longer) or something slowed it part-way (thermal limits, a neighbour starting).
  A low CV can hide a slow drift; a trend without size (0.1% over a long window) is no reason;
- ``unstable_repetitions``: with ``-r N``, the throughput varies by ``CV_LIMIT`` or more
  between repetitions (the machine drifted between runs);
- ``interference``: other work took ``INTERFERENCE_LIMIT`` (5%) or more of one group of the
  streams' CPUs during the window, and at least ``INTERFERENCE_MIN_TICKS`` clock ticks
  (``result.interference``: per-CPU counters against this process's own threads);
  A stream alone on one CPU that was preempted ``PREEMPTION_LIMIT`` (100) times a second or more
  (its thread's involuntary context switches over its window, at least ``PREEMPTION_MIN``
  (20) of them; ``result.counters``) is the same reason: something else was runnable on its CPU
  (an interference the CPU-time counters may miss at their 10 ms resolution);
- ``migrated``: a stream pinned to one CPU moved between CPUs during its window
  (``cpu_migrations`` counted on its threads, ``result.counters``): pinning did not hold. Streams
  given several CPUs may move among them by design and are not judged; moves while the run
  itself changed threads' CPU masks in the window (``result.interference``) are the engine's
  doing, and the note ``engine_moved_threads`` instead;
- ``frequency``: the streams' CPUs ran at clock frequencies more than ``FREQUENCY_LIMIT`` (10%)
  apart (their means), or one of them dropped by more than 10% during the window (its lowest
  reading against its first; ``result.frequency``); unknown frequencies give no reason;
- ``clock_resolution``: median latency below 100x the clock's resolution or read overhead
  (whichever is larger): each latency's timing error may then exceed 1%;
- ``smt_siblings``: two streams run on different hardware threads of the same physical core
  (streams given the very same CPUs, as in ``elastic``, share them by design and do not count);
- ``wall_clock``: over the ``measure()`` call, the steady clock's elapsed time and the wall
  clock's differ by more than 1%, or the measured window lies outside that call's steady interval;
- ``gil_bound``: two or more thread streams spent more than ``GIL_SHARE_LIMIT`` (10%) of their
  time in the window waiting for the GIL inside the timed region (their waits over streams x
  window): the GIL, not the engine, limited the run, and latency includes the wait;
  ``--isolation process`` runs each stream in an interpreter of its own. (Each iteration's wait
  also holds the uncontended taking of the GIL, a few tens of ns; a lone stream and worker
  processes are not timed.)
- ``stream_failed``: a stream failed and stopped the run: its figures cover what every stream
  measured until then.

Notes: ``engine_moved_threads`` (see ``migrated``), ``governor`` (the frequency governor is known
and is not ``performance``), ``load_at_start`` (the 1-minute load average exceeded max(1, 0.25
per allowed CPU): it lags by minutes, so it is at most a hint; interference is what was
measured), ``latency_spread`` (latency std >= 10% of the mean: the distribution is wide or
skewed), ``interference_unknown`` (no CPU counters), ``warmup_unsettled`` (``-w auto`` ran to its
bound, ``--warmup-max``, without the throughput settling: ``base.warmup``).

Unreliable percentiles: a percentile p needs ``ceil(10 / (1 - p/100))`` iterations so that at least
10 samples lie beyond it (p90 needs 100, p99 1000, p99.9 10000); one with fewer is marked where it
is shown (console, JSON, plot). Rules whose input is unknown give no reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..base.stats import PERCENTILES
from ..base.system import governor_lets_clocks_vary, load_limit, load_too_high

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ..base.stats import LatencyStats, Trend
    from .counters import Counters
    from .frequency import CpuFrequency, Frequencies
    from .interference import Interference
    from .measurement import Failure, Measurement, Warmup

MIN_ITERATIONS = 30
FREQUENCY_LIMIT = 0.10
CV_LIMIT = 0.10
INTERFERENCE_LIMIT = 0.05
INTERFERENCE_MIN_TICKS = 2
TAIL_SAMPLES = 10
CLOCK_FACTOR = 100.0
WALL_CLOCK_LIMIT = 0.01
GIL_SHARE_LIMIT = 0.10
PREEMPTION_LIMIT = 100.0  # involuntary context switches per second of a stream's window
PREEMPTION_MIN = 20
DRIFT_LIMIT = 0.05
DRIFT_ALPHA = 0.01

RULES: tuple[str, ...] = (
    "too_few_iterations",
    "unstable",
    "drift",
    "unstable_repetitions",
    "interference",
    "migrated",
    "frequency",
    "clock_resolution",
    "smt_siblings",
    "wall_clock",
    "gil_bound",
    "stream_failed",
)
NOTES: tuple[str, ...] = (
    "engine_moved_threads",
    "governor",
    "load_at_start",
    "latency_spread",
    "interference_unknown",
    "frequency_unknown",
    "warmup_unsettled",
)


@dataclass(frozen=True)
class Reason:
    """Why a run may not be trusted (or, as a note, what to know): the rule and one line."""

    rule: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


@dataclass(frozen=True)
class Unreliable:
    """A percentile with fewer than ``needed`` iterations: too few samples lie beyond it."""

    percentile: float
    needed: int


@dataclass(frozen=True)
class Validity:
    """The verdict: valid when there is no reason. Notes and unreliable percentiles inform."""

    reasons: tuple[Reason, ...]
    notes: tuple[Reason, ...] = ()
    unreliable: tuple[Unreliable, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.reasons

    @property
    def verdict(self) -> str:
        return "valid" if self.valid else "invalid"

    def unreliable_at(self, percentile: float) -> bool:
        return any(u.percentile == percentile for u in self.unreliable)

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "reasons": [r.to_dict() for r in self.reasons],
            "notes": [r.to_dict() for r in self.notes],
            "unreliable_percentiles": [
                {"percentile": u.percentile, "needed_iterations": u.needed} for u in self.unreliable
            ],
            "rules_checked": list(RULES),
            "notes_checked": list(NOTES),
        }


# --- the rules -----------------------------------------------------------------------------------


def too_few_iterations(iterations: int, minimum: int = MIN_ITERATIONS) -> list[Reason]:
    if iterations >= minimum:
        return []
    return [
        Reason(
            "too_few_iterations",
            f"{iterations} iterations are too few for the headline figures (at least "
            f"{minimum}): run longer with -t",
        )
    ]


def unstable(throughput_cv: float, limit: float = CV_LIMIT) -> list[Reason]:
    if not (math.isfinite(throughput_cv) and throughput_cv >= limit):
        return []
    return [
        Reason(
            "unstable",
            f"throughput varies by {throughput_cv:.0%} between slices of the window (limit "
            f"{limit:.0%}): the run was not steady",
        )
    ]


def drift(t: Trend | None, limit: float = DRIFT_LIMIT, alpha: float = DRIFT_ALPHA) -> list[Reason]:
    if t is None or not (t.p < alpha and abs(t.change) >= limit):
        return []
    direction = "fell" if t.change < 0 else "rose"
    return [
        Reason(
            "drift",
            f"throughput {direction} by {abs(t.change):.0%} from the window's first third to its "
            f"last (a trend over {t.slices} slices, p = {t.p:.1g}; limit {limit:.0%}): the run "
            "had not settled (warm up longer with -w) or something changed part-way",
        )
    ]


def unstable_repetitions(throughput_cv: float, limit: float = CV_LIMIT) -> list[Reason]:
    if not (math.isfinite(throughput_cv) and throughput_cv >= limit):
        return []
    return [
        Reason(
            "unstable_repetitions",
            f"throughput varies by {throughput_cv:.0%} between repetitions (limit {limit:.0%}): "
            "the machine drifted between runs",
        )
    ]


def interference(
    load: Interference | None,
    limit: float = INTERFERENCE_LIMIT,
    min_ticks: int = INTERFERENCE_MIN_TICKS,
) -> list[Reason]:
    if load is None:
        return []
    hit = [g for g in load.groups if g.other_share >= limit and g.other_ticks >= min_ticks]
    if not hit:
        return []
    parts = ", ".join(
        f"{g.other_share:.0%} of CPU{'s' if len(g.cpus) > 1 else ''} {_cpus(g.cpus)} "
        f"(stream{'s' if len(g.streams) > 1 else ''} {', '.join(map(str, g.streams))})"
        for g in hit
    )
    return [
        Reason(
            "interference",
            f"other work took {parts} during the window (limit {limit:.0%}): the streams shared "
            "their cores",
        )
    ]


def _alone_on_one_cpu(stream_cpus: Sequence[Sequence[int]]) -> list[int]:
    """The streams pinned to one CPU that no other stream shares."""
    return [
        i
        for i, cpus in enumerate(stream_cpus)
        if len(cpus) == 1 and sum(cpus[0] in other for other in stream_cpus) == 1
    ]


def preempted(
    counters: Counters | None,
    stream_cpus: Sequence[Sequence[int]],
    limit: float = PREEMPTION_LIMIT,
    minimum: int = PREEMPTION_MIN,
) -> list[Reason]:
    """Interference seen as preemption: a stream alone on its CPU switched out involuntarily."""
    if counters is None:
        return []
    alone = set(_alone_on_one_cpu(stream_cpus))
    hit = []
    for s in counters.streams:
        count, rate = s.value("involuntary_switches"), s.per_second("involuntary_switches")
        if (
            s.index in alone
            and count is not None
            and rate is not None
            and count >= minimum
            and rate >= limit
        ):
            hit.append(f"stream {s.index} (CPU {stream_cpus[s.index][0]}) {rate:.0f}/s")
    if not hit:
        return []
    return [
        Reason(
            "interference",
            f"preempted during the window: {', '.join(hit)} involuntary context switches (limit "
            f"{limit:.0f}/s): other work was runnable on the streams' CPUs",
        )
    ]


def _moves(counters: Counters | None, stream_cpus: Sequence[Sequence[int]]) -> list[str]:
    """ "stream I N times" for each stream pinned to one CPU whose threads moved."""
    if counters is None:
        return []
    single = {i for i, cpus in enumerate(stream_cpus) if len(cpus) == 1}
    hit = []
    for s in counters.streams:
        moved = s.value("cpu_migrations")
        if s.index in single and moved:
            hit.append(f"stream {s.index} {round(moved)} time{'s' if round(moved) != 1 else ''}")
    return hit


def migrated(counters: Counters | None, stream_cpus: Sequence[Sequence[int]]) -> list[Reason]:
    """A stream pinned to one CPU whose threads moved: pinning did not hold."""
    hit = _moves(counters, stream_cpus)
    if not hit:
        return []
    return [
        Reason(
            "migrated",
            f"pinned streams moved between CPUs during the window: {', '.join(hit)} "
            "(cpu_migrations): pinning did not hold",
        )
    ]


def engine_moved_threads(
    counters: Counters | None, stream_cpus: Sequence[Sequence[int]], load: Interference | None
) -> list[Reason]:
    """Streams that moved while threads of the run had their CPU masks changed in the window:
    the engine re-pinned its own threads (OpenVINO's executor widens a request's thread to the
    node's CPUs and narrows it after), so the moves are the engine's doing, not a failure of
    pinbench's pinning. A note, not a reason: the figures are the engine's as it runs."""
    hit = _moves(counters, stream_cpus)
    if not hit or load is None or not load.remasked_threads:
        return []
    return [
        Reason(
            "engine_moved_threads",
            f"the run changed the CPU masks of {load.remasked_threads} of its threads during the "
            f"window (the engine re-pins its own threads) and streams moved between CPUs: "
            f"{', '.join(hit)}: the engine's threads ran beyond the planned CPUs, as it runs them",
        )
    ]


def frequency(freq: Frequencies | None, limit: float = FREQUENCY_LIMIT) -> list[Reason]:
    if freq is None or not freq.cpus:
        return []
    out = []
    # A hybrid CPU's performance and efficiency cores run at different clocks by design: CPUs
    # are compared with those of their own core type.
    kinds: dict[str, list[CpuFrequency]] = {}
    for c in freq.cpus:
        kinds.setdefault(c.core_type, []).append(c)
    spreads = [
        (min(group, key=lambda c: c.mean_mhz), max(group, key=lambda c: c.mean_mhz))
        for group in kinds.values()
        if len(group) > 1
    ]
    apart = [(lo, hi) for lo, hi in spreads if (hi.mean_mhz - lo.mean_mhz) / hi.mean_mhz > limit]
    if apart:
        lo, hi = max(apart, key=lambda p: 1 - p[0].mean_mhz / p[1].mean_mhz)
        kind = f"{lo.core_type} " if lo.core_type else ""
        out.append(
            Reason(
                "frequency",
                f"the streams' {kind}CPUs ran at different clock frequencies: CPU {lo.cpu} at "
                f"{lo.mean_mhz:.0f} MHz, CPU {hi.cpu} at {hi.mean_mhz:.0f} MHz (more than "
                f"{limit:.0%} apart)",
            )
        )
    dropped = [c for c in freq.cpus if c.first_mhz > 0 and c.min_mhz < c.first_mhz * (1 - limit)]
    if dropped:
        c = max(dropped, key=lambda c: 1 - c.min_mhz / c.first_mhz)
        out.append(
            Reason(
                "frequency",
                f"CPU {c.cpu}'s clock dropped from {c.first_mhz:.0f} to {c.min_mhz:.0f} MHz during "
                f"the window (more than {limit:.0%}): thermal or power limits slowed it",
            )
        )
    return out


def _cpus(cpus: Sequence[int]) -> str:
    return ",".join(map(str, cpus)) if len(cpus) <= 8 else f"{cpus[0]}-{cpus[-1]}"


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


# --- notes ---------------------------------------------------------------------------------------


def governor(environment: Mapping[str, Any]) -> list[Reason]:
    g = environment.get("governor")
    if not governor_lets_clocks_vary(g):
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
    if not load_too_high(float(load[0]), cpus):
        return []
    limit = load_limit(cpus)
    return [
        Reason(
            "load_at_start",
            f"load average was {float(load[0]):.2f} at the start (limit {limit:g} for {cpus} "
            "CPUs): other work may have shared the cores",
        )
    ]


def latency_spread(latency: LatencyStats, limit: float = CV_LIMIT) -> list[Reason]:
    cv = latency.cv
    if not (math.isfinite(cv) and cv >= limit):
        return []
    return [
        Reason(
            "latency_spread",
            f"latency std is {cv:.0%} of the mean: a wide or skewed distribution (the "
            "percentiles describe it; the throughput and the median are judged apart)",
        )
    ]


def warmup_unsettled(warmup: Warmup | None, measured: bool) -> list[Reason]:
    """-w auto ran to its bound without the throughput settling: the window may still be on the
    warmup's slope. A note, not a reason: the window's own stability is judged by ``unstable``."""
    if warmup is None or warmup.mode != "auto" or warmup.settled or not measured:
        return []
    return [
        Reason(
            "warmup_unsettled",
            f"-w auto: the throughput had not settled after {warmup.seconds:.1f} s (its bound, "
            "--warmup-max): the window may still include the warmup's slope",
        )
    ]


# --- unreliable percentiles ----------------------------------------------------------------------


def needed_iterations(p: float, tail: int = TAIL_SAMPLES) -> int:
    """Iterations for ``tail`` samples to lie beyond percentile ``p``: ceil(tail / (1 - p/100))."""
    return math.ceil(round(tail / (1.0 - p / 100.0), 6))


def unreliable_percentiles(
    iterations: int, percentiles: Sequence[float] = PERCENTILES, tail: int = TAIL_SAMPLES
) -> tuple[Unreliable, ...]:
    """The percentiles with fewer than ``tail`` samples beyond them."""
    return tuple(
        Unreliable(p, needed_iterations(p, tail))
        for p in percentiles
        if iterations < needed_iterations(p, tail)
    )


# --- the verdict ---------------------------------------------------------------------------------


def assess(
    m: Measurement,
    lat: LatencyStats,
    clock: Mapping[str, float],
    environment: Mapping[str, Any],
    core_cpus: Sequence[Sequence[int]],
    *,
    throughput_cv: float = math.nan,
    throughput_trend: Trend | None = None,
    load: Interference | None = None,
    freq: Frequencies | None = None,
    counters: Counters | None = None,
) -> Validity:
    """Every rule and note over a finished run's measurement, statistics, clock, environment,
    the spread of its throughput over slices and the interference measured on its CPUs."""
    stream_cpus = [s.cpus for s in m.streams]
    shared = interference(load)
    by_engine = engine_moved_threads(counters, stream_cpus, load)
    reasons = [
        *too_few_iterations(m.iterations),
        *unstable(throughput_cv),
        *drift(throughput_trend),
        *(shared or preempted(counters, stream_cpus)),
        *([] if by_engine else migrated(counters, stream_cpus)),
        *frequency(freq),
        *clock_resolution(lat.median, clock),
        *smt_siblings(stream_cpus, core_cpus),
        *wall_clock(clock, m.window_ns),
        *gil_bound(m.gil_wait_share, m.isolation, len(m.streams)),
        *stream_failed(m.failure),
    ]
    notes = [
        *by_engine,
        *governor(environment),
        *load_at_start(environment),
        *latency_spread(lat),
        *warmup_unsettled(m.warmup, m.measure_start_ns != 0),
    ]
    if freq is None:
        notes.append(
            Reason(
                "frequency_unknown",
                "the CPUs' clock frequency could not be read (no cpufreq, as on most virtual "
                "machines): a frequency drop would go unseen",
            )
        )
    if load is None:
        notes.append(
            Reason(
                "interference_unknown",
                "the CPU counters could not be read: interference on the streams' CPUs is unknown",
            )
        )
    return Validity(tuple(reasons), tuple(notes), unreliable_percentiles(m.iterations))
