"""``pinbench ab``: two configurations run alternately, ABBAAB..., compared across the paired
rounds (``result.ab_record``). Each side's model is loaded once; every run is a whole benchmark
with a fresh warmup, fresh engine instances and a window of its own; ``-nstreams auto`` is probed
once per side, before the first round."""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..base.errors import UsageError
from ..base.logs import log, quiet_logs
from ..result.ab_record import (
    GENERATION_METRICS,
    HARDWARE_METRICS,
    AbResult,
    AbSide,
    compare_paired,
    metric_value,
    round_order,
)
from ..run.execute import execute, layout_for
from ..run.prepare import prepare
from .auto_streams import choose_layout

if TYPE_CHECKING:
    from ..result.record import Result
    from ..result.tuning import StreamTuning
    from ..run.layout import Layout
    from ..run.prepare import Prepared
    from ..settings import RunSettings


def run_ab(
    a: RunSettings,
    b: RunSettings,
    *,
    rounds: int,
    metric: str = "items_per_sec",
    alpha: float = 0.05,
    flags: tuple[str, str] = ("", ""),
) -> AbResult[Result]:
    """``rounds`` rounds of A and B (REQUIRES: both validated); an interrupt ends the rounds
    with what was measured (a round is kept only when both of its runs finished). UsageError
    for a token metric (``ttft``, ``tpot``, ...) unless both sides run -s generate."""
    sides = {"a": a, "b": b}
    check_metric(metric, sides)
    runs: dict[str, list[Result]] = {"a": [], "b": []}
    order: list[str] = []
    interrupted = False
    with contextlib.ExitStack() as stack:
        with quiet_logs():
            prepared = {k: stack.enter_context(prepare(s)) for k, s in sides.items()}
        layouts = {k: _layout(prepared[k], s) for k, s in sides.items()}
        for k, pair in enumerate(round_order(rounds)):
            done = []
            for side in pair:
                layout, tuning = layouts[side]
                with quiet_logs():
                    r = execute(prepared[side], sides[side], layout, auto_streams=tuning)
                done.append((side, r))
                order.append(side)
                if r.interrupted:
                    interrupted = True
                    break
            if interrupted:
                break
            for side, r in done:
                runs[side].append(r)
            log.info(
                "ab round %d/%d: %s",
                k + 1,
                rounds,
                ", ".join(f"{s.upper()} {metric_value(r, metric):.4g}" for s, r in done),
            )
    comparison = compare_paired(
        [metric_value(r, metric) for r in runs["a"]],
        [metric_value(r, metric) for r in runs["b"]],
        metric,
        alpha,
    )
    return AbResult(
        model=a.model,
        a=AbSide(flags[0], tuple(runs["a"])),
        b=AbSide(flags[1], tuple(runs["b"])),
        order=tuple(order),
        comparison=comparison,
        interrupted=interrupted,
        timestamp=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        command_line=a.command_line,
    )


def check_metric(metric: str, sides: dict[str, RunSettings]) -> None:
    """A token metric needs both sides to run -s generate, a hardware metric both to count;
    UsageError (one line) otherwise."""
    if metric in HARDWARE_METRICS:
        off = [k.upper() for k, s in sides.items() if s.measure.counters == "off"]
        if off:
            raise UsageError(
                f"--metric {metric} compares what the counters read: {' and '.join(off)} "
                "ran with --counters off"
            )
        return
    if metric not in GENERATION_METRICS:
        return
    other = [f"{k.upper()} runs -s {s.layout.scenario}" for k, s in sides.items()
             if s.layout.scenario != "generate"]  # fmt: skip
    if other:
        raise UsageError(
            f"--metric {metric} compares -s generate's token figures: {', '.join(other)}; "
            "add -s generate to the shared flags"
        )


def _layout(prepared: Prepared, settings: RunSettings) -> tuple[Layout, StreamTuning | None]:
    if settings.auto_streams:
        return choose_layout(prepared, settings)
    return layout_for(prepared, settings), None
