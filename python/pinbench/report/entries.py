"""What a dashboard tracks, read from the documents: per benchmark its throughput and median
latency with their 95% intervals (``bmf``, ``github``).

A benchmark is named ``MODEL ENGINE SCENARIO sS cC bB`` (streams, cores, batch), the model by its
short name (``report.rows.model_label``) so that runs from different folders keep one name; two
documents giving the same name are told apart by their file names. For a run the intervals are
``pinbench.result.items_per_sec_ci`` and ``latency_ms.median_ci``; for a sweep, each measured
point's own (from its full result); for an A/B file each side's median over its runs, bounded by
the lowest and highest run, and the ratio B / A with its interval.

A benchmark that ran ``-s generate`` adds its token figures (``TOKEN_MEASURES``): TTFT and TPOT
(mean and p99, ms: lower is better) and the prefill, decode and output rates (tokens/s: higher
is better). They have no interval of their own in a run (a point's figures are its spreads'),
so they are unbounded there; an A/B side's are the median of its runs, bounded by the lowest
and highest run, as its throughput is.

A benchmark that recorded counters or energy adds ``HARDWARE_MEASURES`` the same way: ``ipc``
(instructions per cycle, higher is better) and ``cpu_ms_per_inference``, ``joules_per_inference``
(lower is better), where they are known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..result.schema.hardware import hardware_of
from ..result.schema.run import RunDoc
from ..result.sweep_record import Sweep
from .rows import model_label, run_value, side_value, verdict

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..result.ab_record import AbResult, AbSide
    from ..result.generation import GenerationFigures
    from ..result.schema import Document
    from ..result.schema.hardware import HardwareDoc

Bounds = tuple[float, float] | None


@dataclass(frozen=True)
class TokenMeasure:
    """One token figure of a ``-s generate`` benchmark, as the dashboards name it."""

    slug: str  # the BMF measure, e.g. ttft_ms
    label: str  # github-action-benchmark's name after the benchmark's, e.g. "ttft mean"
    unit: str  # ms or tokens/s
    kind: str  # "latency" (lower is better) or "throughput": which --metric keeps it
    value: float
    bounds: Bounds = None


# (slug, label, unit, kind, GenerationFigures figure): the figures a dashboard tracks, in order.
TOKEN_MEASURES = (
    ("ttft_ms", "ttft mean", "ms", "latency", "ttft_mean_ms"),
    ("ttft_p99_ms", "ttft p99", "ms", "latency", "ttft_p99_ms"),
    ("tpot_ms", "tpot mean", "ms", "latency", "tpot_mean_ms"),
    ("tpot_p99_ms", "tpot p99", "ms", "latency", "tpot_p99_ms"),
    ("prefill_tokens_per_sec", "prefill tokens/s", "tokens/s", "throughput",
     "prefill_tokens_per_sec"),
    ("decode_tokens_per_sec", "decode tokens/s", "tokens/s", "throughput",
     "decode_tokens_per_sec"),
    ("output_tokens_per_sec", "output tokens/s", "tokens/s", "throughput",
     "output_tokens_per_sec"),
)  # fmt: skip


# (slug, label, unit, kind, HardwareDoc field), as TOKEN_MEASURES.
HARDWARE_MEASURES = (
    ("ipc", "ipc", "instructions/cycle", "throughput", "ipc"),
    ("cpu_ms_per_inference", "cpu ms/inference", "ms", "latency", "cpu_ms_per_inference"),
    ("joules_per_inference", "joules/inference", "J", "latency", "joules_per_inference"),
)


def hardware_measures(h: HardwareDoc | None) -> tuple[TokenMeasure, ...]:
    """The counters' and energy's figures of one run or sweep point that are known."""
    if h is None:
        return ()
    return tuple(
        TokenMeasure(slug, label, unit, kind, float(getattr(h, key)))
        for slug, label, unit, kind, key in HARDWARE_MEASURES
        if math.isfinite(getattr(h, key))
    )


def _side_hardware(side: AbSide[RunDoc]) -> tuple[TokenMeasure, ...]:
    """An A/B side's counters and energy: the median of its runs, bounded as its throughput."""
    out = []
    for slug, label, unit, kind, key in HARDWARE_MEASURES:
        value = side_value(side, f"hardware.{key}")
        if math.isfinite(value):
            out.append(
                TokenMeasure(slug, label, unit, kind, value, _spread(side, f"hardware.{key}"))
            )
    return tuple(out)


def token_measures(g: GenerationFigures | None) -> tuple[TokenMeasure, ...]:
    """The token figures of one run or sweep point (none without generation)."""
    if g is None:
        return ()
    return tuple(
        TokenMeasure(slug, label, unit, kind, _value(getattr(g, key)))
        for slug, label, unit, kind, key in TOKEN_MEASURES
    )


def _value(v: float | None) -> float:
    return math.nan if v is None else float(v)


def _side_tokens(side: AbSide[RunDoc]) -> tuple[TokenMeasure, ...]:
    """An A/B side's token figures: the median of its runs, bounded by the lowest and highest."""
    if not any(r.generation is not None for r in side.runs):
        return ()
    return tuple(
        TokenMeasure(
            slug, label, unit, kind, side_value(side, f"generation.{key}"),
            _spread(side, f"generation.{key}"),
        )
        for slug, label, unit, kind, key in TOKEN_MEASURES
    )  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One benchmark as a dashboard sees it; NaN where a figure is missing."""

    name: str
    items_per_sec: float
    items_per_sec_ci: Bounds
    median_ms: float
    median_ci: Bounds
    note: str  # iterations, verdict: for a person reading the dashboard
    ratio: float = math.nan  # A/B only: B / A of the comparison's metric
    ratio_ci: Bounds = None
    tokens: tuple[TokenMeasure, ...] = ()  # -s generate's token figures
    hardware: tuple[TokenMeasure, ...] = ()  # counters' and energy's figures

    @property
    def measures(self) -> tuple[TokenMeasure, ...]:
        """Every figure beyond throughput and latency: the tokens', then the hardware's."""
        return (*self.tokens, *self.hardware)


def _name(model: str, engine: str, scenario: str, streams: int, cores: int, batch: int) -> str:
    return f"{model_label(model)} {engine} {scenario} s{streams} c{cores} b{batch}"


def _request(g: GenerationFigures | None, seq_len: int | None = None) -> str:
    """What tells benchmarks of one layout apart when a sweep varies the request: `` pP nN``
    (`` dD`` with a depth), or `` seqS``."""
    if g is not None:
        return f" p{g.prompt_tokens} n{g.new_tokens}" + (f" d{g.depth}" if g.depth else "")
    return "" if seq_len is None else f" seq{seq_len}"


def run_entry(run: RunDoc) -> Entry:
    return Entry(
        name=_name(
            run.model, run.engine, run.scenario, run.num_streams, run.num_cores, run.batch_size
        )
        + _request(run.generation),
        items_per_sec=run.items_per_sec,
        items_per_sec_ci=run.items_per_sec_ci,
        median_ms=run.median_ms,
        median_ci=run.median_ci,
        note=f"{run.iterations} iterations in {run.seconds:.3g} s; {verdict(run)}",
        tokens=token_measures(run.generation),
        hardware=hardware_measures(run.hardware),
    )


def sweep_entries(doc: Sweep[RunDoc]) -> list[Entry]:
    out = []
    for i, p in enumerate(doc.points):
        if p.error is not None or p.interrupted:
            continue
        run = p.result
        out.append(
            Entry(
                name=_name(p.model, p.engine, p.scenario, p.num_streams, p.num_cores, p.batch_size)
                + _request(p.generation, p.sequence_length),
                items_per_sec=p.items_per_sec,
                items_per_sec_ci=run.items_per_sec_ci if run else None,
                median_ms=p.median_ms,
                median_ci=run.median_ci if run else None,
                note=f"{p.iterations} iterations; {'valid' if p.valid else 'invalid'}"
                + ("; Pareto frontier" if doc.on_frontier(i) else "")
                + ("; best" if doc.is_best(i) else ""),
                tokens=token_measures(p.generation),
                hardware=hardware_measures(hardware_of(p.result)),
            )
        )
    return out


def _spread(side: AbSide[RunDoc], key: str) -> Bounds:
    values = [v for v in (run_value(r, key) for r in side.runs) if math.isfinite(v)]
    return (min(values), max(values)) if values else None


def ab_entries(doc: AbResult[RunDoc]) -> list[Entry]:
    model = model_label(doc.model)
    out = [
        Entry(
            name=f"{model} {name}: {side.flags or '(no flags)'}",
            items_per_sec=side_value(side, "items_per_sec"),
            items_per_sec_ci=_spread(side, "items_per_sec"),
            median_ms=side_value(side, "median_ms"),
            median_ci=_spread(side, "median_ms"),
            note=f"median of {len(side.runs)} runs, bounds the lowest and highest run",
            tokens=_side_tokens(side),
            hardware=_side_hardware(side),
        )
        for name, side in (("A", doc.a), ("B", doc.b))
    ]
    c = doc.comparison
    out.append(
        Entry(
            name=f"{model} B/A",
            items_per_sec=math.nan,
            items_per_sec_ci=None,
            median_ms=math.nan,
            median_ci=None,
            note=f"{c.metric}, {c.rounds} rounds, p = {c.p_value:.3g}",
            ratio=c.ratio,
            ratio_ci=c.ci95 if all(map(math.isfinite, c.ci95)) else None,
        )
    )
    return out


def entries(docs: Sequence[Document]) -> list[Entry]:
    """Every benchmark of ``docs``, names made unique."""
    found: list[tuple[str, Entry]] = []
    for doc in docs:
        if isinstance(doc, RunDoc):
            made = [run_entry(doc)]
        elif isinstance(doc, Sweep):
            made = sweep_entries(doc)
        else:
            made = ab_entries(doc)
        found += [(doc.path, e) for e in made]
    return _unique(found)


def _unique(found: list[tuple[str, Entry]]) -> list[Entry]:
    names = [e.name for _, e in found]
    out, seen = [], set()
    for path, e in found:
        name = e.name
        if names.count(name) > 1 and path:
            name = f"{name} ({Path(path).stem})"
        k, base = 2, name
        while name in seen:
            name, k = f"{base} #{k}", k + 1
        seen.add(name)
        out.append(Entry(name, *(getattr(e, f) for f in _FIELDS)))
    return out


_FIELDS = (
    "items_per_sec",
    "items_per_sec_ci",
    "median_ms",
    "median_ci",
    "note",
    "ratio",
    "ratio_ci",
    "tokens",
)
