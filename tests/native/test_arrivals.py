"""Arrival schedules: seeded, at the requested rate, with the requested distribution; and the
runner serves exactly the schedule it is given."""

from __future__ import annotations

import math

import numpy as np
import pytest

import pinbench
from pinbench.base.arrivals import DISTRIBUTIONS, arrival_schedule, parse_distribution
from pinbench.base.errors import UsageError
from pinbench.settings import ARRIVALS


def test_poisson_is_seeded_and_ascending_within_the_duration() -> None:
    a = arrival_schedule(2000.0, 1.5, seed=7)
    assert a.dtype == np.int64
    assert np.array_equal(a, arrival_schedule(2000.0, 1.5, seed=7))
    assert not np.array_equal(a, arrival_schedule(2000.0, 1.5, seed=8))
    assert np.all(np.diff(a) >= 0)
    assert a[0] >= 0 and a[-1] < 1.5e9


def test_poisson_offers_the_rate_exactly_over_the_window() -> None:
    # The count is the process's conditioned on rate x duration: a short trial of a search is
    # offered the rate asked, not 7% more or less by chance (200 arrivals: 1/sqrt(200)).
    for seed in range(50):
        assert arrival_schedule(100.0, 2.0, seed=seed).size == 200
    # A fractional expectation rounds up or down at random, in proportion: the mean is exact.
    counts = [arrival_schedule(10.0, 0.25, seed=s).size for s in range(400)]  # 2.5 expected
    assert set(counts) == {2, 3} and abs(np.mean(counts) - 2.5) < 0.1


def test_poisson_gaps_are_exponential_at_the_requested_rate() -> None:
    rate = 1000.0
    a = arrival_schedule(rate, 60.0, seed=11)
    gaps = np.diff(np.concatenate([[0], a])).astype(np.float64) / 1e9
    n = gaps.size
    mean = 1.0 / rate
    # The mean gap: within 4 standard errors (an exponential's std equals its mean).
    assert abs(gaps.mean() - mean) < 4 * mean / math.sqrt(n)
    # Coefficient of variation of an exponential: 1 (uniform arrivals would give 0).
    assert abs(gaps.std() / gaps.mean() - 1.0) < 0.03
    # Kolmogorov-Smirnov against Exp(rate), 1% critical value.
    x = np.sort(gaps)
    cdf = 1.0 - np.exp(-rate * x)
    d = max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))
    assert d < 1.63 / math.sqrt(n)


def test_poisson_counts_per_window_have_poisson_dispersion() -> None:
    rate, seconds = 400.0, 50.0
    a = arrival_schedule(rate, seconds, seed=5)
    counts = np.bincount((a // 1_000_000_000).astype(np.int64), minlength=int(seconds))
    # Mean rate within 4 standard errors of a Poisson count; variance / mean about 1.
    assert abs(counts.mean() - rate) < 4 * math.sqrt(rate / seconds)
    assert 0.5 < counts.var() / counts.mean() < 1.6


def test_the_arrivals_are_uniform_over_the_window_whatever_the_seed() -> None:
    # Conditioned on its count, a Poisson process's times are independent and uniform: the
    # first arrival of each seed's schedule lies anywhere early on, not at a fixed gap.
    firsts = np.array([arrival_schedule(300.0, 0.5, seed=s)[0] for s in range(200)]) / 1e9
    mean_gap = 0.5 / (300.0 * 0.5 + 1)  # the minimum of n uniforms on [0, T]: T / (n + 1)
    assert abs(firsts.mean() - mean_gap) < 4 * mean_gap / math.sqrt(firsts.size)


def test_uniform_is_evenly_spaced_from_zero() -> None:
    a = arrival_schedule(400.0, 0.5, distribution="uniform")
    assert a.size == 200 and a[0] == 0
    assert np.all(np.abs(np.diff(a) - 2_500_000) <= 1)
    # A rate that does not divide a second: one arrival per period, none at the horizon.
    b = arrival_schedule(3.0, 1.0, distribution="UNIFORM")
    assert b.tolist() == [0, 333_333_333, 666_666_666]


@pytest.mark.parametrize(
    ("rate", "duration", "distribution", "needle"),
    [
        (0.0, 1.0, "poisson", "--qps"),
        (-5.0, 1.0, "poisson", "--qps"),
        (math.nan, 1.0, "poisson", "--qps"),
        (math.inf, 1.0, "poisson", "--qps"),
        (10.0, 0.0, "poisson", "duration"),
        (10.0, 1.0, "bursty", "poisson or uniform"),
        (1e9, 1e3, "poisson", "lower --qps"),
    ],
)
def test_bad_requests_are_usage_errors(
    rate: float, duration: float, distribution: str, needle: str
) -> None:
    with pytest.raises(UsageError, match=needle):
        arrival_schedule(rate, duration, distribution=distribution)


def test_distribution_names() -> None:
    assert parse_distribution(" Poisson ") == "poisson"
    assert ARRIVALS == DISTRIBUTIONS  # the command's choices, kept free of numpy
    with pytest.raises(UsageError):
        parse_distribution("gamma")


def test_the_runner_serves_exactly_the_schedule() -> None:
    a = arrival_schedule(2000.0, 0.25, seed=2)
    m = pinbench.measure(pinbench.noop(), streams=1, warmup=0.0, duration=0.25, arrivals_ns=a)
    s = m.streams[0]
    assert s.scheduled_ns is not None
    assert np.array_equal(s.scheduled_ns - m.measure_start_ns, a)
    assert m.arrivals_issued == a.size and m.arrivals_dropped == 0
    late = s.late_ns
    assert late is not None and np.all(late >= 0)  # no query starts before it arrives
