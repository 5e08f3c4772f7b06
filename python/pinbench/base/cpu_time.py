"""CPU time from procfs: how busy each CPU was, and how much of it this process's threads took.

Counters are in clock ticks (``USER_HZ``, 100 per second on Linux): ``/proc/stat`` per CPU, and
``/proc/self/task/<tid>/stat`` per thread of this process. "This run's own work" is this process
and its child processes (the worker processes of ``--isolation process``): their threads are read
from ``/proc/<pid>/task``, and a child that ended and was reaped leaves its time in this process's
``cutime``/``cstime``, so the total moves from one to the other without a gap. A CPU's busy time
counts user, nice, system, irq, softirq and steal (a hypervisor running someone else is
interference too); idle and iowait are not busy. Every reader returns what it could read and never
raises: a missing file (not Linux, a sandbox) gives empty readings, and the figures built on them
say "unknown".
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
    # utime + stime ticks of this process and its child processes, ended threads and reaped
    # children included
    process: int
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


WORKER_MODULE = "pinbench.run.worker"  # the command line of a worker process names it


def read_children(proc_root: str = "/proc", marker: str = WORKER_MODULE) -> list[int]:
    """The process ids of this process's children whose command line holds ``marker`` (the
    worker processes of ``--isolation process``; other children, such as a load the caller
    started, stay other work), from every thread's ``children`` file (the native supervisor's
    thread starts the workers); [] when none or unreadable."""
    root = Path(proc_root)
    found: set[int] = set()
    try:
        tasks = list((root / "self" / "task").iterdir())
    except OSError:
        return []
    for task in tasks:
        try:
            found.update(int(p) for p in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    out = []
    for pid in sorted(found):
        try:
            if marker.encode() in (root / str(pid) / "cmdline").read_bytes():
                out.append(pid)
        except OSError:
            continue
    return out


def read_process_ticks(proc_root: str = "/proc", children: list[int] | None = None) -> int:
    """utime + stime ticks of this process (every thread, those that ended included) and of
    its children: the reaped ones (``cutime`` + ``cstime``) and ``children`` still running."""
    try:
        text = (Path(proc_root) / "self" / "stat").read_text()
    except OSError:
        return 0
    total = _ticks_of_stat(text, reaped=True)
    for pid in children or ():
        try:
            total += _ticks_of_stat((Path(proc_root) / str(pid) / "stat").read_text(), reaped=True)
        except OSError:
            continue  # it ended between the listing and the read: its time is in cutime next
    return total


def _ticks_of_stat(text: str, *, reaped: bool = False) -> int:
    # The command name (field 2) may hold spaces and parentheses: fields follow its last ')'.
    fields = text[text.rfind(")") + 2 :].split()
    try:
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        if reaped:
            ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: children waited for
        return ticks
    except (IndexError, ValueError):
        return 0


def read_thread_ticks(
    proc_root: str = "/proc", children: list[int] | None = None
) -> dict[int, int]:
    """utime + stime ticks of every thread of this process and of its ``children``."""
    out: dict[int, int] = {}
    for owner in ("self", *map(str, children or ())):
        task_dir = Path(proc_root) / owner / "task"
        try:
            tids = [int(t.name) for t in task_dir.iterdir()]
        except (OSError, ValueError):
            continue
        for tid in tids:
            try:
                out[tid] = _ticks_of_stat((task_dir / str(tid) / "stat").read_text())
            except OSError:
                continue  # the thread ended between the listing and the read
    return out


def thread_affinity(tid: int, proc_root: str = "/proc") -> list[int] | None:
    """The CPUs a thread of this process, or of a child process, may run on; None when it
    cannot be read."""
    if proc_root == "/proc":
        # One system call, not a file read and parse: the sampler asks for every thread's mask
        # at every reading, and a big machine has hundreds of threads.
        try:
            return sorted(os.sched_getaffinity(tid))
        except OSError:
            return None
    try:
        text = (Path(proc_root) / "self" / "task" / str(tid) / "status").read_text()
    except OSError:
        try:  # a child's thread: /proc/<tid> names any thread of the system
            text = (Path(proc_root) / str(tid) / "status").read_text()
        except OSError:
            return None
    for line in text.splitlines():
        if line.startswith("Cpus_allowed_list:"):
            try:
                return parse_cpu_list(line.split(":", 1)[1])
            except ValueError:
                return None
    return None
