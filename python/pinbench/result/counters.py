"""What the CPU did in each stream's measured window: the counters the native core opened on the
stream's thread (``csrc/core/counters.h``), scaled, per inference, as IPC, with the notes that
say why an event is missing.

Software events (always, unless ``--counters off``): ``task_clock`` (ns on a CPU),
``context_switches``, ``cpu_migrations``, ``minor_faults``, ``major_faults``, and the stream
thread's own ``voluntary_switches`` and ``involuntary_switches`` (getrusage). Hardware events
(``--counters all``, and ``auto`` where the PMU allows): ``cycles``, ``instructions``,
``cache_references``, ``cache_misses``, ``llc_load_misses``, ``branch_misses``. The perf events
count the stream thread and every thread it started after they were opened (an engine's pool);
the two switch kinds count the stream thread alone.

A multiplexed event (the PMU had fewer counters than events) is scaled by time enabled / time
running, as ``perf stat`` does, and said so.

Example::

    >>> c = counters_of("auto", raw_per_stream, iterations, window_s)  # doctest: +SKIP
    >>> c.streams[0].ipc, c.totals["cpu_migrations"]  # doctest: +SKIP
"""

from __future__ import annotations

import errno
import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

# (name, hardware, errno, user_only, value, enabled_ns, running_ns): as the core hands it over
RawReading = tuple[str, bool, int, bool, int, int, int]

SOFTWARE_EVENTS: tuple[str, ...] = (
    "task_clock",
    "context_switches",
    "cpu_migrations",
    "minor_faults",
    "major_faults",
    "voluntary_switches",
    "involuntary_switches",
)
HARDWARE_EVENTS: tuple[str, ...] = (
    "cycles",
    "instructions",
    "cache_references",
    "cache_misses",
    "llc_load_misses",
    "branch_misses",
)


@dataclass(frozen=True)
class Event:
    """One event of one stream over its window."""

    name: str
    hardware: bool
    error: int  # errno of the open; 0 = counted
    user_only: bool
    raw: int
    enabled_ns: int
    running_ns: int

    @property
    def counted(self) -> bool:
        return self.error == 0 and (self.running_ns > 0 or self.enabled_ns == 0)

    @property
    def multiplexed(self) -> bool:
        return self.counted and 0 < self.running_ns < self.enabled_ns

    @property
    def value(self) -> float | None:
        """The count over the window: raw * enabled / running when multiplexed; None when it was
        not counted."""
        if not self.counted:
            return None
        if self.multiplexed:
            return self.raw * self.enabled_ns / self.running_ns
        return float(self.raw)


@dataclass(frozen=True)
class StreamCounters:
    """One stream's events, and its figures per inference."""

    index: int
    events: tuple[Event, ...]
    iterations: int
    window_s: float  # the stream's own measured span

    def value(self, name: str) -> float | None:
        return next((e.value for e in self.events if e.name == name), None)

    def per_inference(self, name: str) -> float | None:
        v = self.value(name)
        return v / self.iterations if v is not None and self.iterations else None

    def per_second(self, name: str) -> float | None:
        v = self.value(name)
        return v / self.window_s if v is not None and self.window_s > 0 else None

    @property
    def ipc(self) -> float | None:
        return _ratio(self.value("instructions"), self.value("cycles"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream": self.index,
            "iterations": self.iterations,
            "seconds": self.window_s,
            "ipc": self.ipc,
            "events": {e.name: e.value for e in self.events},
            "per_inference": {e.name: self.per_inference(e.name) for e in self.events},
            "multiplexed": {
                e.name: e.running_ns / e.enabled_ns for e in self.events if e.multiplexed
            },
        }


@dataclass(frozen=True)
class Counters:
    """Every stream's counters, their totals, what was asked and opened, and the notes."""

    asked: str  # off | software | all | auto
    streams: tuple[StreamCounters, ...]
    notes: tuple[str, ...] = ()
    totals: dict[str, float] = field(default_factory=dict)  # over streams, counted events only

    @property
    def opened(self) -> tuple[str, ...]:
        """The events counted on every stream."""
        names = [e.name for e in self.streams[0].events] if self.streams else []
        return tuple(n for n in names if all(s.value(n) is not None for s in self.streams))

    @property
    def iterations(self) -> int:
        return sum(s.iterations for s in self.streams)

    @property
    def ipc(self) -> float | None:
        return _ratio(self.totals.get("instructions"), self.totals.get("cycles"))

    def per_inference(self, name: str) -> float | None:
        v = self.totals.get(name)
        return v / self.iterations if v is not None and self.iterations else None

    def to_dict(self) -> dict[str, Any]:
        """``pinbench.counters``."""
        return {
            "asked": self.asked,
            "opened": list(self.opened),
            "notes": list(self.notes),
            "ipc": self.ipc,
            "totals": dict(self.totals),
            "per_inference": {n: self.per_inference(n) for n in self.totals},
            "streams": [s.to_dict() for s in self.streams],
        }


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def counters_of(
    asked: str,
    raw: Sequence[Sequence[RawReading]],
    iterations: Sequence[int],
    seconds: Sequence[float],
    paranoid: int | None = None,
) -> Counters | None:
    """The Counters of a run from the core's readings per stream; None when none were asked
    for (or no stream reached its window). ``paranoid`` is kernel.perf_event_paranoid, for the
    notes."""
    if asked == "off" or not any(raw):
        return None
    streams = tuple(
        StreamCounters(i, tuple(Event(*r) for r in readings), n, s)
        for i, (readings, n, s) in enumerate(zip(raw, iterations, seconds))
        if readings
    )
    totals: dict[str, float] = {}
    for name in [e.name for e in streams[0].events]:
        values = [s.value(name) for s in streams]
        if values and all(v is not None for v in values):
            totals[name] = math.fsum(v for v in values if v is not None)
    return Counters(asked, streams, counter_notes(asked, streams, paranoid), totals)


_NOT_PERMITTED = (errno.EACCES, errno.EPERM)
_NO_PMU = (errno.ENOENT, errno.EOPNOTSUPP, errno.ENODEV)


def counter_notes(
    asked: str, streams: Sequence[StreamCounters], paranoid: int | None
) -> tuple[str, ...]:
    """One line per kind of trouble, each naming its events (stream 0's: every stream opens
    the same set)."""
    if not streams:
        return ()
    events = streams[0].events
    notes = []
    setting = f"kernel.perf_event_paranoid = {paranoid}" if paranoid is not None else (
        "kernel.perf_event_paranoid")  # fmt: skip
    refused = [e.name for e in events if e.error in _NOT_PERMITTED]
    if refused:
        # Kernel-side events need paranoid <= 1; user-space hardware events <= 2.
        need = 1 if any(not e.hardware for e in events if e.error in _NOT_PERMITTED) else 2
        if paranoid is not None:
            need = min(need, paranoid - 1)
        notes.append(
            f"{', '.join(refused)} not permitted by {setting}: set it to {need} or lower "
            f"(sysctl -w kernel.perf_event_paranoid={need}) or grant CAP_PERFMON"
        )
    absent = [e.name for e in events if e.hardware and e.error in _NO_PMU]
    if absent and asked != "software":
        notes.append(
            f"no hardware PMU (as in most virtual machines): {', '.join(absent)} not counted"
        )
    other = [e for e in events if e.error and e.error not in _NOT_PERMITTED + _NO_PMU]
    if other:
        reason = os_error(other[0].error)
        notes.append(f"{', '.join(e.name for e in other)} could not be opened: {reason}")
    user = [e.name for e in events if e.user_only]
    if user:
        notes.append(
            f"{', '.join(user)} counted in user space only ({setting}): the kernel's share "
            "of the work is left out"
        )
    shares = [e.running_ns / e.enabled_ns for s in streams for e in s.events if e.multiplexed]
    if shares:
        notes.append(
            f"hardware events multiplexed (on the PMU {min(shares):.0%} of the time at least): "
            "scaled by time enabled / time running"
        )
    return tuple(notes)


def os_error(code: int) -> str:
    """``ENOSYS (Function not implemented)``."""
    return f"{errno.errorcode.get(code, str(code))} ({os.strerror(code)})"


def migrations(c: Counters | None, stream: int) -> int | None:
    """How many times ``stream``'s threads moved between CPUs in the window; None: not counted."""
    if c is None:
        return None
    s = next((s for s in c.streams if s.index == stream), None)
    v = s.value("cpu_migrations") if s is not None else None
    return None if v is None else round(v)
