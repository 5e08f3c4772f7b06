"""The run document (``pinbench -x``): its writer (``Result`` -> dict) and its reader (dict ->
``RunDoc``), side by side.

The top level and ``benchmark_result`` carry exactly the keys of deepsparse.benchmark's export,
computed the same way (latency in ms per batch, numpy's linear-interpolation percentiles,
population std, ``items_per_sec = batch_size * iterations / window``). Everything pinbench adds
lives under ``"pinbench"``, versioned by ``schema_version`` (``version.RUN_SCHEMA``; history in
docs/results.md). The sections that no report reads back are written by ``run_sections``.

A new key: write it in ``_pinbench_section`` (or its section's writer in ``run_sections``),
and when a report shows it, read it in ``read_run`` into a field of ``RunDoc``.

Example::

    >>> r = pinbench.benchmark("squeezenet", time=0.5, warmup_time=0.2)  # doctest: +SKIP
    >>> doc = read_run(write_run(r))  # doctest: +SKIP
    >>> doc.items_per_sec == r.items_per_sec  # doctest: +SKIP
    True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from ...base.errors import MESSAGE_ROOM, PinbenchError, gist, one_line
from ...base.shapes import parse_input_shapes
from ...base.stats import CONFIDENCE, DEEPSPARSE_PERCENTILES, percentile_key
from ...base.version import pinbench_version
from ..config import DEEPSPARSE_SCENARIO
from ..samples import locate
from .generation import read_generation, write_generation
from .hardware import HardwareDoc, read_hardware
from .run_sections import (
    auto_streams_dict,
    find_qps_dict,
    frequency_dict,
    instances_dict,
    interference_dict,
    memory_dict,
    profile_dict,
    repetitions_dict,
    roofline_dict,
    server_dict,
    startup_dict,
)
from .values import finite_values, interval, now_iso, number, optional_number
from .version import RUN_SCHEMA, instances_counted, qps_achieved_over, run_schema

if TYPE_CHECKING:
    from pathlib import Path

    from ...settings import RunSettings
    from ..generation import GenerationFigures
    from ..record import Result, StreamFigures


@dataclass(frozen=True)
class RunDoc:
    """One run as its JSON recorded it (latencies in ms per batch), any schema: what the
    reports show of it, and the document itself (``data``), which writing it gives back."""

    path: str  # the file it came from ("" when read from a dict)
    schema: int  # pinbench.schema_version; 0 for the original's export
    model: str
    engine: str  # the engine's name ("" when unknown)
    engine_version: str
    scenario: str  # pinbench's name (sync, async, elastic, server)
    num_streams: int
    num_cores: int
    batch_size: int
    input_shapes: dict[str, list[int]]  # per input, as run ({} when unknown)
    items_per_sec: float
    items_per_sec_ci: tuple[float, float] | None
    mean_ms: float
    median_ms: float
    std_ms: float
    min_ms: float
    max_ms: float
    median_ci: tuple[float, float] | None
    percentiles: dict[float, float]  # 25 ... 99.9 -> ms
    iterations: int
    seconds: float
    valid: bool | None  # None: the file predates the verdict
    reasons: tuple[tuple[str, str], ...]  # (rule, message)
    interrupted: bool
    timestamp: str
    command_line: tuple[str, ...]
    environment: dict[str, Any]
    stream_cpus: tuple[tuple[int, ...], ...]  # CPUs each stream ran on
    samples_named: str | None  # the samples file the JSON names, as written
    samples: Path | None  # that file, found beside the JSON; None when absent
    data: dict[str, Any] = field(default_factory=dict, repr=False)  # the document itself
    generation: GenerationFigures | None = None  # -s generate's token figures
    hardware: HardwareDoc | None = None  # counters and energy; None: not recorded
    # config.engine.instances and what it counts: "plan" (schema 4's meaning) or "stream"
    # (before the instance plan: one per stream); see version.instances_counted
    engine_instances: int | None = None
    instances_counted: str = "plan"
    # server.qps_achieved, and what it is over: "window" (schema 4's meaning) or "span" (the
    # first arrival to the last end); None outside the server scenario
    qps_achieved: float | None = None
    qps_achieved_over: str | None = None
    # -r N: each repetition's figure by metric (items_per_sec, median; ttft, tpot and
    # decode_tokens_per_sec when generating); {} with fewer than two repetitions
    repetitions: dict[str, tuple[float, ...]] = field(default_factory=dict)


Run = Union["Result", RunDoc]  # a run as measured, or as read back


def write_run(run: Run) -> dict[str, Any]:
    """The whole export: the original's keys and the ``pinbench`` section; NaN as null. A run
    read back is written as it was read (its own schema: its keys keep their meanings)."""
    if isinstance(run, RunDoc):
        return dict(run.data)
    out = deepsparse_document(run)
    out["pinbench"] = _pinbench_section(run)
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
        "schema_version": RUN_SCHEMA,
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
        out["generation"] = write_generation(result.generation)
    if result.repetitions is not None:
        out["repetitions"] = repetitions_dict(result.repetitions)
    if result.roofline is not None:
        out["roofline"] = roofline_dict(result.roofline)
    if result.counters is not None:
        out["counters"] = result.counters.to_dict()
    if result.energy is not None:
        out["energy"] = result.energy.to_dict()
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
        "schema_version": RUN_SCHEMA,
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


def _statistics_methods() -> dict[str, Any]:
    return {
        "percentiles": "numpy linear interpolation (Hyndman & Fan type 7)",
        "std": "population (ddof=0)",
        "confidence": CONFIDENCE,
        "median_ci": "binomial order statistics (exact to n=1000, normal approximation above)",
        "items_per_sec_ci": "batch means over equal slices of the window (1 s each, 10 to 60 "
        "slices), Student t",
    }


def read_run(data: dict[str, Any], path: str = "") -> RunDoc:
    """A run document of any schema (deepsparse.benchmark's own export too); ``path`` locates
    its samples file beside it. A missing optional key reads as None (or NaN for a figure)."""
    br = data["benchmark_result"]
    pb = data.get("pinbench") or {}
    config = pb.get("config") or {}
    result = pb.get("result") or {}
    latency = result.get("latency_ms") or {}
    validity = pb.get("validity")
    engine = config.get("engine") or {}
    server = pb.get("server")
    entry = pb.get("samples") if isinstance(pb.get("samples"), dict) else None
    return RunDoc(
        path=path,
        schema=run_schema(pb),
        model=str(data.get("orig_model_path") or data.get("model_path") or "?"),
        engine=str(engine.get("name", "")),
        engine_version=str(engine.get("version", "")),
        scenario=str(config.get("scenario") or _scenario(data.get("scenario"))),
        num_streams=int(config.get("num_streams", data.get("num_streams") or 1)),
        num_cores=int(config.get("num_cores", data.get("num_cores") or 0)),
        batch_size=int(data.get("batch_size") or 1),
        input_shapes=dict(config.get("input_shapes") or {}),
        items_per_sec=number(br["items_per_sec"]),
        items_per_sec_ci=interval(result.get("items_per_sec_ci")),
        mean_ms=number(br.get("mean")),
        median_ms=number(br.get("median")),
        std_ms=number(br.get("std")),
        min_ms=number(latency.get("min")),
        max_ms=number(latency.get("max")),
        median_ci=interval(latency.get("median_ci")),
        percentiles=_percentiles(latency.get("percentiles") or br),
        iterations=int(br.get("iterations") or 0),
        seconds=number(br.get("seconds_ran")),
        valid=None if validity is None else bool(validity["valid"]),
        reasons=tuple(
            (str(r["rule"]), str(r.get("message", r["rule"])))
            for r in (validity or {}).get("reasons", [])
        ),
        interrupted=bool(pb.get("interrupted", False)),
        timestamp=str(pb.get("timestamp") or ""),
        command_line=tuple(str(a) for a in pb.get("command_line") or ()),
        environment=dict(pb.get("environment") or {}),
        stream_cpus=tuple(tuple(int(c) for c in s.get("cpus", ())) for s in pb.get("streams", [])),
        samples_named=None if entry is None else str(entry.get("path")),
        samples=locate(entry, path) if path else None,
        data=data,
        generation=read_generation(pb.get("generation")),
        hardware=read_hardware(pb.get("counters"), pb.get("energy")),
        engine_instances=None if engine.get("instances") is None else int(engine["instances"]),
        instances_counted=instances_counted(pb),
        qps_achieved=optional_number(server.get("qps_achieved")) if server else None,
        qps_achieved_over=qps_achieved_over(pb) if server else None,
        repetitions=_repetitions(pb.get("repetitions")),
    )


def _repetitions(entry: Any) -> dict[str, tuple[float, ...]]:
    """Each repetition's throughput and median latency, when the run has two or more."""
    runs = entry.get("runs") if isinstance(entry, dict) else None
    if not isinstance(runs, list) or len(runs) < 2:
        return {}
    out = {
        "items_per_sec": tuple(number(r.get("items_per_sec")) for r in runs),
        "median": tuple(number(r.get("median_ms")) for r in runs),
    }
    # -s generate's repetitions carry their token figures (schema 3 on, when generating)
    for key, field_ in (("ttft", "ttft_ms"), ("tpot", "tpot_ms"),
                        ("decode_tokens_per_sec", "decode_tokens_per_sec")):  # fmt: skip
        if all(r.get(field_) is not None for r in runs):
            out[key] = tuple(number(r.get(field_)) for r in runs)
    return out


def _scenario(name: Any) -> str:
    """The original's scenario names as pinbench's."""
    return {"singlestream": "sync", "multistream": "async"}.get(str(name), str(name or "?"))


def _percentiles(block: dict[str, Any]) -> dict[float, float]:
    out = {}
    for key, value in block.items():
        if isinstance(key, str) and key.endswith("%") and value is not None:
            try:
                out[float(key[:-1])] = float(value)
            except ValueError:
                continue
    return dict(sorted(out.items()))
