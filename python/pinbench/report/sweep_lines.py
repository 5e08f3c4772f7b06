"""``pinbench sweep``'s console lines: the table of every point, then per model its Pareto
frontier and best point, the failed points with their errors, the fleet's hosts when the points
ran on a cluster, and a last line when the sweep was interrupted.

Example::

    >>> s = pinbench.run_sweep("squeezenet", batch_sizes=[1, 4], streams=[1, 2])  # doctest: +SKIP
    >>> print("\\n".join(sweep_lines(s)))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .fleet import fleet_lines
from .tables import table_lines

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..result.record import Result
    from ..result.sweep_record import Sweep, SweepModel, SweepPoint


def sweep_lines(sweep: Sweep[Result]) -> list[str]:
    """A sweep's table, then per model its Pareto frontier and best point; failed points with
    their errors; a last line when the sweep was interrupted."""
    p = f"p{sweep.percentile:g}"
    models = f"{len(sweep.models)} models" if len(sweep.models) > 1 else sweep.model
    out = [
        f"Sweep: {models}, {sweep.scenario}, {len(sweep.points)} configurations, "
        f"{sweep.seconds:g} s each"
    ]
    for m in sweep.models:
        if len(sweep.models) > 1:
            out.append(f"Model: {m.model} ({len(m.points)} configurations)")
        out += _sweep_table(sweep, m.points)
        front = ", ".join(
            f"{sweep.label(i)} ({sweep.points[i].items_per_sec:.1f}, "
            f"{sweep.points[i].latency_ms:.3f})"
            for i in m.frontier
        )
        out.append(f"Pareto Frontier (items/sec, {p} ms): {front or 'none'}")
        out.append(_best_line(sweep, m))
    out += _failures(sweep)
    if sweep.fleet is not None:
        out += ["", *fleet_lines(sweep.fleet, table_lines)]
    if sweep.interrupted:
        out.append(f"Interrupted: after {len(sweep.points)} of {sweep.planned} configurations")
    return out


def _sweep_table(sweep: Sweep[Result], indices: Sequence[int]) -> list[str]:
    rows = []
    for i in indices:
        pt = sweep.points[i]
        verdict = (
            "failed"
            if pt.error
            else "interrupted"
            if pt.interrupted
            else "valid"
            if pt.valid
            else "invalid"
        )
        figures = (
            ("-", "-", "-", "-")
            if pt.error
            else (f"{pt.items_per_sec:.4f}", f"{pt.median_ms:.4f}", f"{pt.latency_ms:.4f}",
                  str(pt.iterations))
        )  # fmt: skip
        rows.append(
            (
                pt.engine,
                str(pt.num_cores),
                pt.scenario,
                str(pt.batch_size),
                str(pt.num_streams),
                *figures,
                verdict,
                "*" if i in sweep.frontier else "",
                _meets(pt, sweep.latency_slo_ms),
            )
        )
    header: tuple[str, ...] = (
        *("engine", "cores", "scenario", "batch", "streams", "items/sec", "median ms"),
        *(f"p{sweep.percentile:g} ms", "iterations", "verdict", "pareto"),
        "meets" if sweep.latency_slo_ms is not None else "",
    )
    if sweep.fleet is not None:  # the host each point ran on, first
        header = ("host", *header)
        rows = [(sweep.points[i].host or "", *row) for i, row in zip(indices, rows)]  # type: ignore[misc]
    extra_header, extra = _request_columns(sweep, indices)
    if extra_header:
        header = (*header, *extra_header)
        return table_lines(header, [(*row, *cells) for row, cells in zip(rows, extra)])
    return table_lines(header, rows)


def _request_columns(
    sweep: Sweep[Result], indices: Sequence[int]
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """A decoder sweep's columns: -seq_len, and the generate points' request and token figures;
    and the hardware's (IPC, CPU ms and joules per inference). None when no point has them."""
    pts = [sweep.points[i] for i in indices]
    seq = any(p.sequence_length is not None for p in pts)
    gen = any(p.prompt_tokens is not None for p in pts)
    hw = [k for k, _ in _HARDWARE_COLUMNS if any(k in p.hardware for p in pts)]
    header = (
        (("seq_len",) if seq else ())
        + (("P+N", "TTFT ms", "TPOT ms", "decode tok/s") if gen else ())
        + tuple(label for k, label in _HARDWARE_COLUMNS if k in hw)
    )
    rows = []
    for p in pts:
        cells: tuple[str, ...] = (str(p.sequence_length or ""),) if seq else ()
        if gen:
            g = p.result.generation if p.result is not None else None
            request = "" if p.prompt_tokens is None else f"{p.prompt_tokens}+{p.new_tokens}"
            cells += (
                request,
                _ms(g.ttft_ms.mean if g and g.ttft_ms else None),
                _ms(g.tpot_ms.mean if g and g.tpot_ms else None),
                "" if g is None or g.decode_tokens_per_sec is None
                else f"{g.decode_tokens_per_sec:.1f}",
            )  # fmt: skip
        cells += tuple(f"{p.hardware[k]:.4g}" if k in p.hardware else "" for k in hw)
        rows.append(cells)
    return header, rows


# A sweep table's hardware columns: (SweepPoint.hardware key, header)
_HARDWARE_COLUMNS = (("ipc", "IPC"), ("cpu_ms_per_inference", "CPU ms/inf"),
                     ("joules_per_inference", "J/inf"))  # fmt: skip


def _ms(v: float | None) -> str:
    return "" if v is None else f"{v:.4f}"


def _best_line(sweep: Sweep[Result], model: SweepModel) -> str:
    p = f"p{sweep.percentile:g}"
    target = (
        f"Best Under Target ({p} <= {sweep.latency_slo_ms:g} ms)"
        if sweep.latency_slo_ms is not None
        else "Best (highest throughput)"
    )
    if model.best is None:
        return f"{target}: none of the {len(model.points)} configurations"
    b = sweep.points[model.best]
    noise = ""
    if model.within_noise and model.runner_up is not None:
        noise = (
            f"; the runner-up, {sweep.label(model.runner_up)}, is within the measured noise "
            "(95% intervals overlap)"
        )
    return (
        f"{target}: batch {b.batch_size}, {b.num_streams} stream(s), {b.num_cores} core(s), "
        f"{b.scenario}, {b.engine}: {b.items_per_sec:.4f} items/sec, {p} {b.latency_ms:.4f} ms"
        f"{noise}"
    )


def _failures(sweep: Sweep[Result]) -> list[str]:
    """One line per distinct error of a model: a model that does not load fails all its points
    with one error, said once."""
    groups: dict[tuple[str, str], list[SweepPoint[Result]]] = {}
    for i in sweep.failed:
        pt = sweep.points[i]
        groups.setdefault((pt.model, pt.error or ""), []).append(pt)
    out = []
    for (model, error), pts in groups.items():
        if len(pts) == 1:
            pt = pts[0]
            where = (
                f"{model}, {pt.engine}, {pt.num_cores} core(s), {pt.scenario}, "
                f"batch {pt.batch_size}, {pt.num_streams} stream(s)"
            )
        else:
            where = f"{model}, {len(pts)} configurations"
        out.append(f"Failed: {where}: {error}")
    return out


def _meets(point: SweepPoint[Result], slo: float | None) -> str:
    if slo is None or not point.ok:
        return ""
    return "yes" if point.latency_ms <= slo else "no"
