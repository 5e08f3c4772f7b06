"""Repetitions (``-r N``): one run of the same layout N times, each with a fresh warmup, fresh
engine instances and a window of its own; the figures of each, and their spread across runs.

One run per side cannot tell a change from the machine's drift; the spread between repetitions
is what a comparison must beat. The top-level figures (the original's keys, ``pinbench.result``)
are those of the *representative* repetition: the median by throughput (the lower middle for an
even N), a real run whose figures belong together. Across repetitions, for throughput and the
mean and median latency: the median, the mean with its 95% Student t interval (the repetitions as
independent samples), min, max and the coefficient of variation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..base.stats import cv, mean_ci

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class RepetitionFigures:
    """One repetition's headline figures."""

    index: int
    items_per_sec: float
    mean_ms: float
    median_ms: float
    p99_ms: float
    iterations: int
    seconds: float
    valid: bool
    reasons: tuple[str, ...]  # the rules that judged it invalid
    # -s generate's token figures (None in other scenarios, and where a run lacks one): the mean
    # TTFT and TPOT in ms and the decode rate, so that comparisons can test them across runs
    ttft_ms: float | None = None
    tpot_ms: float | None = None
    decode_tokens_per_sec: float | None = None


@dataclass(frozen=True)
class Across:
    """One figure across the repetitions."""

    median: float
    mean: float
    ci95: tuple[float, float]  # of the mean: Student t over the repetitions
    min: float
    max: float
    cv: float


@dataclass(frozen=True)
class Repetitions:
    """Every repetition, which one the top-level figures are, and the spread across them."""

    runs: tuple[RepetitionFigures, ...]
    representative: int  # index into runs
    items_per_sec: Across
    mean_ms: Across
    median_ms: Across
    instances_rebuilt: bool = True


def across(values: Sequence[float]) -> Across:
    """The median, mean, 95% interval of the mean, min, max and cv of ``values``."""
    finite = sorted(v for v in values if math.isfinite(v))
    if not finite:
        nan = math.nan
        return Across(nan, nan, (nan, nan), nan, nan, nan)
    n = len(finite)
    median = finite[n // 2] if n % 2 else (finite[n // 2 - 1] + finite[n // 2]) / 2
    return Across(median, sum(finite) / n, mean_ci(finite), finite[0], finite[-1], cv(finite))


def representative(throughputs: Sequence[float]) -> int:
    """The index of the median run by throughput (the lower middle for an even count)."""
    order = sorted(
        range(len(throughputs)), key=lambda i: (not math.isfinite(throughputs[i]), throughputs[i])
    )
    return order[(len(order) - 1) // 2]


def summarize(runs: Sequence[RepetitionFigures]) -> Repetitions:
    """The Repetitions record of ``runs`` (in the order they ran)."""
    thr = [r.items_per_sec for r in runs]
    return Repetitions(
        runs=tuple(runs),
        representative=representative(thr),
        items_per_sec=across(thr),
        mean_ms=across([r.mean_ms for r in runs]),
        median_ms=across([r.median_ms for r in runs]),
    )
