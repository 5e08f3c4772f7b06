"""Throughput over time: the measured window cut into slices, each stream's work done and rate in
each slice, and the throughput's confidence interval from them. Every throughput-over-time figure
(the interval, the CV and trend over slices, the plots' throughput panels) is ``slice_rates``.

- **Confidence interval of the throughput** (95%): batch means. The window is cut into
  ``batch_count()`` equal slices (one per second from 10 s up to 60 slices; never fewer than 10,
  never fewer than 5 iterations per slice on average); each stream's work done in a slice is counted
  with the iteration in flight at a slice edge split in proportion to its elapsed time, so the
  slices' mean rate is exactly the reported throughput; the interval is that mean
  ± t(0.975, B-1) · sd / sqrt(B) (``stats.mean_ci``). Undefined (NaN) with fewer than 2 slices.

Example::

    >>> batch_count(25.7, 10_000)  # one slice per second of a 25.7 s window
    25
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .stats import CONFIDENCE, mean_ci

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

_MIN_BATCHES = 10
_MAX_BATCHES = 60
_MIN_ITERATIONS_PER_BATCH = 5
# Slice widths of the throughput charts, in seconds: the widest that gives 10 slices is used.
READABLE_SLICE_SECONDS: tuple[float, ...] = (1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01)


def batch_count(window_s: float, iterations: int) -> int:
    """Slices of the window for throughput batch means (0 or 1: too few for an interval).

    One per whole second, at least 10 and at most 60, and at most one per 5 iterations.
    """
    if not (window_s > 0) or iterations < 1:
        return 0
    wanted = min(max(math.floor(window_s), _MIN_BATCHES), _MAX_BATCHES)
    return min(wanted, iterations // _MIN_ITERATIONS_PER_BATCH)


def work_done(
    starts_ns: NDArray[np.int64], ends_ns: NDArray[np.int64], at_ns: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Iterations one closed-loop stream completed by each time in ``at_ns``.

    REQUIRES: the stream's iterations are sorted and do not overlap (one in flight at a time).
    The iteration in flight at a time counts for the fraction of it already elapsed.
    """
    t = np.asarray(at_ns, dtype=np.int64)
    done = np.searchsorted(ends_ns, t, side="right").astype(np.float64)
    if starts_ns.size == 0:
        return done
    nxt = np.minimum(done.astype(np.int64), starts_ns.size - 1)
    s, e = starts_ns[nxt], ends_ns[nxt]
    in_flight = (done < starts_ns.size) & (s < t) & (t < e)
    frac = np.where(in_flight, (t - s) / np.maximum(e - s, 1), 0.0)
    return done + frac


def slice_edges(window_ns: tuple[int, int], slices: int) -> NDArray[np.int64]:
    """The edges (ns) of ``slices`` equal slices of the window, its ends exact.

    >>> slice_edges((0, 10), 4).tolist()
    [0, 2, 5, 8, 10]
    """
    edges = np.linspace(window_ns[0], window_ns[1], slices + 1).round().astype(np.int64)
    edges[0], edges[-1] = window_ns
    return edges


def readable_slice_edges(window_ns: tuple[int, int]) -> tuple[NDArray[np.int64], float]:
    """Edges (ns) of slices of a round width for a chart, and that width in seconds: the widest
    of ``READABLE_SLICE_SECONDS`` that gives at least 10 slices (a tenth of the window when none
    does), a sliver under a fifth of a slice at the end folded into the last slice.

    REQUIRES: the window is not empty.

    >>> edges, width = readable_slice_edges((0, 2_020_000_000))
    >>> width, edges.size - 1, int(edges[-1] - edges[-2])
    (0.2, 10, 220000000)
    """
    seconds = (window_ns[1] - window_ns[0]) / 1e9
    width = next((w for w in READABLE_SLICE_SECONDS if seconds / w >= 10), seconds / 10)
    offsets = np.arange(0.0, seconds, width)
    if seconds - offsets[-1] < 0.2 * width and offsets.size > 1:
        offsets = offsets[:-1]
    offsets = np.append(offsets, seconds)
    edges = window_ns[0] + np.round(offsets * 1e9).astype(np.int64)
    edges[-1] = window_ns[1]
    return edges, width


def slice_rates(
    streams: Sequence[tuple[NDArray[np.int64], NDArray[np.int64]]],
    edges_ns: NDArray[np.int64],
    weights: Sequence[float] | None = None,
) -> NDArray[np.float64]:
    """Iterations per second of each stream (rows) in each slice between ``edges_ns`` (columns).

    ``streams`` holds each stream's (starts_ns, ends_ns); an iteration in flight at an edge is
    split by its elapsed fraction (``work_done``), so a stream's slices average to its
    iterations / window. ``weights`` scale each stream's count: iterations per stored sample
    when samples were capped. Every throughput-over-time figure (batch means, the plots) is
    these rates.
    """
    seconds = np.diff(edges_ns) / 1e9
    rates = np.zeros((len(streams), max(int(edges_ns.size) - 1, 0)), dtype=np.float64)
    for i, (starts, ends) in enumerate(streams):
        done = work_done(starts, ends, edges_ns) * (1.0 if weights is None else weights[i])
        rates[i] = np.diff(done) / seconds
    return rates


def batch_rates(
    streams: Sequence[tuple[NDArray[np.int64], NDArray[np.int64]]],
    window_ns: tuple[int, int],
    batches: int,
    weights: Sequence[float] | None = None,
) -> NDArray[np.float64]:
    """Iterations per second of all streams together in ``batches`` equal slices of the window
    (``slice_rates`` summed over the streams); their mean is iterations / window.
    """
    if batches < 1 or window_ns[1] <= window_ns[0]:
        return np.empty(0, dtype=np.float64)
    total: NDArray[np.float64] = slice_rates(streams, slice_edges(window_ns, batches), weights).sum(
        axis=0
    )
    return total


def throughput_ci(
    streams: Sequence[tuple[NDArray[np.int64], NDArray[np.int64]]],
    window_ns: tuple[int, int] | None,
    confidence: float = CONFIDENCE,
    weights: Sequence[float] | None = None,
) -> tuple[float, float]:
    """Batch-means confidence interval of iterations per second; (NaN, NaN) when undefined.

    ``weights`` as for ``batch_rates``.
    """
    if window_ns is None:
        return (math.nan, math.nan)
    iterations = sum(int(s.size) for s, _ in streams)
    b = batch_count((window_ns[1] - window_ns[0]) / 1e9, iterations)
    if b < 2:
        return (math.nan, math.nan)
    return mean_ci(batch_rates(streams, window_ns, b, weights), confidence)


TREND_SLICES_PER_SECOND = 10  # the trend's slices: finer than the interval's (one per second)


def trend_slices(window_s: float, iterations: int) -> int:
    """Slices of the window for the trend: 10 per second, 20 to 60 of them, and at most one per
    5 iterations (fewer than ``MIN_TREND_SLICES``: no trend)."""
    if not (window_s > 0) or iterations < 1:
        return 0
    wanted = min(
        max(math.floor(window_s * TREND_SLICES_PER_SECOND), 2 * _MIN_BATCHES), _MAX_BATCHES
    )
    return min(wanted, iterations // _MIN_ITERATIONS_PER_BATCH)
