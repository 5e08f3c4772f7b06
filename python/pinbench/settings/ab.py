"""AbSettings: how ``pinbench ab`` compares its two sides (the sides are RunSettings), and the
metrics it may compare. The same checks serve the command line and ``pinbench.ab()``.

Example::

    >>> AbSettings(rounds=4, metric="median").validate().rounds
    4
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..base.errors import UsageError
from .checks import is_int

# -s generate's figures an A/B run may compare (``result.generation``, each run's: the mean TTFT
# and TPOT (decode calls) and their 99th percentiles in ms, and the token rates in tokens/s)
# -> whether higher is better
AB_GENERATION_METRICS: dict[str, bool] = {
    "ttft": False,
    "ttft_p99": False,
    "tpot": False,
    "tpot_p99": False,
    "prefill_tokens_per_sec": True,
    "decode_tokens_per_sec": True,
    "output_tokens_per_sec": True,
}
# What the hardware said an A/B run may compare (``result.counters``, ``result.energy``, each
# run's: instructions per cycle, CPU time per inference (ms, the stream threads' task clock) and
# joules per inference) -> whether higher is better
AB_HARDWARE_METRICS: dict[str, bool] = {
    "ipc": True,
    "cpu_ms_per_inference": False,
    "joules_per_inference": False,
}
# Every metric an A/B run may compare -> whether higher is better
AB_METRICS: dict[str, bool] = {
    "items_per_sec": True,
    "median": False,
    "mean": False,
    **AB_GENERATION_METRICS,
    **AB_HARDWARE_METRICS,
}


@dataclass(frozen=True)
class AbSettings:
    """The comparison of ``pinbench ab``: rounds of one run a side, the metric, the test's level."""

    rounds: int = 6  # -r: rounds, each one run of A and one of B (ABBA... order)
    metric: str = "items_per_sec"  # --metric: one of AB_METRICS
    alpha: float = 0.05  # --alpha: the significance level of the paired t test

    def validate(self) -> AbSettings:
        """Every value checked (UsageError, one line); returns the settings."""
        if self.metric not in AB_METRICS:
            raise UsageError(f"--metric {self.metric}: expected one of {', '.join(AB_METRICS)}")
        if not (is_int(self.rounds) and self.rounds >= 1):
            raise UsageError(f"rounds must be at least 1, got {self.rounds}")
        a = self.alpha
        ok = isinstance(a, (int, float)) and not isinstance(a, bool) and math.isfinite(a)
        if not (ok and 0 < a < 1):
            raise UsageError(f"--alpha must lie between 0 and 1, got {a!r}")
        return self
