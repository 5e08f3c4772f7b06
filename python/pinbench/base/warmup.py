"""-w auto: when a warmup has settled. A pure rule over slice rates, and the judge that feeds it.

The runner asks a ``WarmupJudge`` at each poll (every 20 ms, on the caller's thread, under the
GIL) how many warmup calls the streams have finished; the judge cuts that count into **slices**
of at least ``slice_s`` seconds and ``slice_calls`` calls (across streams), and says "settled"
once ``settled()`` holds for the slices' rates (calls per second) and every stream has finished
``min_calls_per_stream`` calls. Then every stream ends its warmup at its next unit boundary;
otherwise the warmup runs to its bound (``--warmup-max``), and the run says it did not settle.

Why these numbers: a call in flight at a slice's edge is counted in the next slice, so a slice's
rate is off by up to one call at each edge; ``slice_calls`` = 50 keeps that near 1% of a slice,
below the 2% the rule asks for. A slice of 0.25 s or more spans many poll intervals and the
engines' own periodic work (a thread pool's spin, an allocator's trim). A first call that is far
slower than the rest (lazy initialisation, a cold cache) holds its stream at 0 finished calls, so
``min_calls_per_stream`` keeps a stream that has not yet finished its slow start from being
called settled by the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class SettleRule:
    """When a warmup counts as settled (``settled``), and how it is sliced (``WarmupJudge``)."""

    slice_s: float = 0.25  # a slice lasts at least this long ...
    slice_calls: int = 50  # ... and holds at least this many finished calls, across streams
    window: int = 3  # the last this many slices are judged
    max_cv: float = 0.02  # their rates' std / mean at most this, and no drift beyond it
    min_calls_per_stream: int = 2  # every stream has finished this many calls


DEFAULT_RULE = SettleRule()


def settled(rates: Sequence[float], rule: SettleRule = DEFAULT_RULE) -> bool:
    """True when the last ``rule.window`` slice rates are stable: their CV (population std over
    mean) is at most ``rule.max_cv``, and they do not drift: not all rising or all falling with
    the last more than ``rule.max_cv`` of their mean away from the first. A ramp that keeps
    moving is not settled even when each step of it is small.

    >>> settled([50.0, 90.0, 100.0, 101.0, 100.0])
    True
    >>> settled([120.0, 110.0, 100.0])
    False
    """
    if len(rates) < rule.window:
        return False
    last = [float(r) for r in rates[-rule.window :]]
    mean = sum(last) / len(last)
    if not (math.isfinite(mean) and mean > 0):
        return False
    std = math.sqrt(sum((r - mean) ** 2 for r in last) / len(last))
    if std / mean > rule.max_cv:
        return False
    steps = [b - a for a, b in zip(last, last[1:])]
    monotone = all(s > 0 for s in steps) or all(s < 0 for s in steps)
    return not (monotone and abs(last[-1] - last[0]) / mean > rule.max_cv)


@dataclass
class WarmupJudge:
    """The runner's warmup watch (``_core.run_streams(..., warmup_watch=judge)``): called with
    the time since the warmup began, the calls the streams have finished, and the fewest any one
    stream has; True ends the warmup. Keeps the slices' rates for the record.

    REQUIRES: called by one thread at a time (the runner's poll), with non-decreasing figures.
    """

    rule: SettleRule = DEFAULT_RULE
    rates: list[float] = field(default_factory=list)  # calls/s of each closed slice
    settled: bool = False  # said True: the warmup ended because it settled
    settled_ns: int | None = None  # when, since the warmup began
    _edge: tuple[int, int] | None = None  # (elapsed ns, calls) where the open slice began

    def __call__(self, elapsed_ns: int, calls: int, fewest: int) -> bool:
        if self.settled:
            return True
        if self._edge is None:
            self._edge = (elapsed_ns, calls)
            return False
        t0, n0 = self._edge
        if elapsed_ns - t0 < self.rule.slice_s * 1e9 or calls - n0 < self.rule.slice_calls:
            return False
        self.rates.append((calls - n0) / ((elapsed_ns - t0) / 1e9))
        self._edge = (elapsed_ns, calls)
        if fewest >= self.rule.min_calls_per_stream and settled(self.rates, self.rule):
            self.settled, self.settled_ns = True, elapsed_ns
        return self.settled
