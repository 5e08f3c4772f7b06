"""This process's own figures: when it started, on the monotonic clock, and its memory.

Example::

    >>> import time
    >>> 0 <= time.monotonic_ns() - process_start_ns() < 10**13
    True
    >>> m = read_memory()
    >>> 0 < m.rss_bytes <= m.peak_bytes
    True
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path


def process_start_ns(proc_root: str = "/proc") -> int:
    """When this process started, in CLOCK_MONOTONIC ns (``time.monotonic_ns()``'s clock).

    Linux records a process's start in clock ticks since boot (``/proc/self/stat``, field 22;
    10 ms resolution at the usual 100 ticks a second), on the boot-time clock, which also
    counts suspended time; its distance to now on that clock is taken back from now on the
    monotonic one. Where that cannot be read, the time of this call.
    """
    now = time.monotonic_ns()
    try:
        stat = Path(proc_root, "self", "stat").read_text(encoding="ascii", errors="replace")
        # The command name (field 2) may hold spaces and parentheses: count after its last ")".
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        ticks = os.sysconf("SC_CLK_TCK")
        since_boot = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
    except (OSError, ValueError, IndexError, AttributeError):
        return now
    age = since_boot - start_ticks * 1_000_000_000 // ticks
    return now - age if age >= 0 else now


@dataclass(frozen=True)
class MemoryReading:
    """The process's resident memory now and at its peak so far, in bytes (None: unreadable)."""

    rss_bytes: int | None  # VmRSS of /proc/self/status
    peak_bytes: int | None  # the high-water mark: getrusage's ru_maxrss (VmHWM where it is higher)


def read_memory(proc_root: str = "/proc") -> MemoryReading:
    """This process's resident set size now and its peak since it started.

    The peak is ``getrusage(RUSAGE_SELF).ru_maxrss`` (KiB on Linux), or ``/proc/self/status``'s
    ``VmHWM`` where that is higher (the same mark, kept by the kernel per address space); the
    current size is ``VmRSS``. Both count every thread of the process. A read costs some tens of
    microseconds; thread-safe.
    """
    status: dict[str, int] = {}
    try:
        for line in Path(proc_root, "self", "status").read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                status[key] = int(value.split()[0]) * 1024  # "  123456 kB"
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if "VmHWM" in status:
        peak = max(peak, status["VmHWM"])
    return MemoryReading(status.get("VmRSS"), peak if peak > 0 else None)
