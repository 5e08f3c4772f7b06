"""The rows every report shares: runs, a sweep's points and an A/B comparison as text cells,
formatted once for the Markdown and HTML reports (``markdown``, ``html``). Runs of
``-s generate`` add a table of their token figures (``generation_rows``), and sweep points and
A/B sides of such runs add columns; documents without them keep their tables as they were.

Figures keep the console's precision where a person compares them: items/s to one decimal
above 100, latency in ms to three decimals; a missing figure is ``n/a``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..result.ab_record import AbResult, AbSide
    from ..result.generation import GenerationFigures
    from ..result.schema.hardware import HardwareDoc
    from ..result.schema.run import RunDoc
    from ..result.sweep_record import Sweep, SweepPoint

Rows = tuple[Sequence[str], Sequence[Sequence[str]]]  # (header, rows)

RUN_HEADER = (
    *("model", "engine", "scenario", "streams", "cores", "batch"),
    *("items/s", "items/s 95% CI", "median ms", "median 95% CI", "p99 ms", "iterations", "verdict"),
)


def number(v: float | None, digits: int | None = None) -> str:
    """``v`` with ``digits`` decimals; by default 1 from 100 up, 2 from 1 up, else four
    significant digits; ``n/a`` when missing."""
    if v is None or not math.isfinite(v):
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


GENERATION_HEADER = (
    *("model", "request P+N@D", "requests", "TTFT mean ms", "TTFT p99 ms", "TPOT mean ms"),
    *("TPOT p99 ms", "prefill tok/s", "decode tok/s", "output tok/s"),
)


def generation_cells(g: GenerationFigures) -> tuple[str, ...]:
    """A run's token figures, in GENERATION_HEADER's order after the model and the request."""
    return (
        str(g.requests),
        ms(g.ttft_mean_ms),
        ms(g.ttft_p99_ms),
        ms(g.tpot_mean_ms),
        ms(g.tpot_p99_ms),
        number(g.prefill_tokens_per_sec),
        number(g.decode_tokens_per_sec),
        number(g.output_tokens_per_sec),
    )


def generation_rows(runs: Sequence[RunDoc]) -> Rows | None:
    """One row per run of ``-s generate`` (P+N@D: prompt, new tokens, depth); None without."""
    rows = [
        (run.model, run.generation.shape, *generation_cells(run.generation))
        for run in runs
        if run.generation is not None
    ]
    return (GENERATION_HEADER, rows) if rows else None


HARDWARE_HEADER = (
    *("model", "IPC", "CPU ms/inference", "migrations", "preemptions/inference", "watts"),
    *("J/inference", "J/token"),
)


def hardware_cells(h: HardwareDoc) -> tuple[str, ...]:
    """A run's counters and energy, in HARDWARE_HEADER's order after the model."""
    return (
        number(h.ipc, 2),
        ms(h.cpu_ms_per_inference),
        number(h.migrations, 0),
        number(h.preemptions_per_inference),
        number(h.watts, 1),
        number(h.joules_per_inference),
        number(h.joules_per_token),
    )


def hardware_rows(runs: Sequence[RunDoc]) -> Rows | None:
    """One row per run that recorded counters or energy; None without any."""
    rows = [(run.model, *hardware_cells(run.hardware)) for run in runs if run.hardware is not None]
    return (HARDWARE_HEADER, rows) if rows else None


def point_verdict(p: SweepPoint[RunDoc]) -> str:
    if p.error is not None:
        return f"failed: {p.error}"
    if p.interrupted:
        return "interrupted"
    return "valid" if p.valid else "invalid"


def sweep_rows(doc: Sweep[RunDoc], indices: Sequence[int]) -> Rows:
    """The points ``indices`` of a sweep: one row each, its frontier and best marked."""
    pct = f"p{doc.percentile:g} ms"
    header: tuple[str, ...] = (
        *("engine", "cores", "scenario", "batch", "streams", "items/s", "median ms", pct),
        *("iterations", "verdict", "pareto", "best"),
    )
    # The columns of the axes a sweep of decoders adds, only when some point has them.
    seq = any(doc.points[i].sequence_length is not None for i in indices)
    gen = any(doc.points[i].generation is not None for i in indices)
    host = any(doc.points[i].host is not None for i in indices)
    if host:
        header = (*header, "host")
    if seq:
        header = (*header, "seq_len")
    if gen:
        header = (*header, "request P+N@D", "TTFT mean ms", "TPOT mean ms", "decode tok/s")
    rows = []
    for i in indices:
        p = doc.points[i]
        row: tuple[str, ...] = (
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
            "yes" if doc.on_frontier(i) else "",
            "yes" if doc.is_best(i) else "",
        )
        if host:
            row = (*row, p.host or "")
        if seq:
            row = (*row, "" if p.sequence_length is None else str(p.sequence_length))
        if gen:
            g = p.generation
            row = (
                (*row, "", "", "", "")
                if g is None
                else (
                    *row,
                    g.shape,
                    ms(g.ttft_mean_ms),
                    ms(g.tpot_mean_ms),
                    number(g.decode_tokens_per_sec),
                )
            )
        rows.append(row)
    return header, rows


def best_text(doc: Sweep[RunDoc], best: int | None) -> str:
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


# A/B sides of -s generate: (header, GenerationFigures figure, latency) of the added columns.
AB_GENERATION = (
    ("TTFT mean ms (median of runs)", "ttft_mean_ms", True),
    ("TPOT mean ms (median of runs)", "tpot_mean_ms", True),
    ("decode tok/s (median of runs)", "decode_tokens_per_sec", False),
)


def run_value(run: RunDoc, key: str) -> float:
    """One figure of a run: a RunDoc field, ``generation.KEY`` (NaN without generation) or
    ``hardware.KEY`` (NaN without counters and energy)."""
    for block in ("generation", "hardware"):
        if key.startswith(f"{block}."):
            record = getattr(run, block)
            return math.nan if record is None else float(getattr(record, key[len(block) + 1 :]))
    return float(getattr(run, key))


def side_value(side: AbSide[RunDoc], key: str) -> float:
    """The median over a side's runs of one figure (``items_per_sec``, ``median_ms``, or a
    token figure as ``generation.ttft_mean_ms``)."""
    values = [v for v in (run_value(r, key) for r in side.runs) if math.isfinite(v)]
    return statistics.median(values) if values else math.nan


def _generates(doc: AbResult[RunDoc]) -> bool:
    return any(r.generation is not None for side in (doc.a, doc.b) for r in side.runs)


def ab_rows(doc: AbResult[RunDoc]) -> Rows:
    gen = _generates(doc)
    header = (*AB_HEADER, *(h for h, _, _ in AB_GENERATION)) if gen else AB_HEADER
    rows = [
        (
            name,
            side.flags or "(none)",
            str(len(side.runs)),
            number(side_value(side, "items_per_sec")),
            ms(side_value(side, "median_ms")),
            *(
                (ms if latency else number)(side_value(side, f"generation.{key}"))
                for _, key, latency in (AB_GENERATION if gen else ())
            ),
        )
        for name, side in (("A", doc.a), ("B", doc.b))
    ]
    return header, rows


def ab_verdict(doc: AbResult[RunDoc]) -> str:
    """One sentence: the ratio B / A with its interval and whether the change is significant."""
    c = doc.comparison
    tested = all(map(math.isfinite, c.ci95))
    ci = f" (95% CI {c.ci95[0]:.3f} to {c.ci95[1]:.3f})" if tested else ""
    p = "n/a" if not math.isfinite(c.p_value) else f"{c.p_value:.3g}"
    if c.significant:
        judged = f"significant at alpha {c.alpha:g}"
    else:
        judged = f"not significant at alpha {c.alpha:g}"
    return f"B / A {c.metric} = {number(c.ratio, 3)}{ci}, p = {p}, {judged}, {c.rounds} rounds"


def ab_sequence(doc: AbResult[RunDoc]) -> list[tuple[str, RunDoc]]:
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


def ab_round_rows(doc: AbResult[RunDoc]) -> Rows:
    """Every run of the A/B in the order it ran."""
    gen = _generates(doc)
    header: tuple[str, ...] = ("#", "side", "items/s", "median ms", "iterations", "verdict")
    if gen:
        header = (*header, "TTFT mean ms", "TPOT mean ms", "decode tok/s")
    rows = []
    for k, (name, run) in enumerate(ab_sequence(doc)):
        row: tuple[str, ...] = (
            str(k + 1),
            name,
            number(run.items_per_sec),
            ms(run.median_ms),
            str(run.iterations),
            verdict(run),
        )
        if gen:
            row = (
                *row,
                *(
                    (ms if latency else number)(run_value(run, f"generation.{key}"))
                    for _, key, latency in AB_GENERATION
                ),
            )
        rows.append(row)
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
