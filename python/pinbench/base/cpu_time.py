"""CPU time from procfs: how busy each CPU was, and how much of it this process's threads took.

Counters are in clock ticks (``USER_HZ``, 100 per second on Linux): ``/proc/stat`` per CPU, and
``/proc/self/task/<tid>/stat`` per thread of this process. A CPU's busy time counts user, nice,
system, irq, softirq and steal (a hypervisor running someone else is interference too); idle and
iowait are not busy. Every reader returns what it could read and never raises: a missing file
(not Linux, a sandbox) gives empty readings, and the figures built on them say "unknown".
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .system import parse_cpu_list

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# /proc/stat "cpuN" columns: user nice system idle iowait irq softirq steal guest guest_nice.
# guest time is already counted in user; the busy ones are every column but idle and iowait.
_BUSY_COLUMNS = (0, 1, 2, 5, 6, 7)


@dataclass(frozen=True)
class CpuReading:
    """One reading of every counter, at ``t_ns`` on the runner's steady clock."""

    t_ns: int
    busy: dict[int, int]  # CPU -> busy ticks since boot
    process: int  # utime + stime ticks of this process, its ended threads included
    threads: dict[int, int] = field(default_factory=dict)  # tid -> utime + stime ticks
    mhz: dict[int, float] | None = None  # CPU -> current frequency, when read at this reading


def read_cpu_busy(proc_root: str = "/proc") -> dict[int, int]:
    """Busy ticks of every CPU since boot, from ``/proc/stat``."""
    try:
        text = (Path(proc_root) / "stat").read_text()
    except OSError:
        return {}
    out: dict[int, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or name == "cpu":
            continue
        try:
            values = [int(v) for v in rest.split()]
            out[int(name[3:])] = sum(values[i] for i in _BUSY_COLUMNS if i < len(values))
        except ValueError:
            continue
    return out


def read_process_ticks(proc_root: str = "/proc") -> int:
    """utime + stime ticks of this process: every thread, those that ended included."""
    try:
        text = (Path(proc_root) / "self" / "stat").read_text()
    except OSError:
        return 0
    return _ticks_of_stat(text)


def _ticks_of_stat(text: str) -> int:
    # The command name (field 2) may hold spaces and parentheses: fields follow its last ')'.
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    except (IndexError, ValueError):
        return 0


def read_thread_ticks(proc_root: str = "/proc") -> dict[int, int]:
    """utime + stime ticks of every thread of this process."""
    task_dir = Path(proc_root) / "self" / "task"
    try:
        tids = [int(t.name) for t in task_dir.iterdir()]
    except (OSError, ValueError):
        return {}
    out: dict[int, int] = {}
    for tid in tids:
        try:
            out[tid] = _ticks_of_stat((task_dir / str(tid) / "stat").read_text())
        except OSError:
            continue  # the thread ended between the listing and the read
    return out


def thread_affinity(tid: int, proc_root: str = "/proc") -> list[int] | None:
    """The CPUs a thread of this process may run on; None when it cannot be read."""
    try:
        text = (Path(proc_root) / "self" / "task" / str(tid) / "status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("Cpus_allowed_list:"):
            try:
                return parse_cpu_list(line.split(":", 1)[1])
            except ValueError:
                return None
    return None
