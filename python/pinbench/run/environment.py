"""The environment record of a run: ``base.system``'s description of the machine, its CPU counts
from the native topology reader, the one the stream planner reads, so that the record and the
plan describe one machine. Example::

    >>> env = capture_environment()
    >>> env.physical_cores >= 1
    True
"""

from __future__ import annotations

from ..base.system import CpuCounts, Environment, read_environment


def capture_environment(*, sysfs_root: str = "/sys", proc_root: str = "/proc") -> Environment:
    """Describe this machine (``base.system.Environment``), reading sysfs and procfs under the
    given roots; never raises for missing or unreadable files."""
    return read_environment(machine_cpus(sysfs_root), sysfs_root=sysfs_root, proc_root=proc_root)


def machine_cpus(sysfs_root: str = "/sys") -> CpuCounts | None:
    """Every online CPU of the machine, allowed to this process or not, as the native reader
    counts them; None when it cannot read the tree (``base.system`` then counts
    ``/proc/cpuinfo``'s)."""
    from .. import _core

    try:
        machine = _core.read_machine_topology(sysfs_root)
    except (RuntimeError, ValueError):  # no readable online list, or a malformed one
        return None
    return CpuCounts(
        online=tuple(machine.online),
        sockets=len(machine.sockets),
        physical_cores=len(machine.cores),
        numa_nodes=len(machine.nodes),
        smt=machine.smt,
    )
