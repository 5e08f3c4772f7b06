"""Latency statistics, computed with numpy from per-iteration samples.

One percentile definition throughout: numpy's default linear interpolation between the two
nearest ranks (Hyndman & Fan type 7), the definition deepsparse.benchmark used, so its JSON keys
keep their meaning.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

# The percentiles deepsparse.benchmark exports, in its key format ("25.0%").
DEEPSPARSE_PERCENTILES: tuple[float, ...] = (25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9)


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

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["percentiles"] = {percentile_key(p): v for p, v in self.percentiles.items()}
        return d


def percentile_key(p: float) -> str:
    """The deepsparse key of a percentile: 99.9 -> "99.9%", 25 -> "25.0%"."""
    return f"{float(p)}%"


def latency_stats(
    latencies_ns: NDArray[np.int64] | NDArray[np.float64],
    percentiles: tuple[float, ...] = DEEPSPARSE_PERCENTILES,
) -> LatencyStats:
    """Statistics in ms of latencies given in ns.

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
    )
