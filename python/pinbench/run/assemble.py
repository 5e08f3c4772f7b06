"""A result assembled once from what was measured: every figure the reporters show is computed
here, and nowhere after."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..base.stats import Trend, cv, trend
from ..base.throughput import batch_count, batch_rates, throughput_ci, trend_slices
from ..result.generation import GenerationFigures, generation_figures
from ..result.memory import InstanceMemory, Memory, WorkerMemory
from ..result.profile import OperatorRow, Profile
from ..result.record import Result, StreamFigures
from ..result.server import server_figures
from ..result.startup import STARTUP_PARTS, InstanceStartup, Startup, StreamStartup
from ..result.validity import assess

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ..base.process import MemoryReading
    from ..base.profiling import OperatorProfile
    from ..result.config import RunConfig
    from ..result.counters import Counters
    from ..result.frequency import Frequencies
    from ..result.interference import Interference
    from ..result.measurement import Measurement, StreamMeasurement
    from ..result.startup import StartMarks
    from ..settings import RunSettings
    from .instances import BuildLog


def assemble(
    settings: RunSettings,
    config: RunConfig,
    m: Measurement,
    *,
    environment: dict[str, Any],
    clock: dict[str, float],
    core_cpus: list[list[int]],
    samples: dict[str, Any] | None = None,
    load: Interference | None = None,
    freq: Frequencies | None = None,
    start: StartMarks | None = None,
    build: BuildLog | None = None,
    peak: MemoryReading | None = None,
    counters: Counters | None = None,
) -> Result:
    """The Result of a measurement: throughput and its interval, latency statistics, per-stream
    figures, the server scenario's figures, the interference measured, the verdict, the
    start-up (``start``, with ``build``: the instances' and streams' own) and the memory
    (``build``'s readings and the ``peak`` read at the window's end)."""
    batch = config.batch_size
    seconds = m.seconds
    pairs = [(s.starts_ns, s.ends_ns) for s in m.streams]
    lo, hi = throughput_ci(pairs, m.window_ns, weights=iterations_per_sample(m.streams))
    stored = sum(int(s.starts_ns.size) for s in m.streams)
    throughput_cv = slice_cv(pairs, m.window_ns, stored, iterations_per_sample(m.streams))
    throughput_trend = slice_trend(pairs, m.window_ns, stored, iterations_per_sample(m.streams))
    latency = m.latency
    server = None
    if settings.open_loop:
        s = settings.server
        assert s.qps is not None  # validated
        drain = s.drain if s.drain is not None else config.seconds_to_run
        server = server_figures(m, float(s.qps), s.arrivals, settings.inputs.seed, drain)
    return Result(
        settings=settings,
        config=config,
        measurement=m,
        items_per_sec=batch * m.iterations / seconds if seconds > 0 else math.nan,
        items_per_sec_ci=(lo * batch, hi * batch),
        latency=latency,
        streams=tuple(
            stream_figures(
                s,
                config.stream_threads[s.index],
                batch,
                seconds,
                _instance_of(config, s.index),
                _core_type_of(config, s.index),
            )
            for s in m.streams
        ),
        throughput_cv=throughput_cv,
        throughput_trend=throughput_trend,
        validity=assess(
            m,
            latency,
            clock,
            environment,
            core_cpus,
            throughput_cv=throughput_cv,
            throughput_trend=throughput_trend,
            load=load,
            freq=freq,
            counters=counters,
        ),
        interference=load,
        frequency=freq,
        server=server,
        generation=generation(settings, config, m),
        environment=environment,
        clock=clock,
        core_cpus=core_cpus,
        samples=samples,
        startup=startup(start, build) if start is not None else None,
        memory=memory(build, peak, m) if build is not None else None,
        counters=counters,
    )


def generation(
    settings: RunSettings, config: RunConfig, m: Measurement
) -> GenerationFigures | None:
    """-s generate's token figures (None in the other scenarios)."""
    if not settings.generates:
        return None
    g = settings.generation
    checked = config.engine_options.get("generation_cache_lengths_checked") or ()
    return generation_figures(
        m,
        prompt_tokens=g.prompt_tokens,
        new_tokens=g.new_tokens,
        depth=g.depth,
        batch_size=config.batch_size,
        tokens=g.tokens,
        kv_cache_bytes=config.kv_cache.cache_bytes_per_stream if config.kv_cache else None,
        cache_lengths=tuple(int(n) for n in checked),  # type: ignore[attr-defined]
    )


def memory(build: BuildLog, peak: MemoryReading | None, m: Measurement | None = None) -> Memory:
    """The memory figures: the readings around the instances (``build``), the peak, and each
    worker's own (``m``'s, with process isolation)."""
    instances = tuple(
        InstanceMemory(b.index, b.stream, b.rss_before_bytes, b.rss_after_bytes, b.overlapped)
        for b in sorted(build.instances, key=lambda b: b.index)
    )
    sent = m.extra.get("worker_memory", []) if m is not None else []
    workers = tuple(
        WorkerMemory(s.index, s.pid, r.get("pss"), r.get("rss"), r.get("peak_rss"))
        for s, r in zip(m.streams if m is not None else (), sent)
        if r is not None
    )
    return Memory(
        build.before.rss_bytes if build.before is not None else None,
        build.after.rss_bytes if build.after is not None else None,
        peak.peak_bytes if peak is not None else None,
        instances,
        workers,
    )


def startup(start: StartMarks, build: BuildLog | None = None) -> Startup | None:
    """The start-up figures from its marks (and ``build``'s per instance and per stream); None
    when the measurement never began."""
    end = start.marks.get("warmup")
    if end is None:
        return None
    parts: list[tuple[str, float]] = []
    last = start.origin_ns
    for name, _ in STARTUP_PARTS:
        ns = start.marks.get(name)
        if ns is None or ns < last:
            continue  # not reached on this path (the API has no "interpreter" part)
        parts.append((name, (ns - last) / 1e9))
        last = ns
    warmup = dict(parts).get("warmup", 0.0)
    total = (end - start.origin_ns) / 1e9
    if build is None:
        return Startup(
            start.origin, total, total - warmup, tuple(parts), unknown_parts=start.unknown
        )
    instances = tuple(
        InstanceStartup(b.index, b.stream, (b.end_ns - b.start_ns) / 1e9)
        for b in sorted(build.instances, key=lambda b: b.index)
    )
    streams = tuple(
        StreamStartup(
            b.stream,
            b.instance,
            (b.end_ns - b.start_ns) / 1e9,
            (b.end_ns - b.bind_start_ns) / 1e9,
            tuple(ns / 1e6 for ns in b.first_inferences_ns),
        )
        for b in sorted(build.streams, key=lambda b: b.stream)
    )
    return Startup(
        start.origin, total, total - warmup, tuple(parts), instances, streams, start.unknown
    )


def profile_figures(
    raw: OperatorProfile | None,
    directory: str,
    engine: str,
    profiler: str,
    iterations: int,
    *,
    measurement: Measurement | None = None,
    seconds: float = 0.0,
    reason: str = "",
    interrupt: str | None = None,
) -> Profile:
    """The profile of a pass: its operators' table (every type, most time first, with its share
    of the inferences' time as the profiler measured it), or why there is none."""
    if raw is None or raw.inferences == 0:
        return Profile(directory, engine, profiler, False, reason or "no inference profiled",
                       iterations_per_stream=iterations, interrupt=interrupt)  # fmt: skip
    n = raw.inferences
    rows = tuple(
        OperatorRow(
            op.op_type,
            op.count,
            op.total_ns / 1e6,
            op.total_ns / n / 1e6,
            op.total_ns / raw.inference_ns if raw.inference_ns > 0 else math.nan,
        )
        for op in sorted(raw.operators, key=lambda o: (-o.total_ns, o.op_type))
    )
    return Profile(
        directory,
        engine,
        raw.profiler,
        True,
        reason,
        iterations_per_stream=iterations,
        streams=len(measurement.streams) if measurement is not None else 0,
        inferences=n,
        inference_ms=raw.inference_ns / n / 1e6 if raw.inference_ns > 0 else math.nan,
        profiled_latency_ms=measurement.latency.mean if measurement is not None else math.nan,
        seconds=seconds,
        operators=rows,
        files=raw.files,
        notes=raw.notes,
        interrupt=interrupt,
    )


def _instance_of(config: RunConfig, stream: int) -> int | None:
    plan = config.instances
    return plan.of_stream[stream] if plan is not None else None


def _core_type_of(config: RunConfig, stream: int) -> str | None:
    types = config.stream_core_types
    return types[stream] if stream < len(types) else None


def stream_figures(
    s: StreamMeasurement,
    threads: int,
    batch: int,
    run_seconds: float = 0.0,
    instance: int | None = None,
    core_type: str | None = None,
) -> StreamFigures:
    """One stream's figures: over its own span, from its first start to its last end; its GIL
    wait as a share of the run's window (``run_seconds``)."""
    span = (int(s.starts_ns[0]), int(s.ends_ns[-1])) if s.starts_ns.size else None
    window = (s.ends_ns[-1] - s.starts_ns[0]) / 1e9 if s.iterations and s.starts_ns.size else 0.0
    lo, hi = throughput_ci([(s.starts_ns, s.ends_ns)], span, weights=iterations_per_sample([s]))
    return StreamFigures(
        index=s.index,
        cpus_planned=s.planned_cpus,
        cpus=s.cpus,
        engine_threads=threads,
        iterations=s.iterations,
        warmup_iterations=s.warmup_iterations,
        items_per_sec=batch * s.iterations / window if window else None,
        items_per_sec_ci=(lo * batch, hi * batch),
        latency=s.latency,
        first_iteration_ms=first_iteration_ms(s),
        instance=instance,
        gil_wait_ms=None if s.step_wait_ns is None else s.step_wait_ns / 1e6,
        gil_wait_share=(
            s.step_wait_ns / 1e9 / run_seconds
            if s.step_wait_ns is not None and run_seconds > 0
            else None
        ),
        pid=s.pid,
        core_type=core_type,
    )


def slice_cv(
    pairs: list[tuple[NDArray[Any], NDArray[Any]]],
    window_ns: tuple[int, int] | None,
    iterations: int,
    stream_weights: list[float],
) -> float:
    """The coefficient of variation of the throughput over the slices of the throughput's
    interval (NaN with fewer than 2 slices)."""
    if window_ns is None:
        return math.nan
    slices = batch_count((window_ns[1] - window_ns[0]) / 1e9, iterations)
    if slices < 2:
        return math.nan
    return cv(batch_rates(pairs, window_ns, slices, stream_weights))


def slice_trend(
    pairs: list[tuple[NDArray[Any], NDArray[Any]]],
    window_ns: tuple[int, int] | None,
    iterations: int,
    stream_weights: list[float],
) -> Trend | None:
    """The trend of the throughput over finer slices than the CV's (None with too few)."""
    if window_ns is None:
        return None
    slices = trend_slices((window_ns[1] - window_ns[0]) / 1e9, iterations)
    if slices < 2:
        return None
    return trend(batch_rates(pairs, window_ns, slices, stream_weights))


def first_iteration_ms(s: StreamMeasurement) -> float:
    """A stream's first measured iteration's latency in ms (the cold one after -w 0); NaN when it
    has none or when capped samples (--max-samples) may not hold it."""
    if s.starts_ns.size == 0 or s.starts_ns.size < s.iterations:
        return math.nan
    return float(s.latencies_ns[0]) / 1e6


def iterations_per_sample(streams: list[StreamMeasurement]) -> list[float]:
    """Iterations per stored sample of each stream (1.0 unless --max-samples capped them)."""
    return [s.iterations / s.starts_ns.size if s.starts_ns.size else 1.0 for s in streams]
