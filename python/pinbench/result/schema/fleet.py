"""A fleet sweep's ``fleet`` block (``pinbench sweep --cluster``): its writer and its reader side
by side, over ``pinbench.result.fleet.Fleet``; a point's ``host``, ``host_kind`` and
``retried_from`` are the sweep's (``schema.sweep``)."""

from __future__ import annotations

from typing import Any

from ..fleet import Fleet, Host, KindBest, Retry
from .values import number, optional_str


def write_fleet(fleet: Fleet) -> dict[str, Any]:
    """The hosts (each with its environment record), the retries and, per model, the best point
    of each kind of host with its items/s per core."""
    return {
        "backend": fleet.backend,
        "cluster": fleet.cluster,
        "mode": fleet.mode,
        "hosts": [
            {"name": h.name, "kind": h.kind, "cpus": h.cpus, "environment": h.environment}
            for h in fleet.hosts
        ],
        "kinds": list(fleet.kinds),
        "retries": [
            {
                "point": r.point,
                "failed_host": r.failed_host,
                "error": r.error,
                "retried_on": r.retried_on,
            }
            for r in fleet.retries
        ],
        "best_by_kind": [
            {
                "model": b.model,
                "kind": b.kind,
                "cpu_model": b.cpu_model,
                "point": b.point,
                "items_per_sec": b.items_per_sec,
                "items_per_sec_per_core": b.items_per_sec_per_core,
            }
            for b in fleet.best_by_kind
        ],
    }


def read_fleet(data: dict[str, Any] | None) -> Fleet | None:
    """The ``fleet`` block; None when the sweep ran on one machine."""
    if not data:
        return None
    return Fleet(
        backend=str(data["backend"]),
        cluster=str(data.get("cluster", "")),
        mode=str(data.get("mode", "spread")),
        hosts=tuple(
            Host(str(h["name"]), str(h["kind"]), int(h.get("cpus", 0)), dict(h["environment"]))
            for h in data.get("hosts", [])
        ),
        retries=tuple(
            Retry(
                str(r["point"]),
                str(r["failed_host"]),
                str(r["error"]),
                optional_str(r.get("retried_on")),
            )
            for r in data.get("retries", [])
        ),
        best_by_kind=tuple(
            KindBest(
                model=str(b["model"]),
                kind=str(b["kind"]),
                point=None if b.get("point") is None else int(b["point"]),
                items_per_sec=number(b.get("items_per_sec")),
                items_per_sec_per_core=number(b.get("items_per_sec_per_core")),
                cpu_model=str(b.get("cpu_model", "unknown")),
            )
            for b in data.get("best_by_kind", [])
        ),
    )
