"""A figure as the console prints it: four decimals, and ``n/a`` for one that is unknown (None,
NaN or infinite), so that a missing figure never reads as a number.

Example: ``number(0.5)`` is ``"0.5000"``, ``interval((1.0, float("nan")))`` is ``"n/a"``.
"""

from __future__ import annotations

import math


def number(v: float | None) -> str:
    """``v`` to four decimals, or ``n/a``."""
    return f"{v:.4f}" if v is not None and math.isfinite(v) else "n/a"


def interval(ci: tuple[float, float]) -> str:
    """A confidence interval, ``lo to hi``, or ``n/a`` when either end is unknown."""
    lo, hi = ci
    return f"{lo:.4f} to {hi:.4f}" if math.isfinite(lo) and math.isfinite(hi) else "n/a"
