"""``pinbench sweep MODEL --batch 1,8,32 --streams 1,2,4 [--latency-slo 20ms]``: the grid, its
Pareto frontier of throughput against tail latency, and the best configuration under a target.

Every (batch, streams) pair of the grid is one whole benchmark (the scenario's engine layout,
``-t`` seconds after ``-w`` of warmup), run in grid order; the model is loaded once per batch
size. Each point keeps its throughput (items/s), its median and its latency at
``--percentile`` (99 by default; numpy's linear interpolation, as everywhere in pinbench).

- **Pareto frontier**: the points that no other point beats on both counts, i.e. none has at
  least their throughput and at most their latency with one of the two strictly better.
- **Best**: under ``--latency-slo``, the highest throughput among the points whose percentile
  latency meets the target (ties: the lower latency); without a target, the highest throughput.
  When no point meets the target the command says so and exits 1.

``-x FILE.json`` writes the table, the frontier, the best point and every point's full result
(the same JSON as ``pinbench -x``); ``--plot FILE.png`` draws throughput against latency with the
frontier and the target (extra ``pinbench[plot]``).
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..base.logs import log, quiet_logs
from ..result.search import Sweep, SweepPoint, overlaps, runner_up
from ..run.execute import execute, plan
from ..run.layout import plan_layout
from ..run.prepare import prepare
from ..run.topology import topology
from .auto_streams import stream_candidates
from .find_qps import latency_at

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..result.record import Result
    from ..settings import SweepSettings


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


# --- running it ----------------------------------------------------------------------------------


def grid_streams(sweep: SweepSettings) -> tuple[int, ...]:
    """The stream counts of the grid: as given, else auto's candidates on the selected cores
    (1 for sync)."""
    if sweep.streams is not None:
        return sweep.streams
    if sweep.base.layout.scenario == "sync":
        return (1,)
    return tuple(stream_candidates(sweep.base.layout.num_cores or len(topology().cores)))


def check_grid(sweep: SweepSettings) -> tuple[int, ...]:
    """Every point's layout planned on this machine before anything runs; UsageError otherwise.
    Returns the stream counts."""
    topo, lay = topology(), sweep.base.layout
    streams = grid_streams(sweep)
    for n in streams:
        plan_layout(
            lay.scenario,
            topo,
            num_cores=lay.num_cores,
            num_streams=n,
            pinning=lay.thread_pinning,
            smt=lay.smt,
        )
    return streams


def run_sweep(sweep: SweepSettings) -> Sweep:
    """Runs every (batch, streams) configuration and picks the best.

    REQUIRES: ``sweep`` validated. The grid is checked against the machine before anything runs.

    Example::

        >>> base = RunSettings.from_kwargs("squeezenet", time=1.0, warmup_time=0.2)
        >>> s = run_sweep(SweepSettings(base, batch_sizes=(1, 4), streams=(1, 2)).validate())
        >>> s.points[s.best].num_streams  # doctest: +SKIP
    """
    streams = check_grid(sweep)
    points: list[SweepPoint] = []
    total = len(sweep.batch_sizes) * len(streams)
    for b in sweep.batch_sizes:
        at_batch = dataclasses.replace(
            sweep.base, inputs=dataclasses.replace(sweep.base.inputs, batch_size=b)
        )
        with quiet_logs():
            prepared = prepare(at_batch)
        with prepared:
            for n in streams:
                settings = dataclasses.replace(
                    at_batch, layout=dataclasses.replace(at_batch.layout, num_streams=n)
                )
                with quiet_logs():
                    r = execute(prepared, settings, plan(prepared, settings))
                points.append(_point(r, b, sweep.percentile))
                log.info(
                    "sweep %d/%d: batch %d, %d stream(s): %.1f items/s, p%g %.3f ms",
                    len(points),
                    total,
                    b,
                    points[-1].num_streams,
                    points[-1].items_per_sec,
                    sweep.percentile,
                    points[-1].latency_ms,
                )
                if r.interrupted:
                    raise KeyboardInterrupt
    thr = [p.items_per_sec for p in points]
    lat = [p.latency_ms for p in points]
    best = best_point(thr, lat, sweep.latency_slo_ms)
    slo = sweep.latency_slo_ms
    eligible = [i for i in range(len(points)) if slo is None or lat[i] <= slo]
    second = None if best is None else runner_up(thr, best, eligible)
    noise = (
        best is not None and second is not None and overlaps(_ci(points[best]), _ci(points[second]))
    )
    return Sweep(
        model=sweep.base.model,
        scenario=sweep.base.layout.scenario,
        percentile=sweep.percentile,
        latency_slo_ms=sweep.latency_slo_ms,
        points=tuple(points),
        frontier=tuple(pareto_front(thr, lat)),
        best=best,
        runner_up=second,
        within_noise=noise,
        seconds=sweep.base.measure.time,
        timestamp=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        command_line=sweep.base.command_line,
    )


def _ci(point: SweepPoint) -> tuple[float, float]:
    nan = float("nan")
    return point.result.items_per_sec_ci if point.result is not None else (nan, nan)


def _point(r: Result, batch: int, percentile: float) -> SweepPoint:
    return SweepPoint(
        batch_size=batch,
        num_streams=r.config.num_streams,
        items_per_sec=r.items_per_sec,
        latency_ms=latency_at(r.measurement, percentile),
        median_ms=r.latency.median,
        iterations=r.iterations,
        valid=r.validity.valid,
        result=r,
    )
