"""``-nstreams auto``: short closed-loop probes choose the number of streams.

One probe per candidate number of streams N over the selected cores C: the divisors of C and the
powers of two up to C (N streams of C/N cores each, group sizes differing by at most one). Each
probe builds the candidate's engine instances on their pinned threads, warms up
``min(warmup, probe_time / 2)`` seconds and measures ``probe_time`` seconds. The chosen N has the
highest throughput; a candidate with fewer streams within ``TIE_TOLERANCE`` (3%) of it is
preferred, since fewer streams mean more cores per inference and lower latency, and a 3% gap is
within a short probe's noise. The table of what was tried is printed and exported
(``pinbench.auto_streams``). ``sync`` always runs one stream.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

from ..base.errors import Interrupted, RunError, UsageError
from ..base.logs import log
from ..result.search import TIE_TOLERANCE, StreamProbe, StreamTuning, cores_label
from ..run.execute import Window, execute, measure_layout, plan, ready

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..result.measurement import Measurement
    from ..result.record import Result
    from ..run.execute import OnStart
    from ..run.layout import Layout
    from ..run.prepare import Prepared
    from ..settings import RunSettings

PROBE_MAX_SAMPLES = 100_000  # per stream: a probe needs the throughput, not every sample


def stream_candidates(cores: int) -> list[int]:
    """Numbers of streams worth probing on ``cores`` cores: its divisors and the powers of two
    up to it (``[1, 2]`` on 2 cores, ``[1, 2, 3, 4, 6, 8, 12]`` on 12)."""
    if cores < 1:
        raise UsageError(f"number of cores must be at least 1, got {cores}")
    divisors = {n for n in range(1, cores + 1) if cores % n == 0}
    powers = {1 << k for k in range(cores.bit_length()) if 1 << k <= cores}
    return sorted(divisors | powers)


def choose_streams(probes: Sequence[StreamProbe], tolerance: float = TIE_TOLERANCE) -> StreamProbe:
    """The probe with the highest throughput, or one with fewer streams within ``tolerance``."""
    measured = [p for p in probes if math.isfinite(p.items_per_sec) and p.items_per_sec > 0]
    if not measured:
        raise RunError("-nstreams auto: no probe finished an iteration; raise --probe-time")
    top = max(p.items_per_sec for p in measured)
    close = [p for p in measured if p.items_per_sec >= top * (1.0 - tolerance)]
    return min(close, key=lambda p: p.num_streams)


def probe_for(layout: Layout, m: Measurement, batch_size: int) -> StreamProbe:
    """A StreamProbe from a probe's measurement."""
    lat = m.latency
    return StreamProbe(
        num_streams=layout.num_streams,
        cores_per_stream=tuple(s.threads for s in layout.streams),
        items_per_sec=batch_size * m.throughput,
        iterations=m.iterations,
        seconds=m.seconds,
        median_ms=lat.median,
        p99_ms=lat.percentiles.get(99.0, math.nan),
    )


def auto_layout(
    base: Layout,
    plan_for: Callable[[int], Layout],
    run_probe: Callable[[Layout, float, float], Measurement],
    *,
    batch_size: int,
    probe_time: float,
    warmup: float,
    tolerance: float = TIE_TOLERANCE,
) -> tuple[Layout, StreamTuning | None]:
    """Probes each candidate and returns the chosen layout and the table (None for ``sync``).

    ``base`` is the scenario's default layout, ``plan_for(n)`` the layout of n streams and
    ``run_probe(layout, warmup_s, measure_s)`` a closed-loop measurement of it.
    """
    if base.scenario == "sync":
        return base, None
    probe_warmup = min(warmup, probe_time / 2.0)
    probes: list[StreamProbe] = []
    layouts: dict[int, Layout] = {}
    for n in stream_candidates(base.num_cores):
        layout = plan_for(n)
        layouts[n] = layout
        m = run_probe(layout, probe_warmup, probe_time)
        probe = probe_for(layout, m, batch_size)
        log.info(
            "auto probe: %d stream(s) of %s core(s): %.1f items/s, median %.3f ms",
            n,
            cores_label(probe.cores_per_stream),
            probe.items_per_sec,
            probe.median_ms,
        )
        probes.append(probe)
        if m.interrupted:
            raise Interrupted(m.interrupt, "probe")
    best = choose_streams(probes, tolerance)
    tuning = StreamTuning(tuple(probes), best.num_streams, probe_time, probe_warmup, tolerance)
    chosen = dataclasses.replace(layouts[best.num_streams], num_streams_reason=tuning.reason())
    return chosen, tuning


def choose_layout(prepared: Prepared, settings: RunSettings) -> tuple[Layout, StreamTuning | None]:
    """The layout ``-nstreams auto`` chooses for ``settings``, by probes over ``prepared``."""

    def run_probe(layout: Layout, warmup: float, seconds: float) -> Measurement:
        window = Window(warmup, seconds, max_samples=PROBE_MAX_SAMPLES)
        engine = ready(prepared, layout)
        prepared.announce()  # after the first probe's checks, before it runs
        return measure_layout(prepared, settings, layout, window, engine)[1]

    layout, tuning = auto_layout(
        plan(prepared, settings),
        lambda n: plan(prepared, settings, n),
        run_probe,
        batch_size=prepared.batch_size,
        probe_time=settings.search.probe_time,
        warmup=settings.measure.warmup_time,
    )
    return layout, tuning


def benchmark_streams(
    prepared: Prepared, settings: RunSettings, *, on_start: OnStart | None = None
) -> Result:
    """One run of ``settings`` over ``prepared``: with the streams it names, or, for
    ``-nstreams auto``, those the probes choose."""
    if settings.auto_streams:
        layout, tuning = choose_layout(prepared, settings)
        return execute(prepared, settings, layout, on_start=on_start, auto_streams=tuning)
    return execute(prepared, settings, plan(prepared, settings), on_start=on_start)
