"""``pinbench ab``'s console lines: the two sides, each round's figures in the order they ran,
and the ratio B/A with its interval and test (``result.ab_record``).

Example::

    >>> r = pinbench.ab(a, b, rounds=4)  # doctest: +SKIP
    >>> print("\\n".join(ab_lines(r)))  # doctest: +SKIP
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..result.ab_record import metric_unit, metric_value
from .numbers import interval, number
from .tables import table_lines

if TYPE_CHECKING:
    from ..result.ab_record import AbResult
    from ..result.record import Result


def ab_lines(ab: AbResult[Result]) -> list[str]:
    """An A/B run: the two sides, each round's figures, and the ratio with its test."""
    c = ab.comparison
    unit = metric_unit(c.metric)
    rows = []
    for k, (a, b) in enumerate(zip(ab.a.runs, ab.b.runs)):
        va, vb = metric_value(a, c.metric), metric_value(b, c.metric)
        first = ab.order[2 * k] if 2 * k < len(ab.order) else "a"
        rows.append(
            (
                str(k + 1),
                "AB" if first == "a" else "BA",
                f"{va:.4f}",
                f"{vb:.4f}",
                f"{vb / va:.4f}" if va else "n/a",
            )
        )
    header = ("round", "order", f"A {unit}", f"B {unit}", "B/A")
    if not math.isfinite(c.p_value):
        verdict = "not tested (fewer than 2 rounds with the figure on both sides)"
    else:
        better = c.worse_by < 0
        how = f"B is {'better' if better else 'worse'} by {abs(c.worse_by):.1%}"
        verdict = (
            f"p {c.p_value:.4f}: {'significant' if c.significant else 'not significant'} "
            f"at {c.alpha:g} ({how})"
        )
    return [
        f"A/B: {ab.model}, {c.rounds} rounds (ABBA order), metric {c.metric}"
        + (" (interrupted)" if ab.interrupted else ""),
        f"  A: {ab.a.flags or '(the shared flags only)'}",
        f"  B: {ab.b.flags or '(the shared flags only)'}",
        *table_lines(header, rows),
        f"Ratio B/A ({c.metric}): {number(c.ratio)}, 95% CI {interval(c.ci95)}, {verdict}",
    ]
