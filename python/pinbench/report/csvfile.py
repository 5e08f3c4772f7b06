"""CSV: ``pinbench sweep --csv`` / ``--csv-dir`` and ``pinbench report --format csv``.

The first twelve columns are deepsparse.benchmark_sweep's, same names and order, so a
spreadsheet made for it reads pinbench's: Model, Engine, Batch Size, Num Cores, Scenario,
Num Streams, Items per second, Mean Latency, Median Latency, Std Latency (ms per batch),
Input Shape, Command. pinbench adds Iterations, Verdict (valid, invalid, interrupted, failed) and
Error (the one-line error of a point that failed; its figures are then empty). Input Shape is
every input as run in ``-shapes`` syntax (``x:[1,3,224,224],mask:[1,128]``); Command is the
pinbench command that runs the row alone (for a run, its command line as typed). A run, a sweep
and an A/B file all give these columns; an A/B file adds Side (A or B), in the order run.

When a row ran ``-s generate`` (a run, a sweep point, an A/B side's run), the file adds
GENERATION_COLUMNS at the end: the request (Prompt Tokens, New Tokens, Depth), Requests, TTFT and
TPOT mean and p99 (ms), and Prefill, Decode and Output Tokens per second; they are empty on the
rows of other scenarios. A sweep that varies ``-seq_len`` adds Sequence Length before them.
When a row recorded counters or energy (``pinbench.counters``, ``pinbench.energy``), the file
adds HARDWARE_COLUMNS after those: IPC, CPU ms per inference, Migrations, Preemptions per
inference, Watts, Joules per inference and per token (empty where unknown).
Files without any of them keep the columns above, unchanged.
"""

from __future__ import annotations

import csv
import io
import math
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from ..base.files import write_atomically
from ..result.ab_record import AbResult
from ..result.schema.hardware import hardware_of
from ..result.schema.run import RunDoc
from ..result.sweep_record import Sweep
from .rows import model_label

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from ..result.generation import GenerationFigures
    from ..result.schema.hardware import HardwareDoc
    from ..result.sweep_record import SweepPoint

# A document read back, or a sweep as it ran (``pinbench sweep --csv`` writes it directly).
Source = Union[RunDoc, "Sweep[Any]", "AbResult[RunDoc]"]

ORIGINAL_COLUMNS = (
    *("Model", "Engine", "Batch Size", "Num Cores", "Scenario", "Num Streams"),
    *("Items per second", "Mean Latency", "Median Latency", "Std Latency", "Input Shape"),
    "Command",
)
COLUMNS = (*ORIGINAL_COLUMNS, "Iterations", "Verdict", "Error")
SEQUENCE_COLUMN = "Sequence Length"
GENERATION_COLUMNS = (
    *("Prompt Tokens", "New Tokens", "Depth", "Requests", "TTFT Mean", "TTFT p99", "TPOT Mean"),
    *("TPOT p99", "Prefill Tokens per second", "Decode Tokens per second"),
    "Output Tokens per second",
)
HARDWARE_COLUMNS = (
    *("IPC", "CPU ms per inference", "Migrations", "Preemptions per inference", "Watts"),
    *("Joules per inference", "Joules per token"),
)


def shapes_text(shapes: dict[str, list[int]]) -> str:
    """``{"x": [1, 4]}`` -> ``x:[1,4]``, the ``-shapes`` syntax."""
    return ",".join(f"{k}:[{','.join(str(d) for d in v)}]" for k, v in shapes.items())


def _figure(v: float | None) -> str:
    return repr(v) if v is not None and math.isfinite(v) else ""


def generation_cells(g: GenerationFigures | None) -> list[str]:
    """GENERATION_COLUMNS of one row (empty cells for a row of another scenario)."""
    if g is None:
        return [""] * len(GENERATION_COLUMNS)
    return [
        str(g.prompt_tokens),
        str(g.new_tokens),
        str(g.depth),
        str(g.requests),
        _figure(g.ttft_mean_ms),
        _figure(g.ttft_p99_ms),
        _figure(g.tpot_mean_ms),
        _figure(g.tpot_p99_ms),
        _figure(g.prefill_tokens_per_sec),
        _figure(g.decode_tokens_per_sec),
        _figure(g.output_tokens_per_sec),
    ]


def sweep_row(p: SweepPoint[Any]) -> list[str]:
    verdict = (
        "failed"
        if p.error is not None
        else "interrupted"
        if p.interrupted
        else "valid"
        if p.valid
        else "invalid"
    )
    return [
        p.model,
        p.engine,
        str(p.batch_size),
        str(p.num_cores),
        p.scenario,
        str(p.num_streams),
        _figure(p.items_per_sec),
        _figure(p.mean_ms),
        _figure(p.median_ms),
        _figure(p.std_ms),
        shapes_text(p.input_shapes),
        shlex.join(p.command),
        str(p.iterations),
        verdict,
        p.error or "",
    ]


def run_row(r: RunDoc) -> list[str]:
    verdict = "" if r.valid is None else "valid" if r.valid else "invalid"
    return [
        r.model,
        r.engine,
        str(r.batch_size),
        str(r.num_cores),
        r.scenario,
        str(r.num_streams),
        _figure(r.items_per_sec),
        _figure(r.mean_ms),
        _figure(r.median_ms),
        _figure(r.std_ms),
        shapes_text(r.input_shapes),
        shlex.join(r.command_line),
        str(r.iterations),
        "interrupted" if r.interrupted else verdict,
        "",
    ]


# One row before its optional columns: (COLUMNS' cells, side, -seq_len, token figures,
# counters and energy).
Parts = tuple[list[str], str, "int | None", "GenerationFigures | None", "HardwareDoc | None"]


def _parts(doc: Source, indices: Sequence[int] | None) -> list[Parts]:
    if isinstance(doc, Sweep):
        chosen = range(len(doc.points)) if indices is None else indices
        return [
            (sweep_row(p), "", p.sequence_length, p.generation, hardware_of(p.result))
            for p in (doc.points[i] for i in chosen)
        ]
    if isinstance(doc, AbResult):
        return [
            (run_row(r), name, None, r.generation, r.hardware)
            for name, side in (("A", doc.a), ("B", doc.b))
            for r in side.runs
        ]
    return [(run_row(doc), "", None, doc.generation, doc.hardware)]


def rows_of(doc: Source, indices: Sequence[int] | None = None) -> list[list[str]]:
    """The rows of one document (a sweep's points ``indices`` only, when given), with the
    optional columns that this document alone would have."""
    return _rows(_parts(doc, indices), isinstance(doc, AbResult))


def _rows(parts: list[Parts], ab: bool) -> list[list[str]]:
    seq = any(p[2] is not None for p in parts)
    gen = any(p[3] is not None for p in parts)
    hw = any(p[4] is not None for p in parts)
    return [
        [
            *row,
            *([side] if ab else []),
            *([] if not seq else ["" if s is None else str(s)]),
            *(generation_cells(g) if gen else []),
            *(hardware_cells(h) if hw else []),
        ]
        for row, side, s, g, h in parts
    ]


def hardware_cells(h: HardwareDoc | None) -> list[str]:
    """HARDWARE_COLUMNS' cells ("" for each without counters or energy)."""
    if h is None:
        return [""] * len(HARDWARE_COLUMNS)
    return [
        _figure(v)
        for v in (h.ipc, h.cpu_ms_per_inference, h.migrations, h.preemptions_per_inference,
                  h.watts, h.joules_per_inference, h.joules_per_token)
    ]  # fmt: skip


def header_of(parts: list[Parts], ab: bool) -> list[str]:
    seq = any(p[2] is not None for p in parts)
    gen = any(p[3] is not None for p in parts)
    hw = any(p[4] is not None for p in parts)
    return [
        *COLUMNS,
        *(["Side"] if ab else []),
        *([SEQUENCE_COLUMN] if seq else []),
        *(GENERATION_COLUMNS if gen else ()),
        *(HARDWARE_COLUMNS if hw else ()),
    ]


def csv_text(docs: Sequence[Source], indices: Sequence[int] | None = None) -> str:
    """The CSV of ``docs``: one header, then every document's rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    ab = any(isinstance(d, AbResult) for d in docs)
    parts = [part for doc in docs for part in _parts(doc, indices)]
    writer.writerow(header_of(parts, ab))
    writer.writerows(_rows(parts, ab))
    return out.getvalue()


def write_csv(
    path: str | os.PathLike[str], docs: Sequence[Source], indices: Sequence[int] | None = None
) -> None:
    """``csv_text(docs, indices)`` written atomically to ``path``."""
    text = csv_text(docs, indices)

    def write(f: Any) -> None:
        f.write(text)

    write_atomically(path, write, binary=False)


def per_model_paths(
    models: Sequence[str], folder: str | os.PathLike[str], stamp: str
) -> dict[str, Path]:
    """``--csv-dir``: one file per model, named as deepsparse.benchmark_sweep named them,
    ``benchmark_<model>_<YYYYmmdd_HHMMSS>.csv`` (the model by its short name, ``_2``... added
    when two models share one)."""
    out: dict[str, Path] = {}
    taken: set[str] = set()
    for m in models:
        name, k = f"benchmark_{_safe(model_label(m))}_{stamp}", 2
        unique = name
        while unique in taken:
            unique, k = f"{name}_{k}", k + 1
        taken.add(unique)
        out[m] = Path(folder) / f"{unique}.csv"
    return out


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "model"
