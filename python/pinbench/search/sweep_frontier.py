"""A sweep's analysis, per model: its Pareto frontier of throughput against tail latency, its
best point under a target, and whether the runner-up is within the measured noise; assembled into
the ``Sweep`` record once the points have run (``sweep_runner``, or a fleet).

- **Pareto frontier**: the points that no other point of the model beats on both counts, i.e.
  none has at least their throughput and at most their latency with one of the two strictly
  better. Failed and interrupted points take no part.
- **Best**: under ``--latency-slo``, the highest throughput among the points whose percentile
  latency meets the target (ties: the lower latency); without a target, the highest throughput.
  Throughput is never compared across models: their items differ.

Example: ``pareto_front([10, 20, 15], [1.0, 3.0, 4.0])`` is ``[0, 1]`` (the third is beaten by
the second on both counts); ``best_point([10, 20, 15], [1.0, 3.0, 4.0], slo=2.0)`` is ``0``.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..result.sweep_record import Sweep, SweepModel, overlaps, runner_up
from .sweep_grid import engine_label

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..result.record import Result
    from ..result.sweep_record import SweepPoint
    from ..settings import SweepSettings
    from .sweep_grid import Grid


def pareto_front(throughput: Sequence[float], latency: Sequence[float]) -> list[int]:
    """Indices of the points no other point dominates (at least as fast, at most as slow, and
    strictly better on one), by increasing latency; points with a NaN are left out."""
    ok = [
        i
        for i in range(len(throughput))
        if math.isfinite(throughput[i]) and math.isfinite(latency[i])
    ]

    def dominated(i: int) -> bool:
        return any(
            throughput[j] >= throughput[i]
            and latency[j] <= latency[i]
            and (throughput[j] > throughput[i] or latency[j] < latency[i])
            for j in ok
        )

    return sorted((i for i in ok if not dominated(i)), key=lambda i: (latency[i], -throughput[i]))


def best_point(
    throughput: Sequence[float], latency: Sequence[float], slo: float | None = None
) -> int | None:
    """The highest throughput among the points meeting ``latency <= slo`` (every point when
    ``slo`` is None); ties go to the lower latency; None when no point qualifies."""
    ok = [
        i
        for i in range(len(throughput))
        if math.isfinite(throughput[i])
        and math.isfinite(latency[i])
        and (slo is None or latency[i] <= slo)
    ]
    if not ok:
        return None
    return max(ok, key=lambda i: (throughput[i], -latency[i]))


def assemble_sweep(
    sweep: SweepSettings, grid: Grid, points: list[SweepPoint[Result]], interrupt: str | None
) -> Sweep[Result]:
    """The Sweep of ``points`` (in grid order): each model's frontier, best point and runner-up."""
    models = []
    for model in grid.models:
        own = [i for i, p in enumerate(points) if p.model == model]
        ok = [i for i in own if points[i].ok]
        thr = [points[i].items_per_sec for i in ok]
        lat = [points[i].latency_ms for i in ok]
        best = best_point(thr, lat, sweep.latency_slo_ms)
        slo = sweep.latency_slo_ms
        eligible = [i for i in range(len(ok)) if slo is None or lat[i] <= slo]
        second = None if best is None else runner_up(thr, best, eligible)
        noise = (
            best is not None
            and second is not None
            and overlaps(_ci(points[ok[best]]), _ci(points[ok[second]]))
        )
        models.append(
            SweepModel(
                model=model,
                points=tuple(own),
                frontier=tuple(ok[i] for i in pareto_front(thr, lat)),
                best=None if best is None else ok[best],
                runner_up=None if second is None else ok[second],
                within_noise=noise,
            )
        )
    return Sweep(
        models=tuple(models),
        scenarios=sweep.scenarios,
        engines=tuple(engine_label(e) for e in grid.engines),
        cores=grid.cores,
        batch_sizes=sweep.batch_sizes,
        percentile=sweep.percentile,
        latency_slo_ms=sweep.latency_slo_ms,
        points=tuple(points),
        planned=len(grid.points),
        seconds=sweep.base.measure.time,
        warmup_seconds=sweep.base.measure.warmup_time,
        timestamp=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        command_line=sweep.base.command_line,
        interrupt=interrupt,
    )


def _ci(point: SweepPoint[Result]) -> tuple[float, float]:
    nan = float("nan")
    return point.result.items_per_sec_ci if point.result is not None else (nan, nan)
