"""Arrival schedules of the server scenario: when each query arrives, in ns from the measure start.

Pure functions over a seeded numpy Generator; the runner (``measure(..., arrivals_ns=...)``)
issues the queries at these times into a queue served by the streams.

- ``poisson`` (default, as MLPerf LoadGen's server scenario): a Poisson process of ``rate``
  conditioned on its count over the window: ``rate * duration`` arrivals (rounded up or down at
  random, in proportion, so the mean count is exact), at independent uniform times, sorted, drawn
  from ``numpy.random.default_rng(seed)``. The gaps are those of a Poisson process (exponential
  with mean ``1 / rate``, up to the one constraint) and the count in a part of t seconds is
  binomial, about Poisson's for t well below the window; what the condition removes is the noise
  of the total: an unconditioned process offers 200 expected arrivals give or take 7%
  (1/sqrt(200)), so a short trial of ``--find-qps`` was offered more or less than its rate by
  chance, and with one seed for every trial, by the same share in each (12% less, measured).
  LoadGen runs long enough (10 minutes) for that noise to vanish; a search's trials of seconds
  do not.
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
    """Ascending arrival times in ns in ``[0, duration)``, ``rate`` queries per second.

    Example::

        >>> a = arrival_schedule(1000.0, 2.0, seed=1)
        >>> a.size  # Poisson's times, and the count rate x duration (see the module docstring)
        2000
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
    if distribution == "uniform":
        period_ns = 1e9 / rate
        count = math.ceil(horizon_ns / period_ns)
        times = np.arange(count, dtype=np.float64) * period_ns
        return times[times < horizon_ns].astype(np.int64)
    return _poisson(np.random.default_rng(seed), horizon_ns, expected)


def _poisson(rng: np.random.Generator, horizon_ns: float, expected: float) -> NDArray[np.int64]:
    """``expected`` arrivals (rounded at random in proportion) at sorted uniform times in
    ``[0, horizon_ns)``: a Poisson process conditioned on its count."""
    whole = math.floor(expected)
    count = whole + int(rng.random() < expected - whole)
    times = np.sort(rng.uniform(0.0, horizon_ns, count))
    return np.minimum(times.astype(np.int64), math.ceil(horizon_ns) - 1)


def offered_rate(arrivals_ns: NDArray[np.int64], duration: float) -> float:
    """Arrivals per second of a schedule over ``duration`` seconds."""
    return float(arrivals_ns.size) / duration if duration > 0 else math.nan
