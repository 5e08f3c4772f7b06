"""The server scenario's figures (``-s server --qps Q``): what was offered, what was served, and
how late queries started.

Queries arrive on a schedule fixed before the run (``base.arrivals``: Poisson by default,
seeded), whether or not a stream is free; the C++ runner issues each at its time into one FIFO
queue that the streams serve. Latency counts from the **scheduled arrival**, so time spent queued
counts, as in MLPerf LoadGen's server scenario. Figures:

- the requested rate and the achieved rate: queries served per second of the open loop's
  window, from the measure start (the schedule's time 0) to the deadline or the last query's
  end, whichever is later (the whole time queries were offered and served). A rate over fewer
  than ``MIN_QUERIES_FOR_RATE`` served queries is marked unreliable: a Poisson count of n
  varies by about 1/sqrt(n) (10% at 100), and a handful of queries says little;
- ``scheduled`` (arrivals due before the deadline), ``served`` (queries a stream took) and
  ``dropped`` (due before the deadline, still queued ``drain`` seconds after it: the run could
  not keep up);
- lateness, ``start - scheduled arrival`` of each query: how many started more than
  ``LATE_THRESHOLD_MS`` after their arrival, and the mean, p50, p99 and max of the lateness.

A query of generation requests (``-s server`` with a request's shape) is a whole request: its
calls are one unit (``Measurement.calls_per_unit``), counted once here; its token figures are
``result.generation``'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .measurement import Measurement

# A query is "late" when it started more than this after its arrival (waking a stream costs a
# few tens of microseconds on a busy host; anything past this waited for a free stream).
LATE_THRESHOLD_MS = 0.1
# Below this many served queries the achieved rate is marked unreliable.
MIN_QUERIES_FOR_RATE = 100


@dataclass(frozen=True)
class Lateness:
    """How late queries started after their scheduled arrival (ms)."""

    count: int  # queries measured
    late: int  # queries that started more than threshold_ms after their arrival
    threshold_ms: float
    mean_ms: float
    median_ms: float
    p99_ms: float
    max_ms: float

    @property
    def late_fraction(self) -> float:
        return self.late / self.count if self.count else math.nan


@dataclass(frozen=True)
class ServerFigures:
    """A server run: the rate asked for, what was served, and lateness."""

    qps_requested: float
    qps_achieved: float  # queries served per second of the open loop's window (see above)
    arrivals: str  # poisson | uniform
    arrivals_seed: int
    arrivals_served: int  # queries a stream took
    arrivals_dropped: int  # due before the deadline and never served
    drain_seconds: float
    lateness: Lateness
    arrivals_scheduled: int = 0  # due before the deadline: served + dropped

    @property
    def rate_reliable(self) -> bool:
        """False when the achieved rate rests on fewer than MIN_QUERIES_FOR_RATE queries."""
        return self.arrivals_served >= MIN_QUERIES_FOR_RATE


def lateness(m: Measurement, threshold_ms: float = LATE_THRESHOLD_MS) -> Lateness:
    """Lateness of every stored query (with ``max_samples`` caps: of the stored sample, the
    late count scaled to every query)."""
    unit = m.calls_per_unit  # an arrival is a unit: its first call is the query's start
    parts = [s.late_ns[::unit] for s in m.streams if s.late_ns is not None]
    late_ns = np.concatenate(parts) if parts else np.empty(0, np.int64)
    if late_ns.size == 0:
        nan = math.nan
        return Lateness(0, 0, threshold_ms, nan, nan, nan, nan)
    ms = late_ns.astype(np.float64) / 1e6
    count = m.iterations // unit
    late = int(np.count_nonzero(ms > threshold_ms))
    if ms.size < count:  # capped samples: scale the sampled fraction to every query
        late = round(late * count / ms.size)
    p50, p99 = np.percentile(ms, (50.0, 99.0))
    return Lateness(
        count=count,
        late=late,
        threshold_ms=threshold_ms,
        mean_ms=float(ms.mean()),
        median_ms=float(p50),
        p99_ms=float(p99),
        max_ms=float(ms.max()),
    )


def server_figures(
    m: Measurement, qps: float, arrivals: str, seed: int, drain_seconds: float
) -> ServerFigures:
    """The figures of a server run's measurement."""
    served, dropped = int(m.arrivals_issued or 0), int(m.arrivals_dropped or 0)
    return ServerFigures(
        qps_requested=qps,
        qps_achieved=achieved_rate(m),
        arrivals=arrivals,
        arrivals_seed=seed,
        arrivals_served=served,
        arrivals_dropped=dropped,
        drain_seconds=drain_seconds,
        lateness=lateness(m),
        arrivals_scheduled=served + dropped,
    )


def achieved_rate(m: Measurement) -> float:
    """Queries served per second of the open loop's window: from the measure start (the
    schedule's time 0) to the deadline or the last end, whichever is later; to the last end
    when a signal cut the run short. NaN when nothing was served."""
    window = m.window_ns
    if window is None or not m.measure_start_ns:
        return math.nan
    end = window[1] if m.interrupted or m.deadline_ns is None else max(window[1], m.deadline_ns)
    seconds = (end - m.measure_start_ns) / 1e9
    return m.iterations / m.calls_per_unit / seconds if seconds > 0 else math.nan


def server_warnings(f: ServerFigures, seconds_to_run: float) -> list[str]:
    """What a person should know about a server run: it could not keep up."""
    out = []
    if f.arrivals_dropped:
        out.append(
            f"{f.arrivals_dropped} queries were still queued {f.drain_seconds:g} s after the "
            "deadline and were dropped: the rate exceeds what these streams serve"
        )
    achieved = f.qps_achieved
    if math.isfinite(achieved) and achieved < f.qps_requested * (
        1.0 - _rate_slack(f, seconds_to_run)
    ):
        out.append(
            f"achieved {achieved:.1f} queries/s of the {f.qps_requested:g} requested: overloaded, "
            "latency grew with the queue"
        )
    return out


def _rate_slack(f: ServerFigures, seconds: float) -> float:
    """How far below the requested rate the achieved one may fall by chance: 5%, or three
    standard deviations of a Poisson count over the run, whichever is larger."""
    expected = f.qps_requested * seconds
    return max(0.05, 3.0 / math.sqrt(expected)) if expected > 0 else 1.0
