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
3. confirmation: the best rate that met the target runs ``CONFIRMATIONS`` (2) more times for the
   full ``-t``, and each must meet it too; when one misses, the rate steps down by 5% and is
   confirmed again, at most 3 times. The first run at the rate that held is the result (console
   and JSON), with the trials and the confirmations in ``pinbench.find_qps``. An answer that no
   confirmation held is reported as unconfirmed (the command exits 1).

A trial or confirmation that misses while its verdict names ``interference`` runs again, at
most ``DISTURBED_RERUNS`` (2) times (``undisturbed``): other work on the streams' CPUs, not the
rate, made it miss.

Every run is over one prepared model: the model is loaded once. The tail of a short trial is
noisy, so the answer is good to a few percent, not to a query.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..base.errors import Interrupted, RunError
from ..base.logs import log, quiet_logs
from ..result.generation import request_latencies_ms, request_times_ms
from ..result.tuning import (
    QPS_HEADROOM,
    QPS_MAX_TRIALS,
    QPS_TOLERANCE,
    QpsSearch,
    QpsTrial,
    describe_target,
)
from ..result.validity import needed_iterations
from ..settings import OutputSettings
from .auto_streams import run_benchmark

CONFIRMATIONS = 2  # runs of the full -t at the answer; each must meet the target
# A trial or confirmation that misses beside other work on its CPUs runs again, at most this often
DISTURBED_RERUNS = 2
STEP_DOWN = 0.95  # the rate after a missed confirmation, times the one that missed
MAX_STEPS_DOWN = 3

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


@dataclass(frozen=True)
class Target:
    """What a rate must hold: a latency percentile (queries), or a generation request's time to
    first token and time per output token (either or both), each at ``percentile``."""

    percentile: float
    latency_slo_ms: float | None = None
    ttft_slo_ms: float | None = None
    tpot_slo_ms: float | None = None
    new_tokens: int = 0  # -s generate: tokens per request (TPOT needs two or more)

    @classmethod
    def of(cls, settings: RunSettings) -> Target:
        s = settings.search
        if settings.generates:
            g = settings.generation
            return cls(s.percentile, None, s.ttft_slo_ms, s.tpot_slo_ms, g.new_tokens)
        return cls(s.percentile, s.latency_slo_ms)

    def judge(self, r: Result) -> QpsTrial:
        """A trial's figures (its rate and seconds left 0, for the caller to set)."""
        m = r.measurement
        latency = latency_at(m, self.percentile)
        ttft = tpot = None
        meets = not m.arrivals_dropped
        if self.latency_slo_ms is not None:
            meets = meets and latency <= self.latency_slo_ms
        if self.ttft_slo_ms is not None or self.tpot_slo_ms is not None:
            ttfts, tpots = request_times_ms(m, self.new_tokens)
            ttft = _percentile(ttfts, self.percentile)
            tpot = _percentile(tpots, self.percentile) if tpots.size else None
            if self.ttft_slo_ms is not None:
                meets = meets and ttft <= self.ttft_slo_ms
            if self.tpot_slo_ms is not None:
                meets = meets and tpot is not None and tpot <= self.tpot_slo_ms
            latency = request_latency_at(m, self.percentile)
        achieved = r.server.qps_achieved if r.server is not None else m.throughput
        return QpsTrial(0.0, 0.0, achieved, latency, r.latency.median,
                        int(m.arrivals_issued or 0), int(m.arrivals_dropped or 0),
                        bool(meets), ttft, tpot)  # fmt: skip

    def hopeless(self, closed: Result) -> str | None:
        """Why no rate can meet the target, judged on the closed-loop run (no queueing can
        make anything faster), or None."""
        if self.latency_slo_ms is not None and closed.latency.median > self.latency_slo_ms:
            return f"one inference alone takes {closed.latency.median:.3f} ms (median, no queueing)"
        g = closed.generation
        if g is None:
            return None
        if self.ttft_slo_ms is not None and g.ttft_ms and g.ttft_ms.median > self.ttft_slo_ms:
            return f"a request's first token alone takes {g.ttft_ms.median:.3f} ms (median)"
        slo, tpot = self.tpot_slo_ms, g.tpot_per_request_ms
        if slo is not None and tpot is not None and tpot.median > slo:
            return f"a token alone takes {tpot.median:.3f} ms (median, no queueing)"
        return None

    def describe(self) -> str:
        return describe_target(
            self.percentile, self.latency_slo_ms, self.ttft_slo_ms, self.tpot_slo_ms
        )


def _percentile(values: Any, p: float) -> float:
    import numpy as np

    return float(np.percentile(values, p)) if len(values) else math.nan


def request_latency_at(m: Measurement, percentile: float) -> float:
    """The ``percentile`` of each generation request's latency from its arrival, ms."""
    return _percentile(request_latencies_ms(m), percentile)


def variant(
    settings: RunSettings,
    *,
    scenario: str,
    time: float,
    warmup: float | str,
    qps: float | None = None,
    num_streams: NumStreams = None,
) -> RunSettings:
    """``settings`` for one run of the search: no outputs of its own, no search of its own."""
    s = settings
    return dataclasses.replace(
        s,
        layout=dataclasses.replace(s.layout, scenario=scenario, num_streams=num_streams),
        measure=dataclasses.replace(s.measure, time=time, warmup_time=warmup, repeat=1),
        server=dataclasses.replace(s.server, qps=qps),
        search=dataclasses.replace(
            s.search, find_qps=False, latency_slo_ms=None, ttft_slo_ms=None, tpot_slo_ms=None
        ),
        outputs=OutputSettings(),
    )


def search_rate(
    prepared: Prepared, settings: RunSettings, *, on_start: OnStart | None = None
) -> Result:
    """The final server run at the highest rate found, its ``config.find_qps`` holding the
    search; RunError when no rate meets the target.

    REQUIRES: ``settings`` validated, with ``search.find_qps`` and a target.
    """
    search = settings.search
    percentile, probe_time = search.percentile, search.probe_time
    target = Target.of(settings)
    # Generation requests arrive as -s generate's open loop; queries as the server scenario's.
    served = "generate" if settings.generates else "server"
    time, warmup = settings.measure.time, settings.measure.warmup_time
    # The capacity run and the trials warm up for a fixed short time (also with -w auto); the
    # confirmation runs warm up as asked.
    probe_warmup = min(settings.measure.warmup_bound, probe_time / 2.0)

    capacity_run = _capacity_run(prepared, settings, probe_warmup, target)
    m = capacity_run.measurement
    capacity = capacity_run.iterations / m.calls_per_unit / capacity_run.seconds_ran
    # auto: chosen once, by the capacity run's probes
    streams = capacity_run.config.num_streams if settings.auto_streams else settings.fixed_streams
    needed = needed_iterations(percentile)

    def trial(rate: float) -> QpsTrial:
        seconds = min(max(probe_time, needed / rate), max(probe_time, time))
        run = variant(
            settings,
            scenario=served,
            time=seconds,
            warmup=probe_warmup,
            qps=rate,
            num_streams=streams,
        )

        def once() -> tuple[Result, QpsTrial]:
            with quiet_logs():
                r = run_benchmark(prepared, run)
            if r.interrupted:  # a signal stops the search, not just this trial
                raise Interrupted(r.measurement.interrupt, "probe")
            return r, _trial(r, rate, seconds, target)

        return undisturbed(once)[1]

    trials = bisect_rate(
        trial, capacity, tolerance=search.qps_tolerance, max_trials=search.qps_max_trials
    )
    passed = [t for t in trials if t.meets]
    if not passed:
        lowest = min(trials, key=lambda t: t.qps)
        raise RunError(
            f"no rate meets {target.describe()}: the lowest tried, {lowest.qps:.1f} queries/s, "
            f"gave {_figures(lowest, percentile)}"
        )
    best = max(t.qps for t in passed)

    def confirm(rate: float) -> tuple[Result, QpsTrial]:
        run = dataclasses.replace(
            variant(
                settings, scenario=served, time=time, warmup=warmup, qps=rate, num_streams=streams
            ),
            outputs=settings.outputs,
        )

        def once() -> tuple[Result, QpsTrial]:
            r = run_benchmark(prepared, run, on_start=on_start)
            return r, _trial(r, rate, time, target)

        return undisturbed(once)

    final, confirmations, confirmed = _confirm(confirm, best, percentile, time)
    record = QpsSearch(
        target.latency_slo_ms,
        percentile,
        capacity,
        tuple(trials),
        confirmed if confirmed is not None else best,
        search.qps_tolerance,
        search.qps_max_trials,
        final_latency_ms=target.judge(final).latency_ms,
        final_meets=confirmations[-1].meets,
        confirmations=tuple(confirmations),
        confirmed=confirmed is not None,
        ttft_slo_ms=target.ttft_slo_ms,
        tpot_slo_ms=target.tpot_slo_ms,
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


def undisturbed(run: Callable[[], tuple[Result, QpsTrial]]) -> tuple[Result, QpsTrial]:
    """``run()``, again while it misses the target and its verdict names other work on the
    streams' CPUs (``interference``), at most ``DISTURBED_RERUNS`` times: such a miss says how
    busy the machine was, not what the rate does, and a search that took it would answer low.
    The last run, its trial counting the runs set aside (``disturbed``). A run that meets the
    target is kept whatever ran beside it (other work can only have slowed it)."""
    set_aside = 0
    while True:
        r, t = run()
        why = next((x.message for x in r.validity.reasons if x.rule == "interference"), None)
        if t.meets or r.interrupted or why is None or set_aside == DISTURBED_RERUNS:
            return r, dataclasses.replace(t, disturbed=set_aside)
        set_aside += 1
        log.warning(
            "find-qps: %.1f queries/s missed the target beside other work on its CPUs (%s); "
            "running it again",
            t.qps,
            why,
        )


def _confirm(
    confirm: Callable[[float], tuple[Result, QpsTrial]],
    best: float,
    percentile: float,
    time: float,
) -> tuple[Result, list[QpsTrial], float | None]:
    """The search's answer confirmed by ``CONFIRMATIONS`` runs of the full ``-t``, each of which
    must meet the target; when one misses, the rate steps down by ``STEP_DOWN`` and is confirmed
    again, at most ``MAX_STEPS_DOWN`` times. Returns the first run at the rate that held (or the
    last run), every confirmation run, and the confirmed rate (None: none held)."""
    rate, done = best, []
    first: Result | None = None
    for step in range(MAX_STEPS_DOWN + 1):
        log.info(
            "find-qps: %.1f queries/s; confirming with %d runs of %g s", rate, CONFIRMATIONS, time
        )
        held, first = True, None
        for _ in range(CONFIRMATIONS):
            r, t = confirm(rate)
            done.append(t)
            first = first or r
            if r.interrupted:
                return first, done, None
            if not t.meets:
                held = False
                break
        assert first is not None
        if held:
            return first, done, rate
        if step < MAX_STEPS_DOWN:
            log.warning(
                "find-qps: over the full -t, %s at %.1f queries/s missed the target (short "
                "trials see less of the queue's tail); stepping down",
                _figures(done[-1], percentile),
                rate,
            )
            rate *= STEP_DOWN
    assert first is not None
    return first, done, None


def _capacity_run(
    prepared: Prepared, settings: RunSettings, warmup: float, target: Target
) -> Result:
    """The closed-loop run whose rate bounds every open loop's; RunError when even it misses
    the target (queueing can only add to it)."""
    search = settings.search
    closed = variant(
        settings,
        scenario="generate" if settings.generates else "async",
        time=search.probe_time,
        warmup=warmup,
        num_streams=settings.layout.num_streams,
    )
    run = run_benchmark(prepared, closed)
    if run.interrupted:
        raise Interrupted(run.measurement.interrupt, "probe")
    log.info(
        "find-qps: closed-loop capacity %.1f queries/s on %d stream(s), median %.3f ms",
        run.iterations / run.measurement.calls_per_unit / run.seconds_ran,
        run.config.num_streams,
        run.latency.median,
    )
    why = target.hopeless(run)
    if why is not None:
        raise RunError(f"no rate can meet {target.describe()}: {why}")
    return run


def _figures(t: QpsTrial, percentile: float) -> str:
    """A trial's figures at the target's percentile, in words."""
    p = f"p{percentile:g}"
    tokens = "".join(
        f", {p} {label} {value:.3f} ms"
        for label, value in (("TTFT", t.ttft_ms), ("TPOT", t.tpot_ms))
        if value is not None
    )
    return f"{p} {t.latency_ms:.3f} ms{tokens}, {t.dropped} dropped"


def _trial(r: Result, rate: float, seconds: float, target: Target) -> QpsTrial:
    t = dataclasses.replace(target.judge(r), qps=rate, seconds=seconds)
    log.info(
        "find-qps trial: %.1f queries/s for %.2f s: %s: %s",
        rate,
        seconds,
        _figures(t, target.percentile),
        "meets" if t.meets else "misses",
    )
    return t
