"""``-nstreams auto``: short closed-loop probes choose the number of streams.

One probe per candidate number of streams N over the selected cores C: the divisors of C and the
powers of two up to C (N streams of C/N cores each, group sizes differing by at most one). Each
probe builds the candidate's engine instances on their pinned threads, warms up
``min(warmup, probe_time / 2)`` seconds and measures ``probe_time`` seconds. The chosen N has the
highest throughput; a candidate with fewer streams within ``TIE_TOLERANCE`` (3%) of it is
preferred, since fewer streams mean more cores per inference and lower latency, and a 3% gap is
within a short probe's noise. The table of what was tried is printed and exported
(``pinbench.auto_streams``). ``sync`` always runs one stream.

Thread streams that the GIL bounds (a probe of two or more streams whose GIL wait exceeds
``validity.GIL_SHARE_LIMIT`` of their time) are probed again in process isolation, a worker
process per stream; that probe competes like any other (thread streams win a tie: they start
faster and share the interpreter's memory), and the table records each probe's isolation.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

from ..base.errors import Interrupted, RunError, UsageError
from ..base.logs import log
from ..base.throughput import throughput_ci
from ..result.sweep_record import overlaps, runner_up
from ..result.tuning import TIE_TOLERANCE, StreamProbe, StreamTuning, cores_label
from ..result.validity import GIL_SHARE_LIMIT
from ..run.assemble import iterations_per_sample
from ..run.execute import Window, checked_engine, layout_for, measure_layout
from ..run.repeat import run_repeated

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
    return min(close, key=lambda p: (p.num_streams, p.isolation != "thread"))


def probe_for(layout: Layout, m: Measurement, batch_size: int) -> StreamProbe:
    """A StreamProbe from a probe's measurement."""
    lat = m.latency
    pairs = [(s.starts_ns, s.ends_ns) for s in m.streams]
    lo, hi = throughput_ci(pairs, m.window_ns, weights=iterations_per_sample(m.streams))
    return StreamProbe(
        num_streams=layout.num_streams,
        cores_per_stream=tuple(s.threads for s in layout.streams),
        items_per_sec=batch_size * m.throughput,
        iterations=m.iterations,
        seconds=m.seconds,
        median_ms=lat.median,
        p99_ms=lat.percentiles.get(99.0, math.nan),
        items_per_sec_ci=(lo * batch_size, hi * batch_size),
        isolation=layout.isolation,
        gil_wait_share=m.gil_wait_share,
    )


def auto_layout(
    base: Layout,
    plan_for: Callable[[int, str], Layout],
    run_probe: Callable[[Layout, float, float], Measurement],
    *,
    batch_size: int,
    probe_time: float,
    warmup: float,
    tolerance: float = TIE_TOLERANCE,
) -> tuple[Layout, StreamTuning | None]:
    """Probes each candidate and returns the chosen layout and the table (None for ``sync``).

    ``base`` is the scenario's default layout, ``plan_for(n, isolation)`` the layout of n
    streams and ``run_probe(layout, warmup_s, measure_s)`` a closed-loop measurement of it.
    """
    if base.scenario == "sync":
        return base, None
    probe_warmup = min(warmup, probe_time / 2.0)
    probes: list[StreamProbe] = []
    layouts: dict[tuple[int, str], Layout] = {}

    def try_layout(layout: Layout) -> StreamProbe:
        layouts[layout.num_streams, layout.isolation] = layout
        m = run_probe(layout, probe_warmup, probe_time)
        probe = probe_for(layout, m, batch_size)
        log.info(
            "auto probe: %d stream(s) of %s core(s), %s isolation: %.1f items/s, median %.3f ms",
            layout.num_streams,
            cores_label(probe.cores_per_stream),
            layout.isolation,
            probe.items_per_sec,
            probe.median_ms,
        )
        probes.append(probe)
        if m.interrupted:
            raise Interrupted(m.interrupt, "probe")
        return probe

    for n in stream_candidates(base.num_cores):
        probe = try_layout(plan_for(n, base.isolation))
        if gil_bound(probe) and not layouts[n, "thread"].shared_instance:
            try_layout(plan_for(n, "process"))
    best = choose_streams(probes, tolerance)
    thr = [p.items_per_sec for p in probes]
    second = runner_up(thr, probes.index(best), list(range(len(probes))))
    noise = second is not None and overlaps(best.items_per_sec_ci, probes[second].items_per_sec_ci)
    tuning = StreamTuning(
        tuple(probes),
        best.num_streams,
        probe_time,
        probe_warmup,
        tolerance,
        runner_up=None if second is None else probes[second].num_streams,
        within_noise=noise,
        chosen_isolation=best.isolation,
    )
    chosen = dataclasses.replace(
        layouts[best.num_streams, best.isolation], num_streams_reason=tuning.reason()
    )
    return chosen, tuning


def gil_bound(probe: StreamProbe) -> bool:
    """True for a probe of two or more thread streams that the GIL limited."""
    share = probe.gil_wait_share
    return (
        probe.isolation == "thread"
        and probe.num_streams >= 2
        and share is not None
        and share > GIL_SHARE_LIMIT
    )


def choose_layout(prepared: Prepared, settings: RunSettings) -> tuple[Layout, StreamTuning | None]:
    """The layout ``-nstreams auto`` chooses for ``settings``, by probes over ``prepared``."""

    def run_probe(layout: Layout, warmup: float, seconds: float) -> Measurement:
        window = Window(warmup, seconds, max_samples=PROBE_MAX_SAMPLES)
        engine = checked_engine(prepared, layout)
        prepared.announce()  # after the first probe's checks, before it runs
        return measure_layout(prepared, settings, layout, window, engine)[1]

    def plan_for(n: int, isolation: str) -> Layout:
        lay = dataclasses.replace(settings.layout, isolation=isolation)
        return layout_for(prepared, dataclasses.replace(settings, layout=lay), n)

    layout, tuning = auto_layout(
        layout_for(prepared, settings),
        plan_for,
        run_probe,
        batch_size=prepared.batch_size,
        probe_time=settings.search.probe_time,
        warmup=settings.measure.warmup_bound,  # -w auto: the probes' is fixed, short
    )
    return layout, tuning


def run_benchmark(
    prepared: Prepared, settings: RunSettings, *, on_start: OnStart | None = None
) -> Result:
    """One benchmark of ``settings`` over ``prepared``: with the streams it names, or those
    ``-nstreams auto``'s probes choose; ``settings.measure.repeat`` times (``run_repeated``).

    Example::

        >>> result = run_benchmark(prepared, settings)  # doctest: +SKIP
    """
    tuning = None
    if settings.auto_streams:
        layout, tuning = choose_layout(prepared, settings)
    else:
        layout = layout_for(prepared, settings)  # execute logs it once its checks have passed
    return run_repeated(prepared, settings, layout, auto_streams=tuning, on_start=on_start)
