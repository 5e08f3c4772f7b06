"""What a person reads on stdout: the original's lines, then pinbench's own, then what a search
tried. Logs and the progress line go to stderr (``base.logs``, ``progress``).

Example::

    >>> r = pinbench.benchmark("squeezenet", time=0.5, warmup_time=0.2)  # doctest: +SKIP
    >>> print("\\n".join(result_lines(r)))  # doctest: +SKIP
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, TextIO

from ..result.search import cores_label
from ..result.server import MIN_QUERIES_FOR_RATE
from .tables import table_lines

if TYPE_CHECKING:
    from ..result.record import Result
    from ..result.search import QpsSearch, StreamTuning, Sweep, SweepPoint
    from ..result.server import ServerFigures


def result_lines(result: Result) -> list[str]:
    """Every console line of a run: the original's, the server's, pinbench's and the searches'."""
    out = original_lines(result)
    if result.server is not None:
        out += server_lines(result.server)
    out += extra_lines(result)
    c = result.config
    if c.auto_streams is not None:
        out += auto_streams_lines(c.auto_streams)
    if c.find_qps is not None:
        out += find_qps_lines(c.find_qps)
    return out


def original_lines(result: Result) -> list[str]:
    """The original's console lines, same labels and four decimals, plus tail and extremes."""
    c, lat = result.config, result.latency
    lines = [
        f"Original Model Path: {c.orig_model_path}",
        f"Batch Size: {c.batch_size}",
        f"Scenario: {c.scenario}",
        f"Throughput (items/sec): {result.items_per_sec:.4f}",
        f"Latency Mean (ms/batch): {lat.mean:.4f}",
        f"Latency Median (ms/batch): {lat.median:.4f}",
        f"Latency Std (ms/batch): {lat.std:.4f}",
        f"Latency p90 (ms/batch): {lat.percentiles[90.0]:.4f}",
        f"Latency p99 (ms/batch): {lat.percentiles[99.0]:.4f}",
        f"Latency Min (ms/batch): {lat.min:.4f}",
        f"Latency Max (ms/batch): {lat.max:.4f}",
        f"Iterations: {result.iterations}",
    ]
    if result.interrupted:
        phase = result.measurement.phase_reached
        lines.append(
            f"Interrupted: yes, after {result.seconds_ran:.3f} s of measurement"
            if phase == "measure"
            else f"Interrupted: yes, {_BEFORE[phase]}, before any measured iteration"
        )
    return lines


_BEFORE = {"start": "while the streams were starting", "warmup": "during the warmup"}


def server_lines(f: ServerFigures) -> list[str]:
    """A server run's lines, after the original's."""
    late = f.lateness
    caveat = (
        ""
        if f.rate_reliable
        else f" (unreliable: {f.arrivals_served} queries served, fewer than "
        f"{MIN_QUERIES_FOR_RATE}; run longer with -t)"
    )
    out = [
        f"Server Requested Rate (queries/sec): {f.qps_requested:.4f}",
        f"Server Achieved Rate (queries/sec): {f.qps_achieved:.4f}{caveat}",
        f"Server Arrivals: {f.arrivals} (seed {f.arrivals_seed}), {f.arrivals_scheduled} "
        f"scheduled, {f.arrivals_served} served, {f.arrivals_dropped} dropped",
    ]
    if late.count:
        out += [
            f"Server Late Queries: {late.late} of {late.count} ({late.late_fraction:.2%}) "
            f"started more than {late.threshold_ms:g} ms after arrival",
            f"Server Lateness Mean / p50 / p99 / Max (ms): {late.mean_ms:.4f} / "
            f"{late.median_ms:.4f} / {late.p99_ms:.4f} / {late.max_ms:.4f}",
        ]
    return out


def extra_lines(result: Result) -> list[str]:
    """pinbench's lines after the original's: intervals, variation, cold start and the verdict."""
    lat, validity = result.latency, result.validity
    firsts = [s.first_iteration_ms for s in result.streams]
    firsts = [v for v in firsts if math.isfinite(v)]
    lines = [
        f"Throughput 95% CI (items/sec): {_interval(result.items_per_sec_ci)}",
        f"Latency Median 95% CI (ms/batch): {_interval(lat.median_ci)}",
        f"Latency CV (std/mean): {lat.cv:.4f}",
    ]
    if firsts:
        lines.append(f"Latency First Iteration (ms/batch): {_firsts(firsts)}")
    reasons = len(validity.reasons)
    lines.append(
        "Verdict: valid"
        if validity.valid
        else f"Verdict: invalid ({reasons} reason{'s' if reasons > 1 else ''})"
    )
    lines.extend(f"Reason: {r.message}" for r in validity.reasons)
    return lines


def auto_streams_lines(t: StreamTuning) -> list[str]:
    """The table of what ``-nstreams auto`` probed."""
    rows = [
        (
            "*" if p.num_streams == t.chosen else "",
            str(p.num_streams),
            cores_label(p.cores_per_stream),
            f"{p.items_per_sec:.4f}",
            f"{p.median_ms:.4f}",
            f"{p.p99_ms:.4f}",
            str(p.iterations),
        )
        for p in t.probes
    ]
    header = ("", "streams", "cores/stream", "items/sec", "median ms", "p99 ms", "iterations")
    return [
        f"Auto Streams: {t.chosen} (probes of {t.probe_seconds:g} s; * chosen)",
        *table_lines(header, rows),
    ]


def find_qps_lines(q: QpsSearch) -> list[str]:
    """The rate found by ``--find-qps``, its confirmation and the trials."""
    p = f"p{q.percentile:g}"
    rows = [
        (
            str(i + 1),
            f"{t.qps:.4f}",
            f"{t.qps_achieved:.4f}",
            f"{t.latency_ms:.4f}",
            f"{t.seconds:.2f}",
            str(t.dropped),
            "yes" if t.meets else "no",
        )
        for i, t in enumerate(q.trials)
    ]
    header = ("trial", "qps", "achieved", f"{p} ms", "seconds", "dropped", "meets")
    best = f"{q.best_qps:.4f}" if q.best_qps is not None else "none"
    out = [
        f"Max Rate Under Target (queries/sec): {best} ({p} <= {q.latency_slo_ms:g} ms; "
        f"closed-loop capacity {q.capacity_qps:.4f})",
    ]
    if q.final_latency_ms is not None:
        verdict = "meets" if q.final_meets else "misses"
        out.append(
            f"Max Rate Confirmation: {p} {q.final_latency_ms:.4f} ms over -t, {verdict} the target"
        )
    return [*out, *table_lines(header, rows)]


def sweep_lines(sweep: Sweep) -> list[str]:
    """A sweep's table, its Pareto frontier and its best point."""
    p = f"p{sweep.percentile:g}"
    rows = [
        (
            str(pt.batch_size),
            str(pt.num_streams),
            f"{pt.items_per_sec:.4f}",
            f"{pt.median_ms:.4f}",
            f"{pt.latency_ms:.4f}",
            str(pt.iterations),
            "valid" if pt.valid else "invalid",
            "*" if i in sweep.frontier else "",
            _meets(pt, sweep.latency_slo_ms),
        )
        for i, pt in enumerate(sweep.points)
    ]
    header = (
        *("batch", "streams", "items/sec", "median ms", f"{p} ms", "iterations", "verdict"),
        *("pareto", "meets" if sweep.latency_slo_ms is not None else ""),
    )
    front = ", ".join(
        f"{sweep.points[i].label()} ({sweep.points[i].items_per_sec:.1f}, "
        f"{sweep.points[i].latency_ms:.3f})"
        for i in sweep.frontier
    )
    out = [
        f"Sweep: {sweep.model}, {sweep.scenario}, {len(sweep.points)} configurations, "
        f"{sweep.seconds:g} s each",
        *table_lines(header, rows),
        f"Pareto Frontier (items/sec, {p} ms): {front or 'none'}",
    ]
    target = (
        f"Best Under Target ({p} <= {sweep.latency_slo_ms:g} ms)"
        if sweep.latency_slo_ms is not None
        else "Best (highest throughput)"
    )
    if sweep.best is None:
        out.append(f"{target}: none of the {len(sweep.points)} configurations")
    else:
        b = sweep.points[sweep.best]
        out.append(
            f"{target}: batch {b.batch_size}, {b.num_streams} stream(s): "
            f"{b.items_per_sec:.4f} items/sec, {p} {b.latency_ms:.4f} ms"
        )
    return out


def _meets(point: SweepPoint, slo: float | None) -> str:
    if slo is None:
        return ""
    return "yes" if point.latency_ms <= slo else "no"


def _interval(ci: tuple[float, float]) -> str:
    lo, hi = ci
    return f"{lo:.4f} to {hi:.4f}" if math.isfinite(lo) and math.isfinite(hi) else "n/a"


def _firsts(firsts: list[float]) -> str:
    """Every stream's first measured iteration, or their mean and max when there are many."""
    if len(firsts) <= 4:
        return ", ".join(f"{v:.4f}" for v in firsts) + (" (per stream)" if len(firsts) > 1 else "")
    worst = max(range(len(firsts)), key=firsts.__getitem__)
    mean = sum(firsts) / len(firsts)
    return f"mean {mean:.4f}, max {firsts[worst]:.4f} (stream {worst})"


def print_result(result: Result, out: TextIO | None = None) -> None:
    """Prints ``result_lines(result)`` to ``out`` (stdout by default)."""
    print("\n".join(result_lines(result)), file=out or sys.stdout)
