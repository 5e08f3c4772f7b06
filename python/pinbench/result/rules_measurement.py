"""The verdict's rules on the measurement and its statistics: iterations, the throughput's
stability and drift over the window's slices and between repetitions, the GIL's share, a failed
stream; the notes on the latency's spread and an unsettled warmup; and the percentiles with too few
samples beyond them. Each rule's threshold is its constant here (``validity`` describes them all).

    >>> from pinbench.result.rules_measurement import too_few_iterations
    >>> [r.rule for r in too_few_iterations(12)]
    ['too_few_iterations']
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..base.stats import PERCENTILES
from .validity_record import Reason, Unreliable

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..base.stats import LatencyStats, Trend
    from .measurement import Failure, Warmup

MIN_ITERATIONS = 30
CV_LIMIT = 0.10
# A quiet 2 s window on a shared virtual machine wanders by up to 8% between its thirds, and in a
# noisy hour 10-14% (benchmarks/verdict_calibration.py prints the quiet runs' changes); a run
# that has not settled, or that a neighbour slows, moves more. Between the two limits: a note.
DRIFT_LIMIT = 0.15
DRIFT_NOTE_LIMIT = 0.10
DRIFT_ALPHA = 0.01
GIL_SHARE_LIMIT = 0.10
TAIL_SAMPLES = 10


def too_few_iterations(iterations: int, minimum: int = MIN_ITERATIONS) -> list[Reason]:
    if iterations >= minimum:
        return []
    return [
        Reason(
            "too_few_iterations",
            f"{iterations} iterations are too few for the headline figures (at least "
            f"{minimum}): run longer with -t",
        )
    ]


def unstable(throughput_cv: float, limit: float = CV_LIMIT) -> list[Reason]:
    if not (math.isfinite(throughput_cv) and throughput_cv >= limit):
        return []
    return [
        Reason(
            "unstable",
            f"throughput varies by {throughput_cv:.0%} between slices of the window (limit "
            f"{limit:.0%}): the run was not steady",
        )
    ]


def drift(t: Trend | None, limit: float = DRIFT_LIMIT, alpha: float = DRIFT_ALPHA) -> list[Reason]:
    if t is None or not (t.p < alpha and abs(t.change) >= limit):
        return []
    return [
        Reason(
            "drift",
            f"{_moved(t)}; limit {limit:.0%}): the run had not settled (warm up longer with -w) "
            "or something changed part-way",
        )
    ]


def drift_small(
    t: Trend | None,
    note_limit: float = DRIFT_NOTE_LIMIT,
    limit: float = DRIFT_LIMIT,
    alpha: float = DRIFT_ALPHA,
) -> list[Reason]:
    """The note for a significant change between ``note_limit`` and ``limit``: as large as a
    shared host's own wander over a short window, so it does not invalidate the run."""
    if t is None or not (t.p < alpha and note_limit <= abs(t.change) < limit):
        return []
    return [
        Reason(
            "drift_small",
            f"{_moved(t)}; a run is invalid from {limit:.0%}): within what a shared host wanders "
            "over a short window; a longer -t averages it, -w auto settles a warmup",
        )
    ]


def _moved(t: Trend) -> str:
    direction = "fell" if t.change < 0 else "rose"
    return (
        f"throughput {direction} by {abs(t.change):.0%} from the window's first third to its "
        f"last (a trend over {t.slices} slices, p = {t.p:.1g}"
    )


def unstable_repetitions(throughput_cv: float, limit: float = CV_LIMIT) -> list[Reason]:
    if not (math.isfinite(throughput_cv) and throughput_cv >= limit):
        return []
    return [
        Reason(
            "unstable_repetitions",
            f"throughput varies by {throughput_cv:.0%} between repetitions (limit {limit:.0%}): "
            "the machine drifted between runs",
        )
    ]


def gil_bound(
    share: float | None, isolation: str, streams: int, limit: float = GIL_SHARE_LIMIT
) -> list[Reason]:
    if isolation != "thread" or streams < 2 or share is None or not share > limit:
        return []
    return [
        Reason(
            "gil_bound",
            f"the {streams} streams waited for the GIL {share:.0%} of their time (limit "
            f"{limit:.0%}): the GIL limited the run; run each stream in a process of its own "
            "with --isolation process",
        )
    ]


def stream_failed(failure: Failure | None) -> list[Reason]:
    if failure is None:
        return []
    return [
        Reason(
            "stream_failed",
            f"stream {failure.stream} failed ({failure.phase}, iteration {failure.iteration}): "
            f"{failure.message}; the figures cover what was measured until the run stopped",
        )
    ]


# --- notes ---------------------------------------------------------------------------------------


def latency_spread(latency: LatencyStats, limit: float = CV_LIMIT) -> list[Reason]:
    cv = latency.cv
    if not (math.isfinite(cv) and cv >= limit):
        return []
    return [
        Reason(
            "latency_spread",
            f"latency std is {cv:.0%} of the mean: a wide or skewed distribution (the "
            "percentiles describe it; the throughput and the median are judged apart)",
        )
    ]


def warmup_unsettled(warmup: Warmup | None, measured: bool) -> list[Reason]:
    """-w auto ran to its bound without the throughput settling: the window may still be on the
    warmup's slope. A note, not a reason: the window's own stability is judged by ``unstable``."""
    if warmup is None or warmup.mode != "auto" or warmup.settled or not measured:
        return []
    return [
        Reason(
            "warmup_unsettled",
            f"-w auto: the throughput had not settled after {warmup.seconds:.1f} s (its bound, "
            "--warmup-max): the window may still include the warmup's slope",
        )
    ]


# --- unreliable percentiles ----------------------------------------------------------------------


def needed_iterations(p: float, tail: int = TAIL_SAMPLES) -> int:
    """Iterations for ``tail`` samples to lie beyond percentile ``p``: ceil(tail / (1 - p/100))."""
    return math.ceil(round(tail / (1.0 - p / 100.0), 6))


def unreliable_percentiles(
    iterations: int, percentiles: Sequence[float] = PERCENTILES, tail: int = TAIL_SAMPLES
) -> tuple[Unreliable, ...]:
    """The percentiles with fewer than ``tail`` samples beyond them."""
    return tuple(
        Unreliable(p, needed_iterations(p, tail))
        for p in percentiles
        if iterations < needed_iterations(p, tail)
    )
