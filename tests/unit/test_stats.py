"""Statistics against numpy and against values computed by hand (scipy only when importable)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pinbench.base import stats
from pinbench.base.stats import (
    DEEPSPARSE_PERCENTILES,
    PERCENTILES,
    latency_stats,
    mann_whitney_u,
    mean_ci,
    median_ci,
    median_ci_ranks,
    t_quantile,
)
from pinbench.base.throughput import (
    batch_count,
    batch_rates,
    readable_slice_edges,
    slice_edges,
    slice_rates,
    throughput_ci,
    work_done,
)

SAMPLES = [
    np.array([5_000_000]),
    np.array([1_000_000, 3_000_000]),
    np.arange(1, 11) * 1_000_000,
    np.random.default_rng(0).lognormal(15, 0.3, 2001).astype(np.int64),
]


@pytest.mark.parametrize("ns", SAMPLES, ids=["one", "two", "ten", "lognormal"])
def test_latency_stats_match_numpy(ns: np.ndarray) -> None:
    s = latency_stats(ns)
    ms = ns / 1e6
    assert s.count == ns.size
    assert s.mean == pytest.approx(np.mean(ms))
    assert s.median == pytest.approx(np.median(ms))
    assert s.std == pytest.approx(np.std(ms))  # population std, ddof=0
    assert (s.min, s.max) == (pytest.approx(ms.min()), pytest.approx(ms.max()))
    assert list(s.percentiles) == list(PERCENTILES)
    for p in PERCENTILES:
        assert s.percentiles[p] == pytest.approx(np.percentile(ms, p))  # linear interpolation
    assert s.cv == pytest.approx(np.std(ms) / np.mean(ms))


def test_percentiles_on_a_known_sample() -> None:
    # 1..10 ms: type 7 reads p at rank (n-1)p/100: p25 -> 3.25, p90 -> 9.1, p99.9 -> 9.991.
    s = latency_stats(np.arange(1, 11) * 1_000_000)
    assert s.percentiles[25.0] == pytest.approx(3.25)
    assert s.percentiles[90.0] == pytest.approx(9.1)
    assert s.percentiles[99.9] == pytest.approx(9.991)
    assert s.median_ci == (2.0, 9.0)  # ranks 2 and 9 of 10


def test_deepsparse_percentiles_are_a_subset_and_keys_keep_their_format() -> None:
    assert set(DEEPSPARSE_PERCENTILES) < set(PERCENTILES)
    assert 97.0 in PERCENTILES and 97.0 not in DEEPSPARSE_PERCENTILES
    d = latency_stats(np.arange(1, 11) * 1_000_000).to_dict()
    assert list(d["percentiles"]) == [f"{p}%" for p in PERCENTILES]
    assert "99.9%" in d["percentiles"] and "cv" in d and len(d["median_ci"]) == 2


def test_empty_samples_give_nan() -> None:
    s = latency_stats(np.empty(0, dtype=np.int64))
    assert s.count == 0 and math.isnan(s.mean) and math.isnan(s.cv)
    assert all(math.isnan(v) for v in s.median_ci)


def test_cv() -> None:
    assert stats.cv([1.0, 3.0]) == pytest.approx(0.5)
    assert math.isnan(stats.cv([])) and math.isnan(stats.cv([0.0, 0.0]))


# --- median interval -----------------------------------------------------------------------------


def _binomial_cdf(k: int, n: int) -> float:
    return sum(math.comb(n, i) for i in range(k + 1)) / 2**n


@pytest.mark.parametrize("n", [6, 7, 10, 25, 50, 101, 500, 1000])
def test_median_ranks_are_the_tightest_with_95_percent_coverage(n: int) -> None:
    ranks = median_ci_ranks(n)
    assert ranks is not None
    j, k = ranks
    assert k == n - j + 1
    assert 2 * _binomial_cdf(j - 1, n) <= 0.05  # coverage of [x(j), x(n-j+1)] >= 95%
    assert 2 * _binomial_cdf(j, n) > 0.05  # one rank tighter would not cover


def test_median_ranks_small_and_large_n() -> None:
    assert median_ci_ranks(5) is None  # 2 * 2**-5 > 5%: no interval
    assert median_ci_ranks(6) == (1, 6)
    exact, approx = median_ci_ranks(1000), median_ci_ranks(1001)
    assert exact is not None and approx is not None
    assert abs(exact[0] - approx[0]) <= 1  # the normal approximation continues the exact one


def test_median_ci_contains_the_median() -> None:
    x = np.random.default_rng(1).normal(10, 2, 5000)
    lo, hi = median_ci(x)
    assert lo < np.median(x) < hi
    assert hi - lo < 0.3


# --- t and throughput ----------------------------------------------------------------------------

T_975 = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 5: 2.5706, 9: 2.2622, 29: 2.0452, 59: 2.0010}


@pytest.mark.parametrize(("df", "expected"), sorted(T_975.items()))
def test_t_quantile_against_the_table(df: int, expected: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(expected, rel=2e-3)


def test_mean_ci_by_hand() -> None:
    x = np.array([10.0, 12.0, 11.0, 13.0, 9.0])  # mean 11, sd 1.5811
    half = 2.7764 * 1.5811388 / math.sqrt(5)
    lo, hi = mean_ci(x)
    assert (lo, hi) == (pytest.approx(11 - half, rel=1e-3), pytest.approx(11 + half, rel=1e-3))
    assert all(math.isnan(v) for v in mean_ci([1.0]))


def test_work_done_counts_the_iteration_in_flight_by_its_elapsed_fraction() -> None:
    starts = np.array([0, 10, 20], dtype=np.int64)
    ends = np.array([10, 20, 40], dtype=np.int64)
    at = np.array([0, 5, 10, 30, 40, 50], dtype=np.int64)
    assert work_done(starts, ends, at).tolist() == [0.0, 0.5, 1.0, 2.5, 3.0, 3.0]


def _closed_loop(latencies_ns: np.ndarray, t0: int = 1_000) -> tuple[np.ndarray, np.ndarray]:
    ends = t0 + np.cumsum(latencies_ns)
    return (ends - latencies_ns).astype(np.int64), ends.astype(np.int64)


def test_batch_rates_average_to_the_throughput() -> None:
    rng = np.random.default_rng(2)
    streams = [_closed_loop(rng.integers(1_000_000, 9_000_000, n)) for n in (900, 700)]
    window = (min(s[0] for s, _ in streams), max(e[-1] for _, e in streams))
    rates = batch_rates(streams, window, 10)
    throughput = 1600 / ((window[1] - window[0]) / 1e9)
    assert rates.size == 10
    assert rates.mean() == pytest.approx(throughput, rel=1e-9)
    lo, hi = throughput_ci(streams, window)
    assert lo < throughput < hi


def test_slice_rates_are_each_streams_and_sum_to_the_batch_rates() -> None:
    rng = np.random.default_rng(3)
    streams = [_closed_loop(rng.integers(1_000_000, 9_000_000, n)) for n in (900, 700)]
    window = (min(s[0] for s, _ in streams), max(e[-1] for _, e in streams))
    seconds = (window[1] - window[0]) / 1e9
    rates = slice_rates(streams, slice_edges(window, 10), [1.0, 2.0])
    assert rates.shape == (2, 10)
    assert rates[0].mean() == pytest.approx(900 / seconds, rel=1e-9)
    assert rates[1].mean() == pytest.approx(2 * 700 / seconds, rel=1e-9)  # weighted
    np.testing.assert_allclose(rates.sum(axis=0), batch_rates(streams, window, 10, [1.0, 2.0]))


def test_readable_slices_have_a_round_width_and_fold_a_sliver_into_the_last() -> None:
    edges, width = readable_slice_edges((5, 5 + 12_030_000_000))
    assert width == 1.0 and edges.size == 13  # 12 slices, the last 1.03 s
    assert (edges[0], edges[-1]) == (5, 5 + 12_030_000_000)
    assert set(np.diff(edges[:-1]).tolist()) == {1_000_000_000}
    edges, width = readable_slice_edges((0, 300_000_000))
    assert width == 0.02 and edges.size == 16  # 0.05 s would give 6 slices
    edges, width = readable_slice_edges((0, 50_000_000))
    assert width == pytest.approx(0.005) and edges.size == 11  # narrower than any: a tenth


def test_a_steady_stream_has_a_tight_throughput_interval() -> None:
    s = _closed_loop(np.full(2000, 5_000_000))  # 200 it/s for 10 s
    lo, hi = throughput_ci([s], (int(s[0][0]), int(s[1][-1])))
    assert lo == pytest.approx(200, rel=1e-6) and hi == pytest.approx(200, rel=1e-6)


def test_batch_count_rule() -> None:
    assert batch_count(0.3, 59) == 10  # short windows still get 10 slices
    assert batch_count(0.3, 30) == 6  # at least 5 iterations per slice
    assert batch_count(25.7, 10_000) == 25  # one per second
    assert batch_count(600, 10**6) == 60  # at most 60
    assert batch_count(1, 9) == 1 and batch_count(0, 100) == 0
    s = _closed_loop(np.full(9, 5_000_000))
    assert all(math.isnan(v) for v in throughput_ci([s], (int(s[0][0]), int(s[1][-1]))))


# --- Mann-Whitney U ------------------------------------------------------------------------------


def test_mann_whitney_known_value() -> None:
    # scipy's documentation example: U = 17, asymptotic p = 0.11134688653314041.
    r = mann_whitney_u([19, 22, 16, 29, 24], [20, 11, 17, 12])
    assert r.u == 17.0
    assert r.p == pytest.approx(0.11134688653314041, rel=1e-9)


def test_mann_whitney_by_hand_with_ties() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 6, 40), rng.integers(1, 7, 30)
    # U by its definition: pairs where x wins, ties count one half.
    u = float((x[:, None] > y[None, :]).sum() + 0.5 * (x[:, None] == y[None, :]).sum())
    both = np.concatenate([x, y])
    _, counts = np.unique(both, return_counts=True)
    n1, n2, n = x.size, y.size, both.size
    var = n1 * n2 / 12 * ((n + 1) - (counts**3 - counts).sum() / (n * (n - 1)))
    z = (abs(u - n1 * n2 / 2) - 0.5) / math.sqrt(var)
    r = mann_whitney_u(x, y)
    assert r.u == u
    assert r.p == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-12)


def test_mann_whitney_edges() -> None:
    assert mann_whitney_u([1, 1, 1], [1, 1]).p == 1.0  # all tied
    assert math.isnan(mann_whitney_u([], [1.0]).p)
    apart = mann_whitney_u(np.arange(100), np.arange(100) + 1000)
    assert apart.p < 1e-20 and apart.u == 0


def test_mann_whitney_against_scipy_when_available() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(4)
    for x, y in [
        (rng.random(300), rng.random(200) + 0.05),
        (rng.integers(0, 4, 50), rng.integers(0, 5, 60)),
    ]:
        ours = mann_whitney_u(x, y)
        ref = scipy_stats.mannwhitneyu(x, y, method="asymptotic")
        assert ours.u == ref.statistic
        assert ours.p == pytest.approx(ref.pvalue, rel=1e-9)
