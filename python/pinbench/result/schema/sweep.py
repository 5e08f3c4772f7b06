"""The sweep document (``pinbench sweep -x``): its writer and its reader, side by side, over the
one record ``Sweep`` (``pinbench.result.sweep_record``): as run its points hold ``Result`` runs,
read back ``RunDoc`` runs (each point's full result is a run document, ``schema.run``).

A new key: write it in ``write_sweep`` (a point's in ``_write_point``) and read it in
``read_sweep`` (``_read_point``), into a field of ``Sweep`` (``SweepPoint``).

Example::

    >>> sweep = pinbench.sweep("squeezenet", batch_sizes=[1, 2])  # doctest: +SKIP
    >>> read_sweep(write_sweep(sweep)).best == sweep.best  # doctest: +SKIP
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..ab_record import HARDWARE_METRICS
from ..sweep_record import Sweep, SweepModel, SweepPoint
from .fleet import read_fleet, write_fleet
from .generation import write_point_generation
from .run import RunDoc, read_run, write_run
from .values import finite_values, now_iso, number, optional_int, optional_str
from .version import SWEEP_KIND, SWEEP_SCHEMA

if TYPE_CHECKING:
    from collections.abc import Iterable


def write_sweep(sweep: Sweep[Any]) -> dict[str, Any]:
    """The grid, every point's row (its figures or its error), each model's frontier and best
    point, and every measured point's full result."""
    out = {
        "kind": SWEEP_KIND,
        "schema_version": SWEEP_SCHEMA,
        "timestamp": sweep.timestamp or now_iso(),
        "command_line": list(sweep.command_line),
        "model": sweep.models[0].model if sweep.models else None,
        "scenario": sweep.scenarios[0] if sweep.scenarios else None,
        "seconds_per_point": sweep.seconds,
        "warmup_seconds": sweep.warmup_seconds,
        "percentile": sweep.percentile,
        "latency_slo_ms": sweep.latency_slo_ms,
        "interrupted": sweep.interrupted,
        "interrupt": sweep.interrupt,
        "points_planned": sweep.planned,
        "points_failed": len(sweep.failed),
        "grid": {
            "models": [m.model for m in sweep.models],
            "engines": list(sweep.engines),
            "num_cores": list(sweep.cores),
            "scenarios": list(sweep.scenarios),
            "batch_sizes": list(sweep.batch_sizes),
            "num_streams": sorted({p.num_streams for p in sweep.points}),
            # the decoder axes as run ([] when the sweep has none)
            "sequence_lengths": _axis(p.sequence_length for p in sweep.points),
            "prompt_tokens": _axis(p.prompt_tokens for p in sweep.points),
            "new_tokens": _axis(p.new_tokens for p in sweep.points),
        },
        "points": [_write_point(sweep, i) for i in range(len(sweep.points))],
        "models": [
            {
                "model": m.model,
                "points": list(m.points),
                "pareto": list(m.frontier),
                "best": m.best,
                "runner_up": m.runner_up,
                "best_within_noise": m.within_noise,
            }
            for m in sweep.models
        ],
        "pareto": list(sweep.frontier),
        "best": sweep.best,
        "results": [write_run(p.result) if p.result else None for p in sweep.points],
    }
    if sweep.fleet is not None:
        out["fleet"] = write_fleet(sweep.fleet)
    finite: dict[str, Any] = finite_values(out)
    return finite


def _write_point(sweep: Sweep[Any], i: int) -> dict[str, Any]:
    p = sweep.points[i]
    fleet = (
        {}
        if sweep.fleet is None
        else {"host": p.host, "host_kind": p.host_kind, "retried_from": p.retried_from}
    )
    return {
        **fleet,
        "model": p.model,
        "engine": p.engine,
        "num_cores": p.num_cores,
        "scenario": p.scenario,
        "batch_size": p.batch_size,
        "num_streams": p.num_streams,
        "input_shapes": p.input_shapes,
        "items_per_sec": p.items_per_sec,
        "latency_ms": p.latency_ms,
        "mean_ms": p.mean_ms,
        "median_ms": p.median_ms,
        "std_ms": p.std_ms,
        "iterations": p.iterations,
        "valid": p.valid,
        "pareto": sweep.on_frontier(i),
        "best": sweep.is_best(i),
        "error": p.error,
        "interrupted": p.interrupted,
        "command": list(p.command),
        "sequence_length": p.sequence_length,
        "prompt_tokens": p.prompt_tokens,
        "new_tokens": p.new_tokens,
        "generation": write_point_generation(p.generation),
        "hardware": p.hardware or None,
    }


def _axis(values: Iterable[int | None]) -> list[int]:
    return sorted({v for v in values if v is not None})


def read_sweep(data: dict[str, Any], path: str = "") -> Sweep[RunDoc]:
    """A sweep document of schema 1 (one model, one engine) or 2. A point's ``pareto`` and
    ``best`` are read from ``models`` (schema 1: ``pareto`` and ``best``), which they repeat;
    its token figures from its full result, which its ``generation`` summarises."""
    results = data.get("results") or []
    runs = [None if r is None else read_run(r, path) for r in results]
    points = tuple(
        _read_point(p, data, runs[i] if i < len(runs) else None)
        for i, p in enumerate(data["points"])
    )
    grid = data.get("grid") or {}
    warmup = data.get("warmup_seconds", 0.0)
    return Sweep(
        models=_read_models(data, len(points)),
        scenarios=tuple(str(s) for s in grid.get("scenarios") or _axis_of(points, "scenario")),
        engines=tuple(str(e) for e in grid.get("engines") or _axis_of(points, "engine")),
        cores=tuple(int(c) for c in grid.get("num_cores") or _axis_of(points, "num_cores")),
        batch_sizes=tuple(int(b) for b in grid.get("batch_sizes") or ()),
        percentile=number(data.get("percentile", 99.0)),
        latency_slo_ms=None
        if data.get("latency_slo_ms") is None
        else float(data["latency_slo_ms"]),
        points=points,
        planned=int(data.get("points_planned", len(points))),
        seconds=number(data.get("seconds_per_point")),
        warmup_seconds=warmup if isinstance(warmup, str) else number(warmup),
        timestamp=str(data.get("timestamp") or ""),
        command_line=tuple(str(a) for a in data.get("command_line") or ()),
        interrupt=_interrupt(data),
        path=path,
        fleet=read_fleet(data.get("fleet")),
    )


def _read_models(data: dict[str, Any], count: int) -> tuple[SweepModel, ...]:
    if "models" not in data:  # schema 1: one model
        best = data.get("best")
        return (
            SweepModel(
                str(data.get("model", "?")),
                tuple(range(count)),
                tuple(int(i) for i in data.get("pareto", [])),
                None if best is None else int(best),
            ),
        )
    return tuple(
        SweepModel(
            model=str(m["model"]),
            points=tuple(int(i) for i in m["points"]),
            frontier=tuple(int(i) for i in m["pareto"]),
            best=None if m.get("best") is None else int(m["best"]),
            runner_up=None if m.get("runner_up") is None else int(m["runner_up"]),
            within_noise=bool(m.get("best_within_noise", False)),
        )
        for m in data["models"]
    )


def _read_point(p: dict[str, Any], data: dict[str, Any], run: RunDoc | None) -> SweepPoint[RunDoc]:
    """A point of either schema: schema 1 keeps model, engine, cores and shapes elsewhere."""
    return SweepPoint(
        model=str(p.get("model") or data.get("model", "?")),
        engine=str(p.get("engine") or (run.engine if run else "")),
        num_cores=int(p.get("num_cores") or (run.num_cores if run else 0)),
        scenario=str(p.get("scenario") or data.get("scenario", "")),
        batch_size=int(p["batch_size"]),
        num_streams=int(p["num_streams"]),
        input_shapes=dict(p.get("input_shapes") or (run.input_shapes if run else {})),
        items_per_sec=number(p.get("items_per_sec")),
        latency_ms=number(p.get("latency_ms")),
        mean_ms=number(p.get("mean_ms", run.mean_ms if run else None)),
        median_ms=number(p.get("median_ms")),
        std_ms=number(p.get("std_ms", run.std_ms if run else None)),
        iterations=int(p.get("iterations") or 0),
        valid=bool(p.get("valid", False)),
        error=optional_str(p.get("error")),
        interrupted=bool(p.get("interrupted", False)),
        command=tuple(str(a) for a in p.get("command") or ()),
        sequence_length=optional_int(p.get("sequence_length")),
        prompt_tokens=optional_int(p.get("prompt_tokens")),
        new_tokens=optional_int(p.get("new_tokens")),
        result=run,
        host=optional_str(p.get("host")),
        host_kind=optional_str(p.get("host_kind")),
        retried_from=optional_str(p.get("retried_from")),
        **_hardware(p.get("hardware"), run),
    )


def _hardware(block: Any, run: RunDoc | None) -> dict[str, float]:
    """A point's IPC, CPU ms and joules per inference: its own block, else its run's."""
    if isinstance(block, dict):
        return {k: number(block.get(k)) for k in HARDWARE_METRICS}
    h = run.hardware if run else None
    if h is None:
        return {}
    return {k: getattr(h, k) for k in HARDWARE_METRICS}


def _axis_of(points: tuple[SweepPoint[RunDoc], ...], name: str) -> list[Any]:
    """Schema 1's axes, from its points: each value once, in the order first met."""
    return list(dict.fromkeys(getattr(p, name) for p in points))


def _interrupt(data: dict[str, Any]) -> str | None:
    """What stopped the sweep early; schema 1 recorded only that something did."""
    if data.get("interrupt") is not None:
        return str(data["interrupt"])
    return "KeyboardInterrupt" if data.get("interrupted") else None
