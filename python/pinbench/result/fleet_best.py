"""Per model and kind of host, the best point of a sweep run on a fleet (``Fleet.best_by_kind``),
and the throughput per core that lets kinds of different sizes compare. Example::

    >>> from pinbench.result.sweep_record import SweepPoint
    >>> per_core(SweepPoint(1, 2, 400.0, 5.0, 4.0, 100, True, num_cores=4))
    100.0
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .fleet import Host, KindBest

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .sweep_record import SweepPoint


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
