"""This process's own figures: when it started (and whether that was its exec), on the monotonic
clock, and its memory.

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


# How long a process may have been blocked (neither running nor waiting to run) between its fork
# and the call of ``exec_start_ns`` for the fork to stand for its exec: an interpreter starting
# up blocks only on the odd disk read; a shell waiting for a command before ``exec`` blocks for
# that command's whole time.
BLOCKED_ALLOWANCE_NS = 500_000_000


def exec_start_ns(proc_root: str = "/proc") -> int | None:
    """When this process's program began, in CLOCK_MONOTONIC ns, or None when that is unknown.

    Linux records when a process was forked (``process_start_ns``), not when it called exec: a
    shell running ``sleep 2; exec pinbench ...`` or ``sh -c "pip install . && pinbench ..."``
    forks once, runs the commands before, and execs pinbench last in the same process, so its
    start time is the time of the commands before. ``/proc/self/schedstat`` says how long the
    process ran and waited for a CPU since the fork; the rest of the time it was blocked (on a
    child, a sleep, the disk). While that is under ``BLOCKED_ALLOWANCE_NS`` the fork stands for
    the exec, off by at most that and the CPU time of what ran before the exec (a shell's few
    ms); beyond it, or where schedstat cannot be read, None.
    """
    start = process_start_ns(proc_root)
    now = time.monotonic_ns()
    try:
        fields = Path(proc_root, "self", "schedstat").read_text(encoding="ascii").split()
        active = int(fields[0]) + int(fields[1])  # ns on a CPU + ns waiting in its run queue
    except (OSError, ValueError, IndexError):
        return None
    if start >= now:  # the start could not be read: process_start_ns fell back to now
        return None
    blocked = (now - start) - active
    return start if blocked < BLOCKED_ALLOWANCE_NS else None


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


def read_pss(proc_root: str = "/proc") -> int | None:
    """This process's proportional set size in bytes (``Pss`` of ``/proc/self/smaps_rollup``):
    its private pages, plus each shared page divided by the number of processes mapping it, so
    the PSS of several processes adds up without counting a shared library or a page shared
    since a fork twice. None where the kernel does not provide it (before Linux 4.14). It walks
    the page tables: some ms for a large process; call it outside any timed region.
    """
    try:
        for line in (
            Path(proc_root, "self", "smaps_rollup").read_text(errors="replace").splitlines()
        ):
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024  # "Pss:    123456 kB"
    except (OSError, ValueError, IndexError):
        pass
    return None
