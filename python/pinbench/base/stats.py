"""Statistics of per-iteration samples: small pure functions over numpy arrays (no scipy).

Definitions, used everywhere in pinbench (console, JSON, compare, plots):

- **Percentiles**: numpy's default linear interpolation between the two nearest ranks
  (Hyndman & Fan type 7): the p-th percentile of sorted ``x[0..n-1]`` is read at the fractional
  rank ``(n - 1) * p / 100``. deepsparse.benchmark used the same one, so its keys keep their
  meaning.
- **std**: population std (ddof=0), as deepsparse.benchmark reports it; **cv** = std / mean.
- **Confidence interval of the median** (95%): the distribution-free binomial order-statistic
  interval ``[x(j), x(n-j+1)]`` (1-based order statistics), ``j`` the largest rank with
  ``P(Binomial(n, 1/2) <= j - 1) <= 2.5%``; exact for n <= 1000, normal approximation above.
  Undefined (NaN) below 6 samples.
- **Confidence interval of the throughput** (95%): batch means over slices of the window
  (``base.throughput``).
- **Mann-Whitney U** (two-sided): normal approximation with tie correction and continuity
  correction, as ``scipy.stats.mannwhitneyu(x, y, method="asymptotic")``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike, NDArray

# The percentiles deepsparse.benchmark exports, in its key format ("25.0%"): benchmark_result's.
DEEPSPARSE_PERCENTILES: tuple[float, ...] = (25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9)
# The percentiles pinbench reports (its own section): deepsparse's plus 97 (LoadGen reports it).
PERCENTILES: tuple[float, ...] = (25.0, 50.0, 75.0, 90.0, 95.0, 97.0, 99.0, 99.9)
CONFIDENCE = 0.95

_EXACT_BINOMIAL_MAX_N = 1000


@dataclass(frozen=True)
class LatencyStats:
    """Latency statistics in milliseconds over ``count`` samples (all NaN when count is 0)."""

    count: int
    mean: float
    median: float
    std: float  # population std (ddof=0), as deepsparse.benchmark reports it
    min: float
    max: float
    percentiles: dict[float, float]
    median_ci: tuple[float, float] = (math.nan, math.nan)  # 95%, binomial order statistics

    @property
    def cv(self) -> float:
        """Coefficient of variation: std / mean (NaN without samples or with a zero mean)."""
        return self.std / self.mean if self.count and self.mean else math.nan

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["percentiles"] = {percentile_key(p): v for p, v in self.percentiles.items()}
        d["median_ci"] = list(self.median_ci)
        d["cv"] = self.cv
        return d


def percentile_key(p: float) -> str:
    """The deepsparse key of a percentile: 99.9 -> "99.9%", 25 -> "25.0%"."""
    return f"{float(p)}%"


def latency_stats(
    latencies_ns: NDArray[np.int64] | NDArray[np.float64],
    percentiles: tuple[float, ...] = PERCENTILES,
) -> LatencyStats:
    """Statistics in ms of latencies given in ns, in measured order.

    Example::

        >>> latency_stats(np.array([1_000_000, 3_000_000])).mean
        2.0
    """
    n = int(latencies_ns.size)
    if n == 0:
        nan = float("nan")
        return LatencyStats(0, nan, nan, nan, nan, nan, dict.fromkeys(percentiles, nan))
    ms = np.asarray(latencies_ns, dtype=np.float64) / 1e6
    values = np.percentile(ms, percentiles)
    return LatencyStats(
        count=n,
        mean=float(ms.mean()),
        median=float(np.median(ms)),
        std=float(ms.std()),
        min=float(ms.min()),
        max=float(ms.max()),
        percentiles={p: float(v) for p, v in zip(percentiles, values)},
        median_ci=median_ci(ms),
    )


def cv(values: ArrayLike) -> float:
    """Coefficient of variation, population std / mean; NaN when empty or the mean is 0."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return math.nan
    mean = float(x.mean())
    return float(x.std()) / mean if mean else math.nan


# --- confidence intervals ------------------------------------------------------------------------


def median_ci_ranks(n: int, confidence: float = CONFIDENCE) -> tuple[int, int] | None:
    """1-based ranks ``(j, n - j + 1)`` of the order statistics bounding the median's interval.

    ``j`` is the largest rank with ``P(Binomial(n, 1/2) <= j - 1) <= (1 - confidence) / 2``, so the
    interval covers the median with probability at least ``confidence``. Exact binomial sums up to
    n = 1000, the normal approximation above. None when n is too small for any interval.
    """
    tail = (1.0 - confidence) / 2.0
    if n < 1:
        return None
    if n <= _EXACT_BINOMIAL_MAX_N:
        total = 2**n
        cdf = 0  # P(B <= j - 1) * 2**n, growing with j
        j = 0
        while j < n:
            nxt = cdf + math.comb(n, j)
            if nxt > tail * total:
                break
            cdf = nxt
            j += 1
        if j == 0:
            return None
    else:
        z = NormalDist().inv_cdf(1.0 - tail)
        j = max(1, math.floor((n - z * math.sqrt(n)) / 2.0))
    return j, n - j + 1


def median_ci(values: ArrayLike, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Distribution-free confidence interval of the median; (NaN, NaN) below 6 samples at 95%."""
    x = np.asarray(values, dtype=np.float64).ravel()
    ranks = median_ci_ranks(int(x.size), confidence)
    if ranks is None:
        return (math.nan, math.nan)
    lo, hi = ranks[0] - 1, ranks[1] - 1
    part = np.partition(x, (lo, hi))
    return (float(part[lo]), float(part[hi]))


def t_quantile(p: float, df: int) -> float:
    """Quantile ``p`` of Student's t with ``df`` degrees of freedom.

    Exact for df 1 and 2; above, the Cornish-Fisher expansion of Abramowitz & Stegun 26.7.5
    (relative error below 0.2% at df 3, below 0.01% from df 5).
    """
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2.0 * p - 1.0) / math.sqrt(2.0 * p * (1.0 - p))
    z = NormalDist().inv_cdf(p)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return float(z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4)


def t_two_sided_p(t: float, df: float) -> float:
    """Two-sided p-value of Student's t statistic ``t`` with ``df`` degrees of freedom:
    ``I_{df/(df+t^2)}(df/2, 1/2)``, the regularized incomplete beta function.

    >>> round(t_two_sided_p(2.776, 4), 3)
    0.05
    """
    if not df > 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    if not math.isfinite(t):
        return 0.0 if math.isinf(t) else math.nan
    return regularized_beta(df / (df + t * t), df / 2.0, 0.5)


def welch_t_test(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """(t, two-sided p) of Welch's unequal-variance t test of mean(y) against mean(x); p is NaN
    below 2 values a side, and 1.0 when neither side varies and the means agree.

    >>> round(welch_t_test([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])[1], 4)
    0.0213
    """
    nx, ny = len(x), len(y)
    if nx < 2 or ny < 2:
        return math.nan, math.nan
    mx, my = sum(x) / nx, sum(y) / ny
    vx = sum((v - mx) ** 2 for v in x) / (nx - 1) / nx
    vy = sum((v - my) ** 2 for v in y) / (ny - 1) / ny
    if vx + vy == 0.0:
        return (0.0, 1.0) if mx == my else (math.copysign(math.inf, my - mx), 0.0)
    t = (my - mx) / math.sqrt(vx + vy)
    df = (vx + vy) ** 2 / (vx**2 / (nx - 1) + vy**2 / (ny - 1))
    return t, t_two_sided_p(t, df)


def regularized_beta(x: float, a: float, b: float) -> float:
    """``I_x(a, b)`` by its continued fraction (Lentz's method), to about 1e-12."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)
    if x > (a + 1.0) / (a + b + 2.0):  # the fraction converges fast on the other side
        return 1.0 - regularized_beta(1.0 - x, b, a)
    tiny, c, d = 1e-300, 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for num in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-13:
            break
    return math.exp(log_front) * h / a


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def mean_ci(values: ArrayLike, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Student-t interval of the mean of (roughly independent) values; NaN below 2 values."""
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size < 2:
        return (math.nan, math.nan)
    mean = float(x.mean())
    half = t_quantile(0.5 + confidence / 2.0, int(x.size) - 1) * float(x.std(ddof=1))
    half /= math.sqrt(x.size)
    return (mean - half, mean + half)


# --- significance --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MannWhitney:
    """Two-sided Mann-Whitney U test of x against y (normal approximation)."""

    u: float  # U of x: pairs (xi, yj) with xi > yj, ties counted one half
    z: float
    p: float  # two-sided p-value
    n_x: int
    n_y: int


def mann_whitney_u(x: ArrayLike, y: ArrayLike) -> MannWhitney:
    """Mann-Whitney U test, normal approximation with tie and continuity corrections.

    Matches ``scipy.stats.mannwhitneyu(x, y, method="asymptotic")``. p is NaN when either sample
    is empty, and 1.0 when every value is tied.

    Example::

        >>> round(mann_whitney_u([19, 22, 16, 29, 24], [20, 11, 17, 12]).p, 4)
        0.1113
    """
    a = np.asarray(x, dtype=np.float64).ravel()
    b = np.asarray(y, dtype=np.float64).ravel()
    n1, n2 = int(a.size), int(b.size)
    if n1 == 0 or n2 == 0:
        return MannWhitney(math.nan, math.nan, math.nan, n1, n2)
    both = np.concatenate([a, b])
    ranks, tie_sizes = _average_ranks(both)
    u = float(ranks[:n1].sum()) - n1 * (n1 + 1) / 2.0
    n = n1 + n2
    mu = n1 * n2 / 2.0
    ties = float((tie_sizes**3 - tie_sizes).sum())
    var = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1))) if n > 1 else 0.0
    if var <= 0:
        return MannWhitney(u, 0.0, 1.0, n1, n2)
    diff = u - mu
    z = (abs(diff) - 0.5) / math.sqrt(var)  # continuity correction toward the mean
    z = max(z, 0.0)
    p = min(1.0, math.erfc(z / math.sqrt(2.0)))
    return MannWhitney(u, math.copysign(z, diff), p, n1, n2)


def _average_ranks(values: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """1-based ranks, ties sharing their average rank; and the size of every tie group."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    new_group = np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]])
    group = np.cumsum(new_group) - 1
    first = np.flatnonzero(new_group)
    sizes = np.diff(np.append(first, values.size)).astype(np.float64)
    average = first + (sizes + 1) / 2.0  # 1-based average rank of each group
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = average[group]
    return ranks, sizes


# --- trend ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """A monotone trend in a series of slices (Mann-Kendall's test) and its size.

    ``change`` is the mean of the last third of the slices less the mean of the first third, as a
    share of the whole series' mean: -0.12 means the series ended 12% below where it began.
    ``p`` is the smaller of two two-sided tests: Mann-Kendall's on the whole series (a drift)
    and Welch's t-test between its first and last thirds (a step part-way, which Mann-Kendall
    sees poorly when the halves are noisy, and a rank test cannot see at all on 5 slices a side).
    """

    slices: int
    change: float
    z: float  # Mann-Kendall's
    p_trend: float  # Mann-Kendall's
    p_shift: float  # Welch's t-test, first third against last

    @property
    def p(self) -> float:
        return min(self.p_trend, self.p_shift)

    def to_dict(self) -> dict[str, float | int]:
        return {
            "slices": self.slices,
            "change": self.change,
            "z": self.z,
            "p": self.p,
            "p_trend": self.p_trend,
            "p_shift": self.p_shift,
        }


MIN_TREND_SLICES = 6  # below this Mann-Kendall cannot reach p < 0.01


def mann_kendall(values: ArrayLike) -> tuple[float, float]:
    """(z, two-sided p) of Mann-Kendall's trend test on ``values`` in order: S counts the pairs
    that rise less those that fall; its variance is corrected for ties; z has the usual
    continuity correction. (0.0, 1.0) with fewer than 3 values.

    >>> z, p = mann_kendall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    >>> round(z, 2), p < 0.001
    (3.94, True)
    """
    x = np.asarray(values, dtype=np.float64)
    n = int(x.size)
    if n < 3:
        return 0.0, 1.0
    s = float(np.sign(x[None, :] - x[:, None])[np.triu_indices(n, 1)].sum())
    _, counts = np.unique(x, return_counts=True)
    ties = float((counts * (counts - 1) * (2 * counts + 5)).sum())
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    if var <= 0 or s == 0:
        return 0.0, 1.0
    z = (s - math.copysign(1.0, s)) / math.sqrt(var)
    return z, min(1.0, math.erfc(abs(z) / math.sqrt(2.0)))


def trend(values: ArrayLike) -> Trend | None:
    """The trend of a series of slices; None with fewer than ``MIN_TREND_SLICES`` or a zero
    mean.

    >>> t = trend([100, 99, 98, 97, 96, 95, 94, 93, 92])
    >>> round(t.change, 3), t.p < 0.01
    (-0.062, True)
    """
    x = np.asarray(values, dtype=np.float64)
    n = int(x.size)
    mean = float(x.mean()) if n else 0.0
    if n < MIN_TREND_SLICES or not (math.isfinite(mean) and mean > 0):
        return None
    third = max(1, n // 3)
    change = (float(x[-third:].mean()) - float(x[:third].mean())) / mean
    z, p = mann_kendall(x)
    _, shift = welch_t_test(list(x[-third:]), list(x[:third]))
    return Trend(n, change, z, p, shift if math.isfinite(shift) else 1.0)
