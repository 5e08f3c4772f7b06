"""``--find-qps``: the highest server rate whose latency percentile meets a target.

A search over the server scenario's arrival rate for the highest rate whose latency percentile
(``--percentile``, queueing included) meets ``--latency-slo``, with no query dropped:

1. capacity: a closed-loop (async) probe of ``probe_time`` seconds on the same streams gives the
   rate the streams sustain when never idle, ``mu``; no open loop can sustain more. If even its
   median latency (no queueing) exceeds the target, no rate can meet it: one-line error.
2. search (``bisect_rate``): a trial runs the server scenario at one rate for
   ``max(probe_time, n / rate)`` seconds, at most ``-t``, where n = ``needed_iterations(p)``
   (10 samples beyond the percentile: 1000 for p99). The first trial is at ``0.55 mu``; until a
   trial fails the next tests the upper end ``1.1 mu``, doubled each time it passes (a noisy
   machine's probe may be low); then bisection between the highest passing and the lowest
   failing rate, until they are within ``tolerance`` (2%) of each other or ``max_trials`` (10)
   trials have run.
3. the best rate that met the target is run again for the full ``-t``: that run is the result
   (console and JSON), with the trials in ``pinbench.find_qps``.

Every run is over one prepared model: the model is loaded once. The tail of a short trial is
noisy, so the answer is good to a few percent, not to a query.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

from ..base.errors import Interrupted, RunError
from ..base.logs import log, quiet_logs
from ..result.search import QPS_HEADROOM, QPS_MAX_TRIALS, QPS_TOLERANCE, QpsSearch, QpsTrial
from ..result.validity import needed_iterations
from ..settings import OutputSettings
from .auto_streams import benchmark_streams

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..result.measurement import Measurement
    from ..result.record import Result
    from ..run.execute import OnStart
    from ..run.prepare import Prepared
    from ..settings import NumStreams, RunSettings


def latency_at(m: Measurement, percentile: float) -> float:
    """The ``percentile`` of every stored latency, ms (numpy's linear interpolation)."""
    import numpy as np

    lat = m.latencies_ns()
    return float(np.percentile(lat, percentile)) / 1e6 if lat.size else math.nan


def bisect_rate(
    trial: Callable[[float], QpsTrial],
    capacity: float,
    *,
    tolerance: float = QPS_TOLERANCE,
    max_trials: int = QPS_MAX_TRIALS,
) -> list[QpsTrial]:
    """The trials, in the order run, of a search for the highest rate with ``trial(rate).meets``,
    assuming a rate meets the target when any lower one does.

    The first trial is at half of ``QPS_HEADROOM * capacity``. Until a trial fails, the next one
    tests that upper end, doubling it each time it passes (the capacity probe was low); once one
    has failed, bisection between the highest passing and the lowest failing rate, until they are
    within ``tolerance`` of the latter or ``max_trials`` have run.
    """
    lo, hi, failed = 0.0, QPS_HEADROOM * capacity, False
    trials: list[QpsTrial] = []
    while len(trials) < max_trials and not (failed and hi - lo <= tolerance * hi):
        rate = hi if not failed and lo > 0 else (lo + hi) / 2.0
        t = trial(rate)
        trials.append(t)
        if t.meets:
            lo = rate
            if not failed and rate == hi:
                hi *= 2.0
        else:
            hi, failed = rate, True
    return trials


def variant(
    settings: RunSettings,
    *,
    scenario: str,
    time: float,
    warmup: float,
    qps: float | None = None,
    num_streams: NumStreams = None,
) -> RunSettings:
    """``settings`` for one run of the search: no outputs of its own, no search of its own."""
    s = settings
    return dataclasses.replace(
        s,
        layout=dataclasses.replace(s.layout, scenario=scenario, num_streams=num_streams),
        measure=dataclasses.replace(s.measure, time=time, warmup_time=warmup),
        server=dataclasses.replace(s.server, qps=qps),
        search=dataclasses.replace(s.search, find_qps=False, latency_slo_ms=None),
        outputs=OutputSettings(),
    )


def find_qps(
    prepared: Prepared, settings: RunSettings, *, on_start: OnStart | None = None
) -> Result:
    """The final server run at the highest rate found, its ``config.find_qps`` holding the
    search; RunError when no rate meets the target.

    REQUIRES: ``settings`` validated, with ``search.find_qps`` and a ``latency_slo_ms``.
    """
    search = settings.search
    slo, percentile, probe_time = search.latency_slo_ms, search.percentile, search.probe_time
    assert slo is not None  # validated
    time, warmup = settings.measure.time, settings.measure.warmup_time
    probe_warmup = min(warmup, probe_time / 2.0)

    capacity_run = _capacity_run(prepared, settings, probe_warmup)
    capacity = capacity_run.iterations / capacity_run.seconds_ran
    # auto: chosen once, by the capacity run's probes
    streams = capacity_run.config.num_streams if settings.auto_streams else settings.fixed_streams
    needed = needed_iterations(percentile)

    def trial(rate: float) -> QpsTrial:
        seconds = min(max(probe_time, needed / rate), max(probe_time, time))
        run = variant(
            settings,
            scenario="server",
            time=seconds,
            warmup=probe_warmup,
            qps=rate,
            num_streams=streams,
        )
        with quiet_logs():
            r = benchmark_streams(prepared, run)
        if r.interrupted:  # a signal stops the search, not just this trial
            raise Interrupted(r.measurement.interrupt, "probe")
        return _trial(r, rate, seconds, percentile, slo)

    trials = bisect_rate(
        trial, capacity, tolerance=search.qps_tolerance, max_trials=search.qps_max_trials
    )
    passed = [t for t in trials if t.meets]
    if not passed:
        lowest = min(trials, key=lambda t: t.qps)
        raise RunError(
            f"no rate meets p{percentile:g} <= {slo:g} ms: the lowest tried, "
            f"{lowest.qps:.1f} queries/s, gave {lowest.latency_ms:.3f} ms"
        )
    best = max(t.qps for t in passed)
    log.info("find-qps: %.1f queries/s; confirming for %g s", best, time)
    final_settings = dataclasses.replace(
        variant(
            settings, scenario="server", time=time, warmup=warmup, qps=best, num_streams=streams
        ),
        outputs=settings.outputs,
    )
    final = benchmark_streams(prepared, final_settings, on_start=on_start)
    confirmed = latency_at(final.measurement, percentile)
    meets = bool(confirmed <= slo and not final.measurement.arrivals_dropped)
    if not meets:
        log.warning(
            "find-qps: over the full -t, p%g was %.3f ms at %.1f queries/s, above the target: "
            "short trials see less of the queue's tail; raise --probe-time",
            percentile,
            confirmed,
            best,
        )
    record = QpsSearch(
        slo,
        percentile,
        capacity,
        tuple(trials),
        best,
        search.qps_tolerance,
        search.qps_max_trials,
        final_latency_ms=confirmed,
        final_meets=meets,
    )
    reason = (
        capacity_run.config.num_streams_reason
        if settings.auto_streams
        else final.config.num_streams_reason
    )
    config = dataclasses.replace(
        final.config,
        find_qps=record,
        auto_streams=capacity_run.config.auto_streams,
        num_streams_reason=reason,
    )
    return dataclasses.replace(final, config=config, settings=settings)


def _capacity_run(prepared: Prepared, settings: RunSettings, warmup: float) -> Result:
    """The closed-loop run whose rate bounds every open loop's; RunError when even its median
    misses the target (queueing can only add to it)."""
    search = settings.search
    closed = variant(
        settings,
        scenario="async",
        time=search.probe_time,
        warmup=warmup,
        num_streams=settings.layout.num_streams,
    )
    run = benchmark_streams(prepared, closed)
    if run.interrupted:
        raise Interrupted(run.measurement.interrupt, "probe")
    log.info(
        "find-qps: closed-loop capacity %.1f queries/s on %d stream(s), median %.3f ms",
        run.iterations / run.seconds_ran,
        run.config.num_streams,
        run.latency.median,
    )
    slo = search.latency_slo_ms
    assert slo is not None  # validated
    if run.latency.median > slo:
        raise RunError(
            f"no rate can meet p{search.percentile:g} <= {slo:g} ms: one inference alone "
            f"takes {run.latency.median:.3f} ms (median, no queueing)"
        )
    return run


def _trial(r: Result, rate: float, seconds: float, percentile: float, slo: float) -> QpsTrial:
    m = r.measurement
    value = latency_at(m, percentile)
    t = QpsTrial(
        qps=rate,
        seconds=seconds,
        qps_achieved=r.server.qps_achieved if r.server is not None else m.throughput,
        latency_ms=value,
        median_ms=r.latency.median,
        issued=int(m.arrivals_issued or 0),
        dropped=int(m.arrivals_dropped or 0),
        meets=bool(value <= slo and not m.arrivals_dropped),
    )
    log.info(
        "find-qps trial: %.1f queries/s for %.2f s: p%g %.3f ms, %d dropped: %s",
        rate,
        seconds,
        percentile,
        value,
        t.dropped,
        "meets" if t.meets else "misses",
    )
    return t
