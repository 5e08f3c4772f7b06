"""Interference: the CPU time that other work took on the streams' CPUs during the window.

For each group of CPUs the streams were pinned to (unpinned streams: every CPU), over the readings
that bracket the measured window (the last one before its start, the first one after its end):

    other = busy ticks of those CPUs - ticks of this process's threads that may only run there
            - a share of this process's other threads' ticks

Busy time is user, nice, system, irq, softirq and steal (``base.cpu_time``); ``other`` is what other
processes, the kernel, and a hypervisor (steal) took from the streams. "This process" includes
its worker processes (``--isolation process``), their threads and, once reaped, their totals.
A thread "may only run there" when every CPU mask it had during the bracket lies within the group
(OpenVINO widens a stream thread's mask while it runs a request, many times a second: such a
thread counts as floating). Floating threads' time goes to the groups in proportion to the busy
time their pinned threads leave unexplained: it could have run on any of them, and this is the
share that leaves the least time unexplained, so a quiet run is not judged busy by the way its
own work was spread. Threads that ended before the last reading (the streams' own) are counted
through the process's total, which keeps them: that time goes first to the groups of the threads
seen to end, up to what is still unexplained there, the rest in the same proportion. The total
over all groups is exact either way; only its split between groups is an estimate. Shares are of
the bracket's length
times the group's CPUs; the resolution is one clock tick (10 ms), so short windows are coarse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..base.cpu_time import TICKS_PER_SECOND

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ..base.cpu_time import CpuReading


@dataclass(frozen=True)
class CpuGroupLoad:
    """How busy one group of stream CPUs was, and who kept it busy, as shares of its capacity."""

    cpus: tuple[int, ...]
    streams: tuple[int, ...]  # the streams pinned to exactly these CPUs
    busy_share: float
    own_share: float  # this process's threads
    other_share: float  # everything else: interference
    other_ticks: int


@dataclass(frozen=True)
class Interference:
    """Interference over the window, per group of stream CPUs."""

    groups: tuple[CpuGroupLoad, ...]
    seconds: float  # the bracket's length (at least the window's)
    bracket_ns: tuple[int, int]
    ticks_per_second: int = TICKS_PER_SECOND
    # threads of the run whose CPU mask changed during the bracket: the engine (or a step)
    # re-pinned them, as OpenVINO's executor does around each request
    remasked_threads: int = 0

    @property
    def worst(self) -> CpuGroupLoad | None:
        return max(self.groups, key=lambda g: g.other_share, default=None)


def measure_interference(
    readings: Sequence[CpuReading],
    affinity: Mapping[int, Sequence[tuple[int, Sequence[int]]]],
    window_ns: tuple[int, int] | None,
    stream_cpus: Sequence[Sequence[int]],
) -> Interference | None:
    """The interference over ``window_ns``; None when the counters could not be read.
    ``affinity``: tid -> (steady ns from which, CPUs), the masks each thread had in time order."""
    if window_ns is None or len(readings) < 2 or not readings[0].busy:
        return None
    start = max(
        (r for r in readings if r.t_ns <= window_ns[0]), key=lambda r: r.t_ns, default=readings[0]
    )
    end = min(
        (r for r in readings if r.t_ns >= window_ns[1]), key=lambda r: r.t_ns, default=readings[-1]
    )
    seconds = (end.t_ns - start.t_ns) / 1e9
    if seconds <= 0:
        return None
    inside = [r for r in readings if start.t_ns <= r.t_ns <= end.t_ns]
    every_cpu = tuple(sorted(start.busy))
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, cpus in enumerate(stream_cpus):
        groups.setdefault(tuple(sorted(cpus)) or every_cpu, []).append(i)
    own, unattributed, ended = _own_ticks(inside, start, end, affinity, list(groups))
    lost = max(0, end.process - start.process - sum(own.values()) - unattributed)
    busy = {g: sum(end.busy.get(c, 0) - start.busy.get(c, 0) for c in g) for g in groups}
    unexplained = {g: max(0.0, busy[g] - own[g]) for g in groups}
    floating = _fill(unattributed, unexplained, set())
    unexplained = {g: max(0.0, unexplained[g] - floating[g]) for g in groups}
    # Time no reading attributed (threads that ended between readings, or unseen: a Python step
    # that holds the GIL through each call can keep the sampler from reading at all while the
    # streams live) is still this run's own, the process's total says so. It goes where busy
    # time is left unexplained by what was seen: first to the groups of the threads seen to
    # end, up to what they leave unexplained; the rest to every group in proportion to what it
    # leaves unexplained (by the CPUs when none does). Other work is what it cannot explain.
    extra = _fill(lost, unexplained, ended)
    loads = []
    for cpus, streams in groups.items():
        capacity = seconds * TICKS_PER_SECOND * len(cpus)
        mine = own[cpus] + floating[cpus] + extra[cpus]
        other = max(0.0, busy[cpus] - mine)
        loads.append(
            CpuGroupLoad(
                cpus,
                tuple(streams),
                busy[cpus] / capacity,
                min(mine, busy[cpus]) / capacity,
                other / capacity,
                round(other),
            )
        )
    remasked = sum(
        1 for history in affinity.values() if _changed_during(history, start.t_ns, end.t_ns)
    )
    return Interference(tuple(loads), seconds, (start.t_ns, end.t_ns), remasked_threads=remasked)


def _fill(
    lost: float, unexplained: dict[tuple[int, ...], float], first: set[tuple[int, ...]]
) -> dict[tuple[int, ...], float]:
    """``lost`` ticks given out: to the groups in ``first``, in proportion to and at most their
    ``unexplained`` ticks; what is left to every group in proportion to what it still leaves
    unexplained, else by its CPUs."""
    out = dict.fromkeys(unexplained, 0.0)
    room = sum(unexplained[g] for g in first)
    if room > 0:
        for g in first:
            out[g] = min(unexplained[g], lost * unexplained[g] / room)
    left = lost - sum(out.values())
    rest = {g: unexplained[g] - out[g] for g in unexplained}
    total = sum(rest.values())
    cpus = sum(len(g) for g in unexplained)
    for g in unexplained:
        out[g] += left * (rest[g] / total if total > 0 else len(g) / cpus)
    return out


def _own_ticks(
    inside: Sequence[CpuReading],
    start: CpuReading,
    end: CpuReading,
    affinity: Mapping[int, Sequence[tuple[int, Sequence[int]]]],
    groups: Sequence[tuple[int, ...]],
) -> tuple[dict[tuple[int, ...], int], int, set[tuple[int, ...]]]:
    """Ticks of this process's threads during the bracket: per group (threads that may run only
    on its CPUs), the rest, and the groups of the threads that ended before the last reading
    (what they ran after their own last reading is in the process's total only). A thread's
    last reading stands for its total."""
    last: dict[int, int] = {}
    for r in inside:
        last.update(r.threads)
    own = dict.fromkeys(groups, 0)
    ended: set[tuple[int, ...]] = set()
    rest = 0
    for tid, ticks in last.items():
        delta = ticks - start.threads.get(tid, 0)
        allowed = masks_during(affinity.get(tid, ()), start.t_ns, end.t_ns)
        home = [g for g in groups if allowed and allowed <= set(g)]
        if not home:
            rest += delta
            continue
        group = min(home, key=len)
        own[group] += delta
        if tid not in end.threads:
            ended.add(group)
    return own, rest, ended


def masks_during(
    history: Sequence[tuple[int, Sequence[int]]], start_ns: int, end_ns: int
) -> set[int]:
    """Every CPU of the masks a thread had between ``start_ns`` and ``end_ns``: the one in force
    at the start (the last read before it) and each read after it up to the end; a thread first
    seen after the end has its first mask."""
    before = [cpus for t, cpus in history if t <= start_ns][-1:]
    during = [cpus for t, cpus in history if start_ns < t <= end_ns]
    masks = before + during or [cpus for _, cpus in history[:1]]
    return {c for cpus in masks for c in cpus}


def _changed_during(
    history: Sequence[tuple[int, Sequence[int]]], start_ns: int, end_ns: int
) -> bool:
    """Whether a thread's mask changed between ``start_ns`` and ``end_ns`` (its first mask,
    read when it was first seen, is no change)."""
    return any(start_ns < t <= end_ns for t, _ in history[1:])
