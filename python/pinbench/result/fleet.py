"""A sweep run on many hosts: the hosts, the retries and, per model, the best point of each kind
of host. Plain records; ``pinbench.search.fleet`` fills them, the reporters show them.

A host's *kind* is what makes two hosts interchangeable for a benchmark: the same CPU model and
the same CPU count (or the kind the cluster names, see ``docs/fleet.md``). Throughput per core
divides a point's items/s by the physical cores it ran on, so kinds of different sizes compare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .search import SweepPoint


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


def per_core(point: SweepPoint[Any]) -> float:
    """Items/s per physical core the point ran on (NaN without figures)."""
    if point.num_cores <= 0 or not math.isfinite(point.items_per_sec):
        return math.nan
    return point.items_per_sec / point.num_cores


def best_by_kind(
    points: Sequence[SweepPoint[Any]],
    models: Sequence[str],
    hosts: Sequence[Host],
    slo_ms: float | None = None,
) -> tuple[KindBest, ...]:
    """Per model and kind of host, the highest throughput among the points measured to the end
    (under ``slo_ms`` when given; ties: the lower latency)."""
    cpu = {h.kind: str(h.environment.get("cpu_model", "unknown")) for h in hosts}
    out = []
    for model in models:
        for k in dict.fromkeys(h.kind for h in hosts):
            ok = [
                i
                for i, p in enumerate(points)
                if p.model == model
                and p.ok
                and p.host_kind == k
                and math.isfinite(p.items_per_sec)
                and (slo_ms is None or p.latency_ms <= slo_ms)
            ]
            best = max(
                ok, key=lambda i: (points[i].items_per_sec, -points[i].latency_ms), default=None
            )
            p = points[best] if best is not None else None
            out.append(
                KindBest(
                    model=model,
                    kind=k,
                    point=best,
                    items_per_sec=p.items_per_sec if p else math.nan,
                    items_per_sec_per_core=per_core(p) if p else math.nan,
                    cpu_model=cpu[k],
                )
            )
    return tuple(out)
