"""The rows every report shares: runs, a sweep's points and an A/B comparison as text cells,
formatted once for the Markdown and HTML reports (``markdown``, ``html``).

Figures keep the console's precision where a person compares them: items/s to one decimal
above 100, latency in ms to three decimals; a missing figure is ``n/a``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..result.documents import AbDoc, AbSide, RunDoc, SweepDoc, SweepRow

Rows = tuple[Sequence[str], Sequence[Sequence[str]]]  # (header, rows)

RUN_HEADER = (
    *("model", "engine", "scenario", "streams", "cores", "batch"),
    *("items/s", "items/s 95% CI", "median ms", "median 95% CI", "p99 ms", "iterations", "verdict"),
)


def number(v: float, digits: int | None = None) -> str:
    """``v`` with ``digits`` decimals; by default 1 from 100 up, 2 from 1 up, else four
    significant digits; ``n/a`` when missing."""
    if not math.isfinite(v):
        return "n/a"
    if digits is None:
        if abs(v) < 1:
            return f"{v:.4g}"
        digits = 1 if abs(v) >= 100 else 2
    return f"{v:.{digits}f}"


def ms(v: float) -> str:
    """A latency in ms: three decimals from 1 ms up, four significant digits below."""
    if not math.isfinite(v) or abs(v) >= 1:
        return number(v, 3)
    return f"{v:.4g}"


def span(ci: tuple[float, float] | None, latency: bool = False) -> str:
    if ci is None:
        return "n/a"
    show = ms if latency else number
    return f"{show(ci[0])} to {show(ci[1])}"


def engine_text(run: RunDoc) -> str:
    return f"{run.engine} {run.engine_version}".strip() or "?"


def verdict(run: RunDoc) -> str:
    """``valid``, ``invalid: rule, rule``, ``no verdict``; ``, interrupted`` after a cut run."""
    if run.valid is None:
        text = "no verdict (schema 1)"
    elif run.valid:
        text = "valid"
    else:
        text = "invalid: " + ", ".join(rule for rule, _ in run.reasons)
    return text + (", interrupted" if run.interrupted else "")


def run_rows(runs: Sequence[RunDoc]) -> Rows:
    """One row per run."""
    rows = [
        (
            run.model,
            engine_text(run),
            run.scenario,
            str(run.num_streams),
            str(run.num_cores),
            str(run.batch_size),
            number(run.items_per_sec),
            span(run.items_per_sec_ci),
            ms(run.median_ms),
            span(run.median_ci, latency=True),
            ms(run.percentiles.get(99.0, math.nan)),
            str(run.iterations),
            verdict(run),
        )
        for run in runs
    ]
    return RUN_HEADER, rows


def point_verdict(p: SweepRow) -> str:
    if p.error is not None:
        return f"failed: {p.error}"
    if p.interrupted:
        return "interrupted"
    return "valid" if p.valid else "invalid"


def sweep_rows(doc: SweepDoc, indices: Sequence[int]) -> Rows:
    """The points ``indices`` of a sweep: one row each, its frontier and best marked."""
    pct = f"p{doc.percentile:g} ms"
    header = (
        *("engine", "cores", "scenario", "batch", "streams", "items/s", "median ms", pct),
        *("iterations", "verdict", "pareto", "best"),
    )
    rows = []
    for i in indices:
        p = doc.points[i]
        rows.append(
            (
                p.engine,
                str(p.num_cores),
                p.scenario,
                str(p.batch_size),
                str(p.num_streams),
                number(p.items_per_sec),
                ms(p.median_ms),
                ms(p.latency_ms),
                str(p.iterations),
                point_verdict(p),
                "yes" if p.pareto else "",
                "yes" if p.best else "",
            )
        )
    return header, rows


def best_text(doc: SweepDoc, best: int | None) -> str:
    target = (
        f"best with p{doc.percentile:g} <= {doc.latency_slo_ms:g} ms"
        if doc.latency_slo_ms is not None
        else "best (highest throughput)"
    )
    if best is None:
        return f"{target}: none"
    p = doc.points[best]
    return (
        f"{target}: {p.engine}, {p.num_cores} core(s), {p.scenario}, batch {p.batch_size}, "
        f"{p.num_streams} stream(s): {number(p.items_per_sec)} items/s, "
        f"p{doc.percentile:g} {ms(p.latency_ms)} ms"
    )


AB_HEADER = ("side", "flags", "runs", "items/s (median of runs)", "median ms (median of runs)")


def side_value(side: AbSide, key: str) -> float:
    """The median over a side's runs of one figure (``items_per_sec`` or ``median_ms``)."""
    values = [getattr(r, key) for r in side.runs if math.isfinite(getattr(r, key))]
    return statistics.median(values) if values else math.nan


def ab_rows(doc: AbDoc) -> Rows:
    rows = [
        (
            name,
            side.flags or "(none)",
            str(len(side.runs)),
            number(side_value(side, "items_per_sec")),
            ms(side_value(side, "median_ms")),
        )
        for name, side in (("A", doc.a), ("B", doc.b))
    ]
    return AB_HEADER, rows


def ab_verdict(doc: AbDoc) -> str:
    """One sentence: the ratio B / A with its interval and whether the change is significant."""
    c = doc.comparison
    ci = "" if c.ci95 is None else f" (95% CI {c.ci95[0]:.3f} to {c.ci95[1]:.3f})"
    p = "n/a" if not math.isfinite(c.p_value) else f"{c.p_value:.3g}"
    if c.significant is None:
        judged = "significance not tested"
    elif c.significant:
        judged = f"significant at alpha {c.alpha:g}"
    else:
        judged = f"not significant at alpha {c.alpha:g}"
    return f"B / A {c.metric} = {number(c.ratio, 3)}{ci}, p = {p}, {judged}, {c.rounds} rounds"


def ab_sequence(doc: AbDoc) -> list[tuple[str, RunDoc]]:
    """Every run of an A/B as ("A" or "B", run), in the order run (A's then B's when the file
    has no order)."""
    order = [o.lower() for o in doc.order] or ["a"] * len(doc.a.runs) + ["b"] * len(doc.b.runs)
    taken = {"a": 0, "b": 0}
    out = []
    for key in order:
        side = doc.a if key == "a" else doc.b if key == "b" else None
        if side is None or taken[key] >= len(side.runs):
            continue
        out.append((key.upper(), side.runs[taken[key]]))
        taken[key] += 1
    return out


def ab_round_rows(doc: AbDoc) -> Rows:
    """Every run of the A/B in the order it ran."""
    header = ("#", "side", "items/s", "median ms", "iterations", "verdict")
    rows = [
        (
            str(k + 1),
            name,
            number(run.items_per_sec),
            ms(run.median_ms),
            str(run.iterations),
            verdict(run),
        )
        for k, (name, run) in enumerate(ab_sequence(doc))
    ]
    return header, rows


def environment_rows(runs: Sequence[RunDoc]) -> Rows:
    """The machine each run saw: one column per run (one column when all agree)."""
    keys = (
        *("cpu_model", "sockets", "physical_cores", "logical_cpus", "numa_nodes", "allowed_cpus"),
        *("governor", "smt_active", "load_average", "kernel", "os", "python", "pinbench_version"),
        "packages",
    )
    envs = [r.environment for r in runs]
    distinct = [e for k, e in enumerate(envs) if e and e not in envs[:k]] or [{}]
    if len(distinct) == 1:
        header: tuple[str, ...] = ("", "value")
    else:  # each column names the runs that saw it (the load average alone often differs)
        seen_by = [", ".join(str(k + 1) for k, e in enumerate(envs) if e == d) for d in distinct]
        header = ("", *(f"run {runs_}" for runs_ in seen_by))
    rows = [(key, *(_env_value(e.get(key)) for e in distinct)) for key in keys]
    return header, [r for r in rows if any(cell != "n/a" for cell in r[1:])]


def _env_value(v: object) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, dict):
        return ", ".join(f"{k} {val}" for k, val in v.items())
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return str(v)


def model_label(spec: str) -> str:
    """A model's short name for dashboards and file names: a file's stem, the folder of a
    ``model.onnx``, or the spec itself (built-in names, ``zoo:``, ``hf:``)."""
    if spec.startswith(("zoo:", "hf:")) or ("/" not in spec and not spec.endswith(".onnx")):
        return spec
    parts = [p for p in spec.replace("\\", "/").split("/") if p]
    if not parts:
        return spec
    name = parts[-1]
    if name == "model.onnx" and len(parts) > 1:
        return parts[-2]
    return name[: -len(".onnx")] if name.endswith(".onnx") else name
