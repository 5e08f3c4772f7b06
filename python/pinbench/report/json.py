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
from ..result.server import MIN_QUERIES_FOR_RATE
from ..result.tuning import QPS_HEADROOM
from .roofline import roofline_dict

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..result.ab import AbResult
    from ..result.config import InstancePlan
    from ..result.frequency import Frequencies
    from ..result.generation import GenerationFigures, Spread
    from ..result.interference import Interference
    from ..result.memory import Memory
    from ..result.profile import Profile
    from ..result.record import Result, StreamFigures
    from ..result.repetitions import Across, RepetitionFigures, Repetitions
    from ..result.search import Sweep, SweepPoint
    from ..result.server import ServerFigures
    from ..result.startup import Startup
    from ..result.tuning import QpsSearch, QpsTrial, StreamTuning
    from ..settings import RunSettings

# History in docs/results.md. 3: the requested settings beside what ran.
SCHEMA_VERSION = 3
# 2: models, engines, core counts and scenarios as axes; failed points as rows; interrupts.
SWEEP_SCHEMA_VERSION = 2
AB_SCHEMA_VERSION = 1


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
            "isolation": c.isolation,
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
            "warmup": m.warmup.to_dict() if m.warmup is not None else None,
            "seconds_ran": m.seconds,
            "window_ns": list(window) if window else None,
            "items_per_sec_ci": list(result.items_per_sec_ci),
            "throughput_cv": result.throughput_cv,
            "throughput_trend": (
                result.throughput_trend.to_dict() if result.throughput_trend else None
            ),
            "latency_ms": result.latency.to_dict(),
            "first_iteration_ms": [s.first_iteration_ms for s in result.streams],
            "gil_wait_share": m.gil_wait_share,
        },
        "streams": [_stream_dict(s) for s in result.streams],
        "statistics": _statistics_methods(),
        "validity": result.validity.to_dict(),
        "interference": interference_dict(result.interference),
        "cpu_frequency": frequency_dict(result.frequency),
        "samples": result.samples,
        "clock": result.clock,
        "environment": result.environment,
    }
    if c.instances is not None:
        out["config"]["instances"] = instances_dict(c.instances)
    if c.kv_cache is not None:
        out["kv_cache"] = dataclasses.asdict(c.kv_cache)
    if result.startup is not None:
        out["startup"] = startup_dict(result.startup)
    if m.failure is not None:
        out["failure"] = dataclasses.asdict(m.failure)
    if result.memory is not None:
        out["memory"] = memory_dict(result.memory)
    if result.profile is not None:
        out["profile"] = profile_dict(result.profile)
    if result.server is not None:
        out["server"] = server_dict(result.server)
    if result.generation is not None:
        out["generation"] = generation_dict(result.generation)
    if result.repetitions is not None:
        out["repetitions"] = repetitions_dict(result.repetitions)
    if result.roofline is not None:
        out["roofline"] = roofline_dict(result.roofline)
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
        "instance": s.instance,
        "gil_wait_ms": s.gil_wait_ms,
        "gil_wait_share": s.gil_wait_share,
        "pid": s.pid,
        "core_type": s.core_type,
    }


def startup_dict(s: Startup) -> dict[str, Any]:
    """``pinbench.startup``: seconds from the command (or call) to the first iterations."""
    return {
        "from": s.origin,
        "seconds_to_first_iteration": s.seconds_to_first_iteration,
        "seconds_to_first_warmup_iteration": s.seconds_to_first_warmup_iteration,
        "parts_seconds": dict(s.parts),
        "unknown_parts": list(s.unknown_parts),
        "instances": [
            {"index": i.index, "built_by_stream": i.built_by, "seconds": i.seconds}
            for i in s.instances
        ],
        "streams": [
            {
                "index": st.index,
                "instance": st.instance,
                "seconds": st.seconds,
                "bind_seconds": st.bind_seconds,
                "first_inferences_ms": list(st.first_inferences_ms),
            }
            for st in s.streams
        ],
    }


def memory_dict(mem: Memory) -> dict[str, Any]:
    """``pinbench.memory``: the process's RSS around the instances, and its peak, in bytes."""
    return {
        "unit": "bytes",
        "method": "VmRSS of /proc/self/status before the runner started and once every stream "
        "was bound (after malloc_trim), and around each create_instance() on its thread; the "
        "peak is getrusage's ru_maxrss (or VmHWM) at the window's end",
        "rss_before_instances": mem.rss_before_instances_bytes,
        "rss_after_instances": mem.rss_after_instances_bytes,
        "instances_growth": mem.instances_growth_bytes,
        "peak_rss": mem.peak_rss_bytes,
        "instances": [
            {
                "index": i.index,
                "built_by_stream": i.built_by,
                "rss_before": i.rss_before_bytes,
                "rss_after": i.rss_after_bytes,
                "growth": i.growth_bytes,
                "overlapped": i.overlapped,
            }
            for i in mem.instances
        ],
        # --isolation process: each worker's own, read by it at the window's end; PSS splits
        # the pages the workers share, so the total counts them once.
        "workers": [
            {
                "stream": w.stream,
                "pid": w.pid,
                "pss": w.pss_bytes,
                "rss": w.rss_bytes,
                "peak_rss": w.peak_rss_bytes,
            }
            for w in mem.workers
        ],
        "workers_pss_total": mem.workers_pss_bytes,
    }


def profile_dict(p: Profile) -> dict[str, Any]:
    """``pinbench.profile``: the profiled pass after the window and its operators."""
    return {
        "available": p.available,
        "reason": p.reason,
        "engine": p.engine,
        "profiler": p.profiler,
        "directory": p.directory,
        "method": "fresh instances built with the profiler on, after the measured window, on "
        "the same streams and CPUs; each stream's iterations_per_stream inferences after bind()'s "
        "first calls counted",
        "iterations_per_stream": p.iterations_per_stream,
        "streams": p.streams,
        "inferences": p.inferences,
        "inference_ms": p.inference_ms,
        "operators_ms_per_inference": p.operators_ms_per_inference,
        "profiled_latency_ms": p.profiled_latency_ms,
        "seconds": p.seconds,
        "interrupted": p.interrupt is not None,
        "files": list(p.files),
        "notes": list(p.notes),
        "operators": [dataclasses.asdict(r) for r in p.operators],
    }


def instances_dict(plan: InstancePlan) -> dict[str, Any]:
    """``pinbench.config.instances``: the engine instances, which stream stepped which, why."""
    return {
        "requested": plan.requested,
        "count": len(plan.instances),
        "kinds": plan.kinds,
        "of_stream": list(plan.of_stream),
        "instances": [
            {
                "index": i.index,
                "kind": i.kind,
                "streams": list(i.streams),
                "node": i.node,
                "cpus": list(i.cpus),
                "reason": i.reason,
            }
            for i in plan.instances
        ],
    }


def frequency_dict(freq: Frequencies | None) -> dict[str, Any] | None:
    if freq is None:
        return None
    return {
        "source": freq.source,
        "unit": "MHz",
        "method": "read at the window's ends and every 0.5 s between, outside the streams' threads",
        "cpus": [dataclasses.asdict(c) for c in freq.cpus],
    }


def interference_dict(load: Interference | None) -> dict[str, Any] | None:
    if load is None:
        return None
    return {
        "method": "per-CPU busy ticks (/proc/stat) less this process's threads' ticks, over the "
        "readings that bracket the window",
        "seconds": load.seconds,
        "ticks_per_second": load.ticks_per_second,
        "groups": [
            {
                "cpus": list(g.cpus),
                "streams": list(g.streams),
                "busy_share": g.busy_share,
                "own_share": g.own_share,
                "other_share": g.other_share,
                "other_ticks": g.other_ticks,
            }
            for g in load.groups
        ],
    }


def generation_dict(g: GenerationFigures) -> dict[str, Any]:
    """``pinbench.generation`` (definitions: ``pinbench.result.generation``)."""

    def spread(s: Spread | None) -> dict[str, float | int] | None:
        return s.to_dict() if s is not None else None

    return {
        "prompt_tokens": g.prompt_tokens,
        "new_tokens": g.new_tokens,
        "depth": g.depth,
        "batch_size": g.batch_size,
        "tokens": g.tokens,
        "calls_per_request": g.calls_per_request,
        "requests": g.requests,
        "requests_per_sec": g.requests_per_sec,
        "ttft_ms": spread(g.ttft_ms),
        "tpot_ms": spread(g.tpot_ms),
        "tpot_per_request_ms": spread(g.tpot_per_request_ms),
        "request_latency_ms": spread(g.request_latency_ms),
        "queueing_ms": spread(g.queueing_ms),
        "prefill_tokens_per_sec": g.prefill_tokens_per_sec,
        "decode_tokens_per_sec": g.decode_tokens_per_sec,
        "output_tokens_per_sec": g.output_tokens_per_sec,
        "kv_cache_bytes_per_stream": g.kv_cache_bytes_per_stream,
        "cache_lengths_checked": list(g.cache_lengths_checked),
        "sampled": g.sampled,
        "streams": [dataclasses.asdict(s) for s in g.streams],
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
        "runner_up": t.runner_up,
        "within_noise": t.within_noise,
        "chosen_isolation": t.chosen_isolation,
        "candidates": [
            dataclasses.asdict(p)
            | {
                "cores_per_stream": list(p.cores_per_stream),
                "items_per_sec_ci": list(p.items_per_sec_ci),
            }
            for p in t.probes
        ],
    }


def _trial_dict(t: QpsTrial) -> dict[str, Any]:
    """A trial; a generation search's TTFT and TPOT only where they were measured."""
    d = dataclasses.asdict(t)
    for key in ("ttft_ms", "tpot_ms"):
        if d[key] is None:
            del d[key]
    return d


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
        "trials": [_trial_dict(t) for t in q.trials],
    }
    if q.ttft_slo_ms is not None or q.tpot_slo_ms is not None:
        out["ttft_slo_ms"] = q.ttft_slo_ms
        out["tpot_slo_ms"] = q.tpot_slo_ms
        out["target"] = q.target
    if q.final_latency_ms is not None:
        out["final"] = {
            "qps": q.best_qps,
            "latency_ms": q.final_latency_ms,
            "meets": q.final_meets,
        }
    out["confirmations"] = [_trial_dict(t) for t in q.confirmations]
    out["confirmed"] = q.confirmed
    return out


def repetitions_dict(reps: Repetitions) -> dict[str, Any]:
    def across(a: Across) -> dict[str, Any]:
        return dataclasses.asdict(a) | {"ci95": list(a.ci95)}

    return {
        "count": len(reps.runs),
        "representative": reps.representative,
        "method": "the top-level figures are the representative repetition's: the median by "
        "items/sec (the lower middle for an even count); ci95 is Student t's interval of the "
        "mean over the repetitions",
        "instances_rebuilt": reps.instances_rebuilt,
        "runs": [_repetition(r) for r in reps.runs],
        "items_per_sec": across(reps.items_per_sec),
        "mean_ms": across(reps.mean_ms),
        "median_ms": across(reps.median_ms),
    }


def _repetition(r: RepetitionFigures) -> dict[str, Any]:
    """One repetition; the token figures only when it ran -s generate (other runs' documents
    keep their keys)."""
    out = dataclasses.asdict(r) | {"reasons": list(r.reasons)}
    for key in ("ttft_ms", "tpot_ms", "decode_tokens_per_sec"):
        if out[key] is None:
            del out[key]
    return out


def ab_document(ab: AbResult) -> dict[str, Any]:
    """The JSON of ``pinbench ab -x``: both sides' runs (each the document of ``pinbench -x``),
    the order they ran in, and the comparison."""
    c = ab.comparison
    out = {
        "kind": "pinbench ab",
        "schema_version": AB_SCHEMA_VERSION,
        "timestamp": ab.timestamp or now_iso(),
        "command_line": list(ab.command_line),
        "model": ab.model,
        "metric": c.metric,
        "interrupted": ab.interrupted,
        "a": {"flags": ab.a_flags, "runs": [document(r) for r in ab.a_runs]},
        "b": {"flags": ab.b_flags, "runs": [document(r) for r in ab.b_runs]},
        "order": list(ab.order),
        "comparison": {
            "metric": c.metric,
            "ratio": c.ratio,
            "ci95": list(c.ci95),
            "p_value": c.p_value,
            "significant": c.significant,
            "rounds": c.rounds,
            "alpha": c.alpha,
            "higher_is_better": c.higher_is_better,
            "method": "paired rounds (ABBA order); one-sample Student t test of log(B/A) per "
            "round; ratio = the geometric mean",
        },
    }
    finite: dict[str, Any] = finite_values(out)
    return finite


def sweep_document(sweep: Sweep) -> dict[str, Any]:
    """The JSON of ``pinbench sweep -x``: the grid, every point's row (its figures or its error),
    each model's frontier and best point, and every measured point's full result."""
    out = {
        "kind": "pinbench sweep",
        "schema_version": SWEEP_SCHEMA_VERSION,
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
        "points": [_sweep_point(sweep, i) for i in range(len(sweep.points))],
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
        "results": [document(p.result) if p.result else None for p in sweep.points],
    }
    finite: dict[str, Any] = finite_values(out)
    return finite


def _sweep_point(sweep: Sweep, i: int) -> dict[str, Any]:
    p = sweep.points[i]
    return {
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
        "pareto": i in sweep.frontier,
        "best": any(m.best == i for m in sweep.models),
        "error": p.error,
        "interrupted": p.interrupted,
        "command": list(p.command),
        "sequence_length": p.sequence_length,
        "prompt_tokens": p.prompt_tokens,
        "new_tokens": p.new_tokens,
        "generation": _point_generation(p),
    }


def _axis(values: Iterable[int | None]) -> list[int]:
    return sorted({v for v in values if v is not None})


def _point_generation(p: SweepPoint) -> dict[str, Any] | None:
    """A generate point's token figures: ``pinbench.generation`` without the per-stream detail
    (that stays in the point's full result)."""
    g = p.result.generation if p.result is not None else None
    if g is None:
        return None
    out = generation_dict(g)
    del out["streams"], out["cache_lengths_checked"]
    return out


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
