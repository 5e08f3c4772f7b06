"""The console lines of what a search tried: the probes of ``-nstreams auto`` and the trials of
``--find-qps``, printed after the run they chose (``run_lines.result_lines``).

Example::

    >>> r = pinbench.find_qps("squeezenet", latency_slo_ms=20, time=2)  # doctest: +SKIP
    >>> print("\\n".join(find_qps_lines(r.config.find_qps)))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..result.tuning import cores_label
from .numbers import number
from .tables import table_lines

if TYPE_CHECKING:
    from ..result.tuning import QpsSearch, QpsTrial, StreamTuning


def auto_streams_lines(t: StreamTuning) -> list[str]:
    """The table of what ``-nstreams auto`` probed (with an isolation column once a probe ran
    in worker processes)."""
    isolation = any(p.isolation != "thread" for p in t.probes)
    rows = [
        (
            "*" if p is t.best_probe else "",
            str(p.num_streams),
            cores_label(p.cores_per_stream),
            *((p.isolation,) if isolation else ()),
            f"{p.items_per_sec:.4f}",
            f"{p.median_ms:.4f}",
            f"{p.p99_ms:.4f}",
            str(p.iterations),
        )
        for p in t.probes
    ]
    header = (
        *("", "streams", "cores/stream", *(("isolation",) if isolation else ())),
        *("items/sec", "median ms", "p99 ms", "iterations"),
    )
    noise = (
        f"; the runner-up, {t.runner_up} stream(s), is within the measured noise (95% intervals "
        "overlap)"
        if t.within_noise
        else ""
    )
    return [
        f"Auto Streams: {t.chosen} (probes of {t.probe_seconds:g} s; * chosen){noise}",
        *table_lines(header, rows),
    ]


def _trial_figures(p: str, t: QpsTrial) -> str:
    """``p99 12.3000 ms``, with a generation search's TTFT and TPOT beside it."""
    tokens = "".join(
        f", {label} {value:.4f} ms"
        for label, value in (("TTFT", t.ttft_ms), ("TPOT", t.tpot_ms))
        if value is not None
    )
    return f"{p} {t.latency_ms:.4f} ms{tokens}"


def find_qps_lines(q: QpsSearch) -> list[str]:
    """The rate found by ``--find-qps``, its confirmation and the trials."""
    p = f"p{q.percentile:g}"
    tokens = q.ttft_slo_ms is not None or q.tpot_slo_ms is not None
    rows = [
        (
            str(i + 1),
            f"{t.qps:.4f}",
            f"{t.qps_achieved:.4f}",
            f"{t.latency_ms:.4f}",
            *((number(t.ttft_ms), number(t.tpot_ms)) if tokens else ()),
            f"{t.seconds:.2f}",
            str(t.dropped),
            "yes" if t.meets else "no",
        )
        for i, t in enumerate(q.trials)
    ]
    token_header = (f"{p} TTFT ms", f"{p} TPOT ms") if tokens else ()
    header = ("trial", "qps", "achieved", f"{p} ms", *token_header, "seconds", "dropped", "meets")
    best = f"{q.best_qps:.4f}" if q.best_qps is not None else "none"
    out = [
        f"Max Rate Under Target (queries/sec): {best} ({q.target}; "
        f"closed-loop capacity {q.capacity_qps:.4f})",
    ]
    if q.confirmations:
        runs = "; ".join(
            f"{t.qps:.1f} q/s {_trial_figures(p, t)} {'meets' if t.meets else 'misses'}"
            for t in q.confirmations
        )
        held = "confirmed" if q.confirmed else "NOT confirmed: no rate held in every run"
        out.append(f"Max Rate Confirmation: {held} ({runs})")
    disturbed = sum(t.disturbed for t in (*q.trials, *q.confirmations))
    if disturbed:
        out.append(
            f"Max Rate Disturbed: {disturbed} run(s) missed beside other work on their CPUs (the "
            "verdict's interference) and ran again; the tables hold the runs kept"
        )
    return [*out, *table_lines(header, rows)]
