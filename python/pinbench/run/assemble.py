"""A result assembled once from what was measured: every figure the reporters show is computed
here, and nowhere after."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..base.stats import throughput_ci
from ..result.record import Result, StreamFigures
from ..result.server import server_figures
from ..result.validity import assess

if TYPE_CHECKING:
    from ..result.config import RunConfig
    from ..result.measurement import Measurement, StreamMeasurement
    from ..settings import RunSettings


def assemble(
    settings: RunSettings,
    config: RunConfig,
    m: Measurement,
    *,
    environment: dict[str, Any],
    clock: dict[str, float],
    core_cpus: list[list[int]],
    samples: dict[str, Any] | None = None,
) -> Result:
    """The Result of a measurement: throughput and its interval, latency statistics, per-stream
    figures, the server scenario's figures and the verdict."""
    batch = config.batch_size
    seconds = m.seconds
    lo, hi = throughput_ci(
        [(s.starts_ns, s.ends_ns) for s in m.streams], m.window_ns, weights=weights(m.streams)
    )
    latency = m.latency
    server = None
    if config.scenario == "server":
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
            stream_figures(s, config.stream_threads[s.index], batch, seconds) for s in m.streams
        ),
        validity=assess(m, latency, clock, environment, core_cpus),
        server=server,
        environment=environment,
        clock=clock,
        core_cpus=core_cpus,
        samples=samples,
    )


def stream_figures(
    s: StreamMeasurement, threads: int, batch: int, run_seconds: float = 0.0
) -> StreamFigures:
    """One stream's figures: over its own span, from its first start to its last end; its GIL
    wait as a share of the run's window (``run_seconds``)."""
    span = (int(s.starts_ns[0]), int(s.ends_ns[-1])) if s.starts_ns.size else None
    window = (s.ends_ns[-1] - s.starts_ns[0]) / 1e9 if s.iterations and s.starts_ns.size else 0.0
    lo, hi = throughput_ci([(s.starts_ns, s.ends_ns)], span, weights=weights([s]))
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
        gil_wait_ms=None if s.step_wait_ns is None else s.step_wait_ns / 1e6,
        gil_wait_share=(
            s.step_wait_ns / 1e9 / run_seconds
            if s.step_wait_ns is not None and run_seconds > 0
            else None
        ),
        pid=s.pid,
    )


def first_iteration_ms(s: StreamMeasurement) -> float:
    """A stream's first measured iteration's latency in ms (the cold one after -w 0); NaN when it
    has none or when capped samples (--max-samples) may not hold it."""
    if s.starts_ns.size == 0 or s.starts_ns.size < s.iterations:
        return math.nan
    return float(s.latencies_ns[0]) / 1e6


def weights(streams: list[StreamMeasurement]) -> list[float]:
    """Iterations per stored sample of each stream (1.0 unless --max-samples capped them)."""
    return [s.iterations / s.starts_ns.size if s.starts_ns.size else 1.0 for s in streams]
