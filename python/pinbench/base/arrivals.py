"""Arrival schedules of the server scenario: when each query arrives, in ns from the measure start.

Pure functions over a seeded numpy Generator; the runner (``measure(..., arrivals_ns=...)``)
issues the queries at these times into a queue served by the streams.

- ``poisson`` (default, as MLPerf LoadGen's server scenario): the gaps between arrivals are
  independent and exponential with mean ``1 / rate``, drawn from ``numpy.random.default_rng(seed)``,
  so the count in any interval of t seconds is Poisson with mean ``rate * t``; the first query
  arrives after one gap.
- ``uniform``: one query every ``1 / rate`` seconds exactly, the first at 0.

Only arrivals before ``duration`` are scheduled: the runner issues none after its deadline.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .errors import UsageError

if TYPE_CHECKING:
    from numpy.typing import NDArray

DISTRIBUTIONS: tuple[str, ...] = ("poisson", "uniform")
# One schedule holds at most this many arrivals (8 bytes each, and 24 per served sample).
MAX_ARRIVALS = 50_000_000


def check_rate(rate: float, flag: str = "--qps") -> float:
    """``rate`` as a float > 0 (queries per second), or UsageError."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)):
        raise UsageError(f"{flag} must be a number of queries per second > 0, got {rate!r}")
    if not (math.isfinite(rate) and rate > 0):
        raise UsageError(f"{flag} must be a number of queries per second > 0, got {rate}")
    return float(rate)


def parse_distribution(name: str) -> str:
    """'poisson' or 'uniform' (any case), or UsageError."""
    key = name.strip().lower()
    if key not in DISTRIBUTIONS:
        raise UsageError(f"unknown arrival distribution {name!r}: expected poisson or uniform")
    return key


def arrival_schedule(
    rate: float, duration: float, *, distribution: str = "poisson", seed: int = 0
) -> NDArray[np.int64]:
    """Ascending arrival times in ns in ``[0, duration)``, ``rate`` queries per second on average.

    Example::

        >>> a = arrival_schedule(1000.0, 2.0, seed=1)
        >>> a.size  # about 2000  # doctest: +SKIP
        1987
    """
    rate = check_rate(rate)
    distribution = parse_distribution(distribution)
    if not (math.isfinite(duration) and duration > 0):
        raise UsageError(f"the arrival schedule needs a duration > 0 s, got {duration}")
    horizon_ns = duration * 1e9
    expected = rate * duration
    if expected > MAX_ARRIVALS:
        raise UsageError(
            f"--qps {rate:g} for {duration:g} s schedules {expected:.3g} queries, more than "
            f"{MAX_ARRIVALS:.0e}: lower --qps or -t"
        )
    period_ns = 1e9 / rate
    if distribution == "uniform":
        count = math.ceil(horizon_ns / period_ns)
        times = np.arange(count, dtype=np.float64) * period_ns
    else:
        times = _poisson(np.random.default_rng(seed), period_ns, horizon_ns, expected)
    return times[times < horizon_ns].astype(np.int64)


def _poisson(
    rng: np.random.Generator, period_ns: float, horizon_ns: float, expected: float
) -> NDArray[np.float64]:
    """Cumulated exponential gaps until the horizon is passed; drawn in chunks, so the result
    depends only on the seed, never on the chunk sizes' guesses (draws continue one stream)."""
    chunk = int(expected + 6.0 * math.sqrt(expected) + 16)
    parts: list[NDArray[np.float64]] = []
    last = 0.0
    while last < horizon_ns:
        gaps = rng.exponential(period_ns, chunk)
        times = last + np.cumsum(gaps)
        parts.append(times)
        last = float(times[-1])
        chunk = max(16, chunk // 4)
    return np.concatenate(parts)


def offered_rate(arrivals_ns: NDArray[np.int64], duration: float) -> float:
    """Arrivals per second of a schedule over ``duration`` seconds."""
    return float(arrivals_ns.size) / duration if duration > 0 else math.nan
