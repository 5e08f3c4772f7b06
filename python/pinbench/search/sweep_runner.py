"""``pinbench sweep MODEL [MODEL...|FOLDER] [--engines a,b] [--cores 1,4,max] [-s sync,async]
[--batch 1,8] [--streams 1,2,4] [--latency-slo 20ms]``: the grid's points run one after another
(the grid is planned and checked in ``sweep_grid``), then each model's Pareto frontier of
throughput against tail latency and its best configuration under a target (``sweep_frontier``).

Every point is one whole benchmark (the scenario's engine layout, ``-t`` seconds after ``-w`` of
warmup), run in grid order: model, batch size, request, engine, cores, scenario, streams. The
model is loaded once per (model, batch size, request) and serves every engine and layout of it.

Decoders: a request is ``-seq_len`` (``--sequence-lengths``) for the single-call points (one
forward pass of that KV shape, as ``pinbench -seq_len`` runs it) and ``--prompt-tokens`` x
``--new-tokens`` for the ``generate`` points (their token figures, ``pinbench.generation``, are
kept on the point). Without those axes every point has one request, the flags' own. Each point
keeps its throughput (items/s), mean, median, std and its latency at ``--percentile`` (99 by
default; numpy's linear interpolation, as everywhere in pinbench).

A point that fails (the model does not load, the engine refuses it) becomes a row with its
one-line error, and the sweep goes on. Ctrl-C or SIGTERM ends the sweep: the points finished so
far (and the one cut short, marked interrupted) are the result, written and printed as usual.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import TYPE_CHECKING

from ..base.errors import PinbenchError, shorten
from ..base.logs import log, quiet_logs
from ..result.ab_record import hardware_value
from ..result.sweep_record import Sweep, SweepPoint
from ..run.execute import execute, layout_for
from ..run.prepare import prepare
from .find_qps import latency_at
from .sweep_frontier import assemble_sweep
from .sweep_grid import (
    Grid,
    GridPoint,
    check_grid,
    engine_label,
    point_command,
    point_settings,
    request_settings,
)

if TYPE_CHECKING:
    from ..engines.base import Engine
    from ..result.record import Result
    from ..run.prepare import Prepared
    from ..settings import RunSettings, SweepSettings

ERROR_CHARS = 200  # a failed point's error, on one line


class _Stopped(Exception):
    """A point's measurement was interrupted: the sweep ends after recording it."""

    def __init__(self, interrupt: str) -> None:
        super().__init__(interrupt)
        self.interrupt = interrupt


def run_sweep(sweep: SweepSettings, grid: Grid | None = None) -> Sweep[Result]:
    """Runs every configuration of the grid and picks each model's best.

    REQUIRES: ``sweep`` validated. The grid is checked against the machine before anything runs
    (``check_grid``; pass its Grid to skip a second check). Ctrl-C or SIGTERM ends the sweep
    with the points measured so far (``Sweep.interrupt`` names the exception).

    Example::

        >>> base = RunSettings.from_kwargs("squeezenet", time=1.0, warmup_time=0.2)
        >>> s = run_sweep(SweepSettings(base, batch_sizes=(1, 4), streams=(1, 2)).validate())
        >>> s.points[s.best].num_streams  # doctest: +SKIP
    """
    grid = grid if grid is not None else check_grid(sweep)
    points: list[SweepPoint[Result]] = []
    interrupt: str | None = None
    try:
        for _, group in itertools.groupby(
            grid.points, key=lambda p: (p.model, p.batch_size, p.request)
        ):
            _run_group(sweep, grid, list(group), points)
    except _Stopped as e:
        interrupt = e.interrupt
    except KeyboardInterrupt as e:  # between points, or while loading a model
        interrupt = type(e).__name__
    if interrupt is not None:
        log.warning(
            "sweep interrupted after %d of %d configurations", len(points), len(grid.points)
        )
    return assemble_sweep(sweep, grid, points, interrupt)


def _run_group(
    sweep: SweepSettings, grid: Grid, group: list[GridPoint], points: list[SweepPoint[Result]]
) -> None:
    """The points of one (model, batch size, request): the model loaded once for all of them."""
    first = group[0]
    at_batch = request_settings(first, sweep.base)
    try:
        with quiet_logs():
            prepared = prepare(at_batch)
    except Exception as e:
        for p in group:
            record_point(points, failed_point(p, sweep, e), len(grid.points), sweep.percentile)
        return
    with prepared:
        for p in group:
            point = measure_point(p, sweep, grid.classes[p.engine], prepared, at_batch)
            record_point(points, point, len(grid.points), sweep.percentile)
            if points[-1].interrupted:
                assert points[-1].result is not None
                raise _Stopped(points[-1].result.measurement.interrupt or "KeyboardInterrupt")


def measure_point(
    p: GridPoint,
    sweep: SweepSettings,
    engine: type[Engine],
    prepared: Prepared,
    at_batch: RunSettings,
) -> SweepPoint[Result]:
    """Runs one point on the model ``prepared`` for its group (``request_settings``); a failure
    becomes the point's one-line error. A fleet's host runs its points through this too."""
    settings = point_settings(p, at_batch)
    with_engine = dataclasses.replace(prepared, engine_class=engine)
    try:
        with quiet_logs():
            r = execute(with_engine, settings, layout_for(with_engine, settings))
    except Exception as e:
        return failed_point(p, sweep, e)
    return _point(r, p, sweep)


def record_point(
    points: list[SweepPoint[Result]], point: SweepPoint[Result], total: int, percentile: float
) -> None:
    """Appends ``point`` and logs its progress line."""
    points.append(point)
    where = (
        f"sweep {len(points)}/{total}: {point.model}, {point.engine}, {point.num_cores} core(s), "
        f"{point.scenario}, batch {point.batch_size}, {point.num_streams} stream(s)"
    )
    if point.error is not None:
        log.warning("%s: failed: %s", where, point.error)
    else:
        log.info(
            "%s: %.1f items/s, p%g %.3f ms%s",
            where,
            point.items_per_sec,
            percentile,
            point.latency_ms,
            " (interrupted)" if point.interrupted else "",
        )


def failed_point(p: GridPoint, sweep: SweepSettings, e: Exception) -> SweepPoint[Result]:
    """Point ``p`` without figures: ``e`` as its one-line error."""
    if isinstance(e, PinbenchError):
        error = shorten(e, ERROR_CHARS)
    else:  # a defect, not the user's: say what it was; --debug shows where
        log.debug("sweep point failed", exc_info=True)
        error = shorten(f"internal error: {type(e).__name__}: {e}", ERROR_CHARS)
    return SweepPoint(
        batch_size=p.batch_size,
        num_streams=p.num_streams,
        items_per_sec=math.nan,
        latency_ms=math.nan,
        median_ms=math.nan,
        iterations=0,
        valid=False,
        model=p.model,
        engine=engine_label(p.engine),
        scenario=p.scenario,
        num_cores=p.num_cores,
        command=point_command(p, sweep),
        error=error,
        sequence_length=p.sequence_length,
        prompt_tokens=p.prompt_tokens,
        new_tokens=p.new_tokens,
    )


def _point(r: Result, p: GridPoint, sweep: SweepSettings) -> SweepPoint[Result]:
    return SweepPoint(
        batch_size=p.batch_size,
        num_streams=r.config.num_streams,
        items_per_sec=r.items_per_sec,
        latency_ms=latency_at(r.measurement, sweep.percentile),
        median_ms=r.latency.median,
        iterations=r.iterations,
        valid=r.validity.valid,
        result=r,
        model=p.model,
        engine=engine_label(p.engine),
        scenario=r.config.scenario,
        num_cores=r.config.num_cores,
        mean_ms=r.latency.mean,
        std_ms=r.latency.std,
        input_shapes=dict(r.config.resolved_input_shapes),
        command=point_command(p, sweep),
        interrupted=r.interrupted,
        sequence_length=p.sequence_length,
        prompt_tokens=p.prompt_tokens,
        new_tokens=p.new_tokens,
        ipc=hardware_value(r, "ipc"),
        cpu_ms_per_inference=hardware_value(r, "cpu_ms_per_inference"),
        joules_per_inference=hardware_value(r, "joules_per_inference"),
    )
