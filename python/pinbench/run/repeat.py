"""``-r N`` / ``--repeat N``: the same layout run N times, each repetition a fresh warmup, fresh
engine instances and a window of its own (``result.repetitions``). ``-nstreams auto`` probes once,
before the first repetition (``search.auto_streams.run_benchmark``); every repetition then runs
the layout it chose."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import TYPE_CHECKING

from ..base.logs import log, quiet_logs
from ..result.repetitions import RepetitionFigures, summarize
from ..result.validity import unstable_repetitions
from .execute import execute

if TYPE_CHECKING:
    from ..result.record import Result
    from ..result.tuning import StreamTuning
    from ..settings import RunSettings
    from .execute import OnStart
    from .layout import Layout
    from .prepare import Prepared


def run_repeated(
    prepared: Prepared,
    settings: RunSettings,
    layout: Layout,
    *,
    auto_streams: StreamTuning | None = None,
    on_start: OnStart | None = None,
) -> Result:
    """``layout`` run ``settings.measure.repeat`` times, each repetition a run of its own; with
    repetitions, the representative one's Result holding every repetition in ``repetitions``.
    ``auto_streams``: what ``-nstreams auto`` tried to choose ``layout``, recorded in each. An
    interrupt ends the repetitions with what was done.

    Example::

        >>> layout = layout_for(prepared, settings)  # doctest: +SKIP
        >>> result = run_repeated(prepared, settings, layout)  # doctest: +SKIP
    """
    repeat = settings.measure.repeat
    results: list[Result] = []
    for k in range(repeat):
        quiet = quiet_logs() if k else contextlib.nullcontext()
        with quiet:
            r = execute(
                prepared,
                settings,
                layout,
                on_start=None if k else on_start,
                auto_streams=auto_streams,
            )
        results.append(r)
        if repeat > 1:
            log.info("repetition %d/%d: %.1f items/s", k + 1, repeat, r.items_per_sec)
        if r.interrupted:
            break
    return with_repetitions(results) if repeat > 1 else results[0]


def with_repetitions(results: list[Result]) -> Result:
    """The representative result of ``results``, holding them all; its verdict gains a reason
    when the throughput drifted between repetitions."""
    reps = summarize([figures(i, r) for i, r in enumerate(results)])
    chosen = results[reps.representative]
    validity = chosen.validity
    extra = unstable_repetitions(reps.items_per_sec.cv) if len(results) > 1 else []
    if extra:
        validity = dataclasses.replace(validity, reasons=(*validity.reasons, *extra))
    # The start-up is the first repetition's: the time to the run's first measured iteration.
    return dataclasses.replace(
        chosen, repetitions=reps, validity=validity, startup=results[0].startup
    )


def figures(index: int, r: Result) -> RepetitionFigures:
    lat, g = r.latency, r.generation
    return RepetitionFigures(
        index=index,
        items_per_sec=r.items_per_sec,
        mean_ms=lat.mean,
        median_ms=lat.median,
        p99_ms=lat.percentiles.get(99.0, float("nan")),
        iterations=r.iterations,
        seconds=r.seconds_ran,
        valid=r.validity.valid,
        reasons=tuple(x.rule for x in r.validity.reasons),
        ttft_ms=g.ttft_ms.mean if g is not None and g.ttft_ms is not None else None,
        tpot_ms=g.tpot_ms.mean if g is not None and g.tpot_ms is not None else None,
        decode_tokens_per_sec=g.decode_tokens_per_sec if g is not None else None,
    )
