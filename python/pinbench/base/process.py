"""This process's own figures: when it started, on the monotonic clock.

Example::

    >>> import time
    >>> 0 <= time.monotonic_ns() - process_start_ns() < 10**13
    True
"""

from __future__ import annotations

import os
import time
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
