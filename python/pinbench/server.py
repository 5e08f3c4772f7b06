"""The server scenario (``-s server --qps Q``): open-loop arrivals served by the pinned streams.

Queries arrive on a schedule fixed before the run (``arrivals.py``: Poisson by default, seeded),
whether or not a stream is free; the C++ runner issues each at its time into one FIFO queue that
the streams serve (a queue with N servers; the engine layout is async's: one instance per stream,
built on its pinned thread). Latency counts from the **scheduled arrival**, so time spent queued
counts, as in MLPerf LoadGen's server scenario. Reported besides the usual figures:

- the requested rate and the achieved rate (queries served / measured window, queries/s);
- ``arrivals_issued`` (queries a stream took) and ``arrivals_dropped`` (due before the deadline,
  still queued ``drain`` seconds after it: the run could not keep up);
- lateness, ``start - scheduled arrival`` of each query: how many started more than
  ``LATE_THRESHOLD_MS`` after their arrival, and the mean, p50, p99 and max of the lateness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .arrivals import arrival_schedule, check_rate, parse_distribution
from .errors import UsageError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .measurement import Measurement
    from .results import Result

# A query is "late" when it started more than this after its arrival (waking a stream costs a
# few tens of microseconds on a busy host; anything past this waited for a free stream).
LATE_THRESHOLD_MS = 0.1


@dataclass(frozen=True)
class ServerSettings:
    """What the server scenario was asked for (recorded in the JSON as asked)."""

    qps: float  # requested arrival rate, queries (batches) per second
    arrivals: str = "poisson"  # poisson | uniform
    seed: int = 0  # seed of the arrival schedule
    drain_s: float | None = None  # backlog served after the deadline; None = the duration

    def schedule(self, duration: float) -> NDArray[np.int64]:
        """The arrival times in ns from the measure start, for a run of ``duration`` seconds."""
        return arrival_schedule(self.qps, duration, distribution=self.arrivals, seed=self.seed)


def server_settings(
    scenario: str, qps: float | None, arrivals: str = "poisson", seed: int = 0
) -> ServerSettings | None:
    """The settings of a server run (None for the other scenarios); UsageError when ``--qps`` is
    missing for the server scenario or given for another."""
    if scenario != "server":
        if qps is not None:
            raise UsageError(f"--qps applies to the server scenario: add -s server, not {scenario}")
        return None
    if qps is None:
        raise UsageError("the server scenario needs an arrival rate: add --qps QUERIES_PER_SEC")
    return ServerSettings(check_rate(qps), parse_distribution(arrivals), int(seed))


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "queries": self.count,
            "late": self.late,
            "late_fraction": self.late_fraction,
            "threshold_ms": self.threshold_ms,
            "mean_ms": self.mean_ms,
            "median_ms": self.median_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
        }


def lateness(m: Measurement, threshold_ms: float = LATE_THRESHOLD_MS) -> Lateness:
    """Lateness of every stored query (with ``max_samples`` caps: of the stored sample, the
    late count scaled to every query)."""
    parts = [s.late_ns for s in m.streams if s.late_ns is not None]
    late_ns = np.concatenate(parts) if parts else np.empty(0, np.int64)
    if late_ns.size == 0:
        nan = math.nan
        return Lateness(0, 0, threshold_ms, nan, nan, nan, nan)
    ms = late_ns.astype(np.float64) / 1e6
    count = m.iterations
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


def achieved_qps(m: Measurement) -> float:
    """Queries served per second over the measured window (first arrival served to last end)."""
    return m.throughput


def section(result: Result) -> dict[str, Any] | None:
    """The JSON's ``pinbench.server`` section; None unless the run was a server run."""
    settings = result.config.server
    if settings is None:
        return None
    m = result.measurement
    return {
        "qps_requested": settings.qps,
        "qps_achieved": achieved_qps(m),
        "arrivals": settings.arrivals,
        "arrivals_seed": settings.seed,
        "arrivals_issued": m.arrivals_issued,
        "arrivals_dropped": m.arrivals_dropped,
        "drain_seconds": settings.drain_s
        if settings.drain_s is not None
        else result.config.seconds_to_run,
        "latency_from": "scheduled arrival (queueing included)",
        "lateness": lateness(m).to_dict(),
    }


def lines(result: Result) -> list[str]:
    """Console lines of a server run, after the original's (none for the other scenarios)."""
    settings = result.config.server
    if settings is None:
        return []
    m = result.measurement
    late = lateness(m)
    out = [
        f"Server Requested Rate (queries/sec): {settings.qps:.4f}",
        f"Server Achieved Rate (queries/sec): {achieved_qps(m):.4f}",
        f"Server Arrivals: {settings.arrivals} (seed {settings.seed}), "
        f"{m.arrivals_issued} issued, {m.arrivals_dropped} dropped",
    ]
    if late.count:
        out += [
            f"Server Late Queries: {late.late} of {late.count} ({late.late_fraction:.2%}) "
            f"started more than {late.threshold_ms:g} ms after arrival",
            f"Server Lateness Mean / p50 / p99 / Max (ms): {late.mean_ms:.4f} / "
            f"{late.median_ms:.4f} / {late.p99_ms:.4f} / {late.max_ms:.4f}",
        ]
    return out


def warnings_for(result: Result) -> list[str]:
    """What a person should know about a server run: it could not keep up."""
    settings, m = result.config.server, result.measurement
    if settings is None:
        return []
    out = []
    if m.arrivals_dropped:
        drain = settings.drain_s if settings.drain_s is not None else result.config.seconds_to_run
        out.append(
            f"{m.arrivals_dropped} queries were still queued {drain:g} s after the deadline and "
            "were dropped: the rate exceeds what these streams serve"
        )
    achieved = achieved_qps(m)
    if math.isfinite(achieved) and achieved < settings.qps * (1.0 - _rate_slack(settings, result)):
        out.append(
            f"achieved {achieved:.1f} queries/s of the {settings.qps:g} requested: overloaded, "
            "latency grew with the queue"
        )
    return out


def _rate_slack(settings: ServerSettings, result: Result) -> float:
    """How far below the requested rate the achieved one may fall by chance: 5%, or three
    standard deviations of a Poisson count over the run, whichever is larger."""
    expected = settings.qps * result.config.seconds_to_run
    return max(0.05, 3.0 / math.sqrt(expected)) if expected > 0 else 1.0
