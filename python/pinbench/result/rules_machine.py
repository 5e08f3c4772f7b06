"""The verdict's rules on the machine the run shared: other work on the streams' CPUs (measured,
or seen as preemption), pinning that did not hold, clock frequencies apart or dropping, streams on
sibling hardware threads, the clock's resolution and its agreement with the wall clock; the notes
on moves the engine made, the frequency governor and the load at the start. Each rule's threshold
is its constant here (``validity`` describes them all).

    >>> from pinbench.result.rules_machine import smt_siblings
    >>> [r.rule for r in smt_siblings([[0], [1]], [[0, 1]])]
    ['smt_siblings']
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..base.system import governor_lets_clocks_vary, load_limit, load_too_high
from .validity_record import Reason

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from .counters import Counters
    from .frequency import CpuFrequency, Frequencies
    from .interference import Interference

INTERFERENCE_LIMIT = 0.05
INTERFERENCE_MIN_TICKS = 2
PREEMPTION_LIMIT = 100.0  # involuntary context switches per second of a stream's window
PREEMPTION_MIN = 20
# The least other work the CPU counters must see on a preempted stream's CPU for the preemptions to
# count: a quiet --isolation process run here is switched out 76-116 times a second by the run's
# own threads (the worker's and the parent's), with 0-1% other work measured.
PREEMPTION_CORROBORATION = 0.02
FREQUENCY_LIMIT = 0.10
CLOCK_FACTOR = 100.0
WALL_CLOCK_LIMIT = 0.01


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
    load: Interference | None = None,
    limit: float = PREEMPTION_LIMIT,
    minimum: int = PREEMPTION_MIN,
) -> list[Reason]:
    """Interference seen as preemption: a stream alone on its CPU switched out involuntarily at
    ``limit`` a second or more, where the CPU counters (``load``) cannot say (unknown) or saw
    other work there too, if less than the interference rule's limit. Preemption alone is no
    proof: the run's own threads preempt its streams as well."""
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
            and _other_work_seen(load, s.index)
        ):
            hit.append(f"stream {s.index} (CPU {stream_cpus[s.index][0]}) {rate:.0f}/s")
    if not hit:
        return []
    return [
        Reason(
            "interference",
            f"preempted during the window: {', '.join(hit)} involuntary context switches (limit "
            f"{limit:.0f}/s) with other work on its CPU: other work was runnable on the streams' "
            "CPUs",
        )
    ]


def _other_work_seen(load: Interference | None, stream: int) -> bool:
    """Whether the CPU counters are unknown, or saw at least PREEMPTION_CORROBORATION of other
    work on the CPUs of ``stream``."""
    if load is None:
        return True
    return any(
        stream in g.streams and g.other_share >= PREEMPTION_CORROBORATION for g in load.groups
    )


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
