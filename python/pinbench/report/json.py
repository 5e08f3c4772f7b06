"""The JSON document of a run (``-x``): the original's keys, plus a versioned ``pinbench`` section.

The top level and ``benchmark_result`` carry exactly the keys of deepsparse.benchmark's export,
computed the same way (latency in ms per batch, numpy's linear-interpolation percentiles,
population std, ``items_per_sec = batch_size * iterations / window``). Everything pinbench adds
lives under ``"pinbench"``, versioned by ``schema_version`` (history in docs/results.md).

Example::

    >>> r = pinbench.benchmark("squeezenet", time=0.5, warmup_time=0.2)  # doctest: +SKIP
    >>> document(r)["benchmark_result"]["items_per_sec"]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..base.errors import MESSAGE_ROOM, PinbenchError, gist, one_line
from ..base.shapes import parse_input_shapes
from ..base.stats import CONFIDENCE, DEEPSPARSE_PERCENTILES, percentile_key
from ..base.version import pinbench_version
from ..result.config import DEEPSPARSE_SCENARIO
from ..result.search import QPS_HEADROOM
from ..result.server import MIN_QUERIES_FOR_RATE

if TYPE_CHECKING:
    from ..result.record import Result, StreamFigures
    from ..result.search import QpsSearch, StreamTuning, Sweep
    from ..result.server import ServerFigures
    from ..settings import RunSettings

# History in docs/results.md. 3: the requested settings beside what ran.
SCHEMA_VERSION = 3
SWEEP_SCHEMA_VERSION = 1


def document(result: Result) -> dict[str, Any]:
    """The whole export: the original's keys and the ``pinbench`` section; NaN as null."""
    out = deepsparse_document(result)
    out["pinbench"] = _pinbench_section(result)
    finite: dict[str, Any] = finite_values(out)
    return finite


def deepsparse_document(result: Result) -> dict[str, Any]:
    """Exactly the original's export: same keys, nesting and types."""
    c = result.config
    return {
        "engine": c.engine_description,
        "version": pinbench_version(),
        "orig_model_path": c.orig_model_path,
        "model_path": c.model_path,
        "batch_size": c.batch_size,
        "input_shapes": c.input_shapes if c.input_shapes else None,
        "num_cores": c.num_cores,
        "scenario": c.deepsparse_scenario,
        "scheduler": c.scheduler,
        "seconds_to_run": c.seconds_to_run,
        "num_streams": c.num_streams,
        "benchmark_result": benchmark_result(result),
        "fraction_of_supported_ops": c.fraction_of_supported_ops,
    }


def benchmark_result(result: Result) -> dict[str, Any]:
    """The original's ``benchmark_result`` block."""
    lat = result.latency
    out: dict[str, Any] = {
        "scenario": result.config.deepsparse_scenario,
        "items_per_sec": result.items_per_sec,
        "seconds_ran": result.seconds_ran,
        "iterations": result.iterations,
        "median": lat.median,
        "mean": lat.mean,
        "std": lat.std,
    }
    out.update({percentile_key(p): lat.percentiles[p] for p in DEEPSPARSE_PERCENTILES})
    return out


def _pinbench_section(result: Result) -> dict[str, Any]:
    c, m = result.config, result.measurement
    window = m.window_ns
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "interrupted": m.interrupted,
        "phase_reached": m.phase_reached,
        "timestamp": c.timestamp,
        "command_line": c.command_line,
        "config": {
            "scenario": c.scenario,
            "num_streams": c.num_streams,
            "num_streams_reason": c.num_streams_reason,
            "num_cores": c.num_cores,
            "thread_pinning": c.pinning,
            "warmup_seconds": c.warmup_seconds,
            "seconds_to_run": c.seconds_to_run,
            "batch_size": c.batch_size,
            "input_shapes": c.resolved_input_shapes,
            "inputs": c.input_source,
            "seed": c.seed,
            "engine": {
                "name": c.engine_name,
                "version": c.engine_version,
                "instances": c.engine_instances,
                "options": c.engine_options,
            },
        },
        "requested": result.settings.to_dict(),
        "result": {
            "items_per_sec": result.items_per_sec,
            "iterations": m.iterations,
            "warmup_iterations": sum(s.warmup_iterations for s in m.streams),
            "seconds_ran": m.seconds,
            "window_ns": list(window) if window else None,
            "items_per_sec_ci": list(result.items_per_sec_ci),
            "latency_ms": result.latency.to_dict(),
            "first_iteration_ms": [s.first_iteration_ms for s in result.streams],
        },
        "streams": [_stream_dict(s) for s in result.streams],
        "statistics": _statistics_methods(),
        "validity": result.validity.to_dict(),
        "samples": result.samples,
        "clock": result.clock,
        "environment": result.environment,
    }
    if result.server is not None:
        out["server"] = server_dict(result.server)
    if c.auto_streams is not None:
        out["auto_streams"] = auto_streams_dict(c.auto_streams)
    if c.find_qps is not None:
        out["find_qps"] = find_qps_dict(c.find_qps)
    return out


def unfinished_document(
    settings: RunSettings,
    phase: str,
    *,
    environment: dict[str, Any],
    model_path: str | None = None,
    interrupted: bool = False,
    error: BaseException | None = None,
) -> dict[str, Any]:
    """The export of a run that ended before it measured anything (interrupted, or failed at
    run time): the original's keys with what the request says and zero iterations, and
    ``pinbench`` with the settings, the environment, the phase reached and the error."""
    inputs, layout = settings.inputs, settings.layout
    scenario = DEEPSPARSE_SCENARIO.get(layout.scenario, layout.scenario)
    nothing: dict[str, Any] = {"median": None, "mean": None, "std": None}
    nothing.update({percentile_key(p): None for p in DEEPSPARSE_PERCENTILES})
    engine = settings.engine.engine
    out: dict[str, Any] = {
        "engine": engine if isinstance(engine, str) else engine.__qualname__,
        "version": pinbench_version(),
        "orig_model_path": settings.model,
        "model_path": model_path,
        "batch_size": inputs.batch_size,
        "input_shapes": parse_input_shapes(inputs.input_shapes) if inputs.input_shapes else None,
        "num_cores": layout.num_cores,
        "scenario": scenario,
        "scheduler": "None",
        "seconds_to_run": settings.measure.time,
        "num_streams": settings.fixed_streams,
        "benchmark_result": {
            "scenario": scenario,
            "items_per_sec": None,
            "seconds_ran": 0.0,
            "iterations": 0,
            **nothing,
        },
        "fraction_of_supported_ops": None,
    }
    section: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "interrupted": interrupted,
        "phase_reached": phase,
        "timestamp": now_iso(),
        "command_line": list(settings.command_line),
        "config": None,
        "requested": settings.to_dict(),
        "environment": environment,
    }
    if error is not None:
        section["error"] = error_dict(error)
    out["pinbench"] = section
    finite: dict[str, Any] = finite_values(out)
    return finite


def error_dict(error: BaseException) -> dict[str, Any]:
    """An error as the JSON records it: its type, its one-line message, its full text."""
    detail = error.detail if isinstance(error, PinbenchError) else None
    exit_code = error.exit_code if isinstance(error, PinbenchError) else 1
    return {
        "type": type(error).__name__,
        "exit_code": exit_code,
        "message": gist(error, MESSAGE_ROOM),  # the line the CLI prints after "pinbench: error: "
        "detail": detail or one_line(error),
    }


def _stream_dict(s: StreamFigures) -> dict[str, Any]:
    return {
        "index": s.index,
        "cpus_planned": list(s.cpus_planned),
        "cpus": list(s.cpus),
        "engine_threads": s.engine_threads,
        "iterations": s.iterations,
        "warmup_iterations": s.warmup_iterations,
        "items_per_sec": s.items_per_sec,
        "items_per_sec_ci": list(s.items_per_sec_ci),
        "latency_ms": s.latency.to_dict(),
        "first_iteration_ms": s.first_iteration_ms,
    }


def server_dict(f: ServerFigures) -> dict[str, Any]:
    late = f.lateness
    return {
        "qps_requested": f.qps_requested,
        "qps_achieved": f.qps_achieved,
        "arrivals": f.arrivals,
        "arrivals_seed": f.arrivals_seed,
        "arrivals_issued": f.arrivals_served,  # schema 2's name: it counts the queries served
        "arrivals_scheduled": f.arrivals_scheduled,
        "arrivals_served": f.arrivals_served,
        "arrivals_dropped": f.arrivals_dropped,
        "qps_achieved_reliable": f.rate_reliable,
        "min_queries_for_rate": MIN_QUERIES_FOR_RATE,
        "drain_seconds": f.drain_seconds,
        "latency_from": "scheduled arrival (queueing included)",
        "lateness": {
            "queries": late.count,
            "late": late.late,
            "late_fraction": late.late_fraction,
            "threshold_ms": late.threshold_ms,
            "mean_ms": late.mean_ms,
            "median_ms": late.median_ms,
            "p99_ms": late.p99_ms,
            "max_ms": late.max_ms,
        },
    }


def auto_streams_dict(t: StreamTuning) -> dict[str, Any]:
    return {
        "method": "closed-loop probe per candidate; highest items/sec, fewer streams "
        "preferred within the tolerance",
        "probe_seconds": t.probe_seconds,
        "warmup_seconds": t.warmup_seconds,
        "tolerance": t.tolerance,
        "chosen": t.chosen,
        "candidates": [
            dataclasses.asdict(p) | {"cores_per_stream": list(p.cores_per_stream)} for p in t.probes
        ],
    }


def find_qps_dict(q: QpsSearch) -> dict[str, Any]:
    out: dict[str, Any] = {
        "method": "closed-loop capacity probe, then bisection of the server rate from "
        f"[0, {QPS_HEADROOM:g} x capacity] (widened while no trial fails); the best rate "
        "run again for -t",
        "latency_slo_ms": q.latency_slo_ms,
        "percentile": q.percentile,
        "capacity_qps": q.capacity_qps,
        "tolerance": q.tolerance,
        "max_trials": q.max_trials,
        "best_qps": q.best_qps,
        "trials": [dataclasses.asdict(t) for t in q.trials],
    }
    if q.final_latency_ms is not None:
        out["final"] = {
            "qps": q.best_qps,
            "latency_ms": q.final_latency_ms,
            "meets": q.final_meets,
        }
    return out


def sweep_document(sweep: Sweep) -> dict[str, Any]:
    """The JSON of ``pinbench sweep -x``: the table, the frontier, the best point and every
    point's full result."""
    out = {
        "kind": "pinbench sweep",
        "schema_version": SWEEP_SCHEMA_VERSION,
        "timestamp": sweep.timestamp or now_iso(),
        "command_line": list(sweep.command_line),
        "model": sweep.model,
        "scenario": sweep.scenario,
        "seconds_per_point": sweep.seconds,
        "percentile": sweep.percentile,
        "latency_slo_ms": sweep.latency_slo_ms,
        "grid": {
            "batch_sizes": sorted({p.batch_size for p in sweep.points}),
            "num_streams": sorted({p.num_streams for p in sweep.points}),
        },
        "points": [
            {
                "batch_size": p.batch_size,
                "num_streams": p.num_streams,
                "items_per_sec": p.items_per_sec,
                "latency_ms": p.latency_ms,
                "median_ms": p.median_ms,
                "iterations": p.iterations,
                "valid": p.valid,
                "pareto": i in sweep.frontier,
                "best": i == sweep.best,
            }
            for i, p in enumerate(sweep.points)
        ],
        "pareto": list(sweep.frontier),
        "best": sweep.best,
        "results": [document(p.result) if p.result else None for p in sweep.points],
    }
    finite: dict[str, Any] = finite_values(out)
    return finite


def _statistics_methods() -> dict[str, Any]:
    return {
        "percentiles": "numpy linear interpolation (Hyndman & Fan type 7)",
        "std": "population (ddof=0)",
        "confidence": CONFIDENCE,
        "median_ci": "binomial order statistics (exact to n=1000, normal approximation above)",
        "items_per_sec_ci": "batch means over equal slices of the window (1 s each, 10 to 60 "
        "slices), Student t",
    }


def now_iso() -> str:
    """The current UTC time, to the second, as the documents record it."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def finite_values(value: Any) -> Any:
    """JSON has no NaN: non-finite floats become null, tuples lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_values(v) for v in value]
    return value
