"""A sweep run on many hosts: the hosts, the retries and, per model, the best point of each kind
of host. Plain records; ``pinbench.search.fleet`` fills them, the reporters show them.

A host's *kind* is what makes two hosts interchangeable for a benchmark: the same CPU model and
the same CPU count (or the kind the cluster names, see ``docs/fleet.md``). Throughput per core
divides a point's items/s by the physical cores it ran on, so kinds of different sizes compare
(``result.fleet_best``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Host:
    """One host of a fleet, as its probe found it before anything ran."""

    name: str  # unique in the fleet
    kind: str  # hosts of one kind are interchangeable
    cpus: int  # the CPUs a point holds there (all of the host's)
    environment: dict[str, Any]  # the host's environment record (``base.system``)


@dataclass(frozen=True)
class Retry:
    """A point whose task failed on one host and ran again on another (or could not)."""

    point: str  # the point's command, joined
    failed_host: str
    error: str  # why the task failed there (a dead host, a crashed worker)
    retried_on: str | None  # None: no other host of the kind was left


@dataclass(frozen=True)
class KindBest:
    """A model's best point on one kind of host."""

    model: str
    kind: str
    point: int | None  # index into ``Sweep.points``; None: no point of the kind qualifies
    items_per_sec: float
    items_per_sec_per_core: float
    cpu_model: str


@dataclass(frozen=True)
class Fleet:
    """Where a sweep ran: the cluster, the mode, its hosts and what happened to them."""

    backend: str  # ray or slurm
    cluster: str  # as given to --cluster
    mode: str  # spread or every-host
    hosts: tuple[Host, ...]
    retries: tuple[Retry, ...] = ()
    best_by_kind: tuple[KindBest, ...] = ()

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h.kind for h in self.hosts))
