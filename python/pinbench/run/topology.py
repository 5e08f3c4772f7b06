"""The machine as pinbench sees it, and the plan of CPUs per stream.

Example::

    >>> import pinbench
    >>> topo = pinbench.topology()
    >>> [p.cpus for p in pinbench.plan_streams(topo, streams=2)]  # doctest: +SKIP
    [[0], [1]]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ..base.errors import UsageError
from ..settings import PINNING_MODES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._core import StreamPlan, Topology

Pinning = Literal["core", "numa", "none"]


def topology(sysfs_root: str = "/sys", *, allowed: Sequence[int] | None = None) -> Topology:
    """Reads CPUs, physical cores, sockets and NUMA nodes this process may use.

    ``sysfs_root`` points at a sysfs tree (tests use fixture trees); ``allowed`` replaces the
    process's affinity mask. Example: ``pinbench.topology().cores``.
    """
    from .. import _core

    try:
        return _core.read_topology(sysfs_root, list(allowed) if allowed is not None else None)
    except RuntimeError as e:
        raise UsageError(f"cannot read the CPU topology: {e}") from e


def plan_streams(
    topo: Topology,
    streams: int,
    *,
    cores: int | None = None,
    pinning: str = "core",
    smt: bool = False,
) -> list[StreamPlan]:
    """One CPU set per stream, by the rules of docs/design.md's "Pinning"; UsageError for
    impossible requests.

    Example: ``plan_streams(topology(), 2, pinning="core")[1].cpus``.
    """
    from .. import _core

    if pinning not in PINNING_MODES:
        raise UsageError(f"unknown pinning {pinning!r}: expected one of core, numa, none")
    if cores is not None and cores < 1:
        raise UsageError(f"number of cores must be at least 1, got {cores}")
    try:
        return _core.plan_affinity(topo, streams, cores or 0, pinning, smt)
    except ValueError as e:
        raise UsageError(str(e)) from e


def union_cpus(plans: Sequence[StreamPlan]) -> list[int]:
    """All CPUs of the given plans, ascending."""
    return sorted({cpu for p in plans for cpu in p.cpus})


def core_type_of(topo: Topology, cpus: Sequence[int]) -> str | None:
    """The core type of a CPU set on a hybrid CPU (``performance``, ``efficiency``, ``mixed``
    when several), None when no CPU's type is known (not pinned, or cores all alike)."""
    type_of = {c.id: c.core_type for c in topo.cpus}
    types = {type_of.get(c, "") for c in cpus} - {""}
    if not types:
        return None
    return types.pop() if len(types) == 1 else "mixed"
