"""An interleaved A/B comparison (``pinbench ab``): two configurations run alternately, round
after round, so that both see the same drift of the machine, and their ratio tested across the
paired rounds.

Round k runs A then B when k is even, B then A when it is odd (ABBAAB...), each run a whole
benchmark (a fresh warmup, fresh instances, its own window). For a metric m (``items_per_sec``,
or ``median`` / ``mean`` latency; for two runs of ``-s generate`` also their token figures,
``GENERATION_METRICS``; with counters or energy, ``HARDWARE_METRICS``: IPC, CPU ms and joules
per inference) the rounds give paired ratios ``r_k = m(B_k) / m(A_k)``;
their logs are tested with a one-sample Student t test (two-sided) against 0:

- ``ratio``: the geometric mean of the ``r_k``;
- ``ci95``: ``exp(mean(log r) +- t(0.975, n-1) * sd(log r) / sqrt(n))``;
- ``p_value``: of the t statistic ``mean(log r) / (sd(log r) / sqrt(n))``, n-1 degrees of freedom;
- ``significant``: ``p_value < alpha`` (0.05 by default).

Pairing removes the drift the two sides share; what is left is the noise between runs, which is
what a change must beat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from ..base.stats import t_quantile, t_two_sided_p
from ..settings import AB_GENERATION_METRICS, AB_HARDWARE_METRICS, AB_METRICS, AbSettings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .record import Result

# A run as measured (``Result``) or as read back from its document (``schema.run.RunDoc``).
R = TypeVar("R")

# The metrics an A/B run may compare, -> higher is better, and the test's default level: the
# settings' own (``settings.ab``), which the command line's choices and checks also read
GENERATION_METRICS = AB_GENERATION_METRICS
HARDWARE_METRICS = AB_HARDWARE_METRICS
METRICS = AB_METRICS
ALPHA = AbSettings.alpha


@dataclass(frozen=True)
class Comparison:
    """B against A over paired rounds."""

    metric: str
    ratio: float  # B / A, the geometric mean over the rounds
    ci95: tuple[float, float]
    p_value: float
    significant: bool
    rounds: int
    alpha: float
    higher_is_better: bool

    @property
    def worse_by(self) -> float:
        """How much worse B is than A, as a fraction (negative: better)."""
        return 1.0 - self.ratio if self.higher_is_better else self.ratio - 1.0


@dataclass(frozen=True)
class AbSide(Generic[R]):
    """One side's flags (beside the shared ones) and its runs, in the order they ran."""

    flags: str
    runs: tuple[R, ...]


@dataclass(frozen=True)
class AbResult(Generic[R]):
    """Every run of both sides, the order they ran in, and the comparison: as run
    (``AbResult[Result]``) or as read back (``AbResult[RunDoc]``, ``schema.ab``)."""

    model: str
    a: AbSide[R]
    b: AbSide[R]
    order: tuple[str, ...]  # "a" / "b", as they ran
    comparison: Comparison
    interrupted: bool = False
    timestamp: str = ""
    command_line: tuple[str, ...] = ()
    path: str = ""  # the file it was read from ("" when run, or read from a dict)


def metric_unit(metric: str) -> str:
    """The unit of a metric's values, for a person."""
    if metric in HARDWARE_METRICS:
        return {"ipc": "instructions/cycle", "joules_per_inference": "J/inference"}.get(
            metric, "CPU ms/inference"
        )
    if metric.endswith("_per_sec"):
        return "items/sec" if metric == "items_per_sec" else "tokens/sec"
    return f"{metric} ms"


def metric_value(r: Result, metric: str) -> float:
    """The figure of one run that a comparison compares (NaN for a token figure of a run
    without generation, or one it lacks: no prompt, no TTFT)."""
    if metric == "items_per_sec":
        return r.items_per_sec
    if metric in ("median", "mean"):
        return r.latency.median if metric == "median" else r.latency.mean
    if metric in HARDWARE_METRICS:
        return hardware_value(r, metric)
    g = r.generation
    if g is None:
        return math.nan
    if metric.endswith("_per_sec"):
        value = getattr(g, metric)
        return math.nan if value is None else float(value)
    spread = g.ttft_ms if metric.startswith("ttft") else g.tpot_ms
    if spread is None:
        return math.nan
    return spread.p99 if metric.endswith("_p99") else spread.mean


def hardware_value(r: Result, metric: str) -> float:
    """A run's IPC, CPU ms or joules per inference; NaN where it is unknown (no PMU, no RAPL,
    --counters off)."""
    value: float | None = None
    if metric == "joules_per_inference":
        value = r.energy.joules_per_inference if r.energy is not None else None
    elif r.counters is not None:
        if metric == "ipc":
            value = r.counters.ipc
        else:
            cpu_ns = r.counters.per_inference("task_clock")
            value = cpu_ns / 1e6 if cpu_ns is not None else None
    return math.nan if value is None else float(value)


def round_order(rounds: int) -> list[tuple[str, str]]:
    """The order of each round: AB, BA, AB, ...

    >>> round_order(3)
    [('a', 'b'), ('b', 'a'), ('a', 'b')]
    """
    return [("a", "b") if k % 2 == 0 else ("b", "a") for k in range(rounds)]


def compare_paired(
    a: Sequence[float], b: Sequence[float], metric: str, alpha: float = ALPHA
) -> Comparison:
    """The t test of the paired log ratios ``log(b_k / a_k)`` (see the module docstring)."""
    logs = [
        math.log(y / x)
        for x, y in zip(a, b)
        if x > 0 and y > 0 and math.isfinite(x) and math.isfinite(y)
    ]
    n = len(logs)
    higher = METRICS[metric]
    nan = math.nan
    if n < 2:
        ratio = math.exp(logs[0]) if logs else nan
        return Comparison(metric, ratio, (nan, nan), nan, False, n, alpha, higher)
    mean = sum(logs) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in logs) / (n - 1))
    half = t_quantile(0.975, n - 1) * sd / math.sqrt(n)
    if sd == 0.0:
        p = 1.0 if mean == 0.0 else 0.0
    else:
        p = t_two_sided_p(mean / (sd / math.sqrt(n)), n - 1)
    ci = (math.exp(mean - half), math.exp(mean + half))
    return Comparison(metric, math.exp(mean), ci, p, p < alpha, n, alpha, higher)
