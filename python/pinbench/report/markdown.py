"""``pinbench report --format markdown``: GitHub-flavoured Markdown tables for a README or a pull
request: one row per run (and for runs of ``-s generate`` a table of their token figures); for a
sweep its table per model with the frontier and the best point;
for an A/B run its comparison, verdict and rounds.

Example::

    >>> print(markdown([load_document("base.json"), load_document("new.json")]))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..result.ab_record import AbResult
from ..result.schema.run import RunDoc
from ..result.sweep_record import Sweep
from .fleet import fleet_lines
from .rows import (
    ab_round_rows,
    ab_rows,
    ab_verdict,
    best_text,
    generation_rows,
    hardware_rows,
    run_rows,
    sweep_rows,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..result.schema import Document


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table; numbers right-aligned (by the header's cells that name a figure)."""
    align = ["---:" if _numeric(rows, k) else "---" for k in range(len(header))]
    return [_line(header), _line(align), *(_line(r) for r in rows)]


def _numeric(rows: Sequence[Sequence[str]], k: int) -> bool:
    cells = [r[k] for r in rows if r[k] not in ("", "n/a")]
    return bool(cells) and all(c.replace(".", "", 1).lstrip("-").isdigit() for c in cells)


def _line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(text: str) -> str:
    """Pipes and line breaks would end the cell or the table."""
    return " ".join(text.split()).replace("|", "\\|")


def markdown(docs: Sequence[Document]) -> str:
    """The report of ``docs``: consecutive runs share one table; each sweep and A/B its own."""
    parts: list[list[str]] = []
    runs: list[RunDoc] = []
    for doc in [*docs, None]:
        if isinstance(doc, RunDoc):
            runs.append(doc)
            continue
        if runs:
            parts.append(table(*run_rows(runs)))
            tokens = generation_rows(runs)
            if tokens is not None:
                parts.append(["**Token generation** (`-s generate`)", "", *table(*tokens)])
            hardware = hardware_rows(runs)
            if hardware is not None:
                parts.append(["**Counters and energy**", "", *table(*hardware)])
            runs = []
        if isinstance(doc, Sweep):
            parts.append(sweep_markdown(doc))
        elif isinstance(doc, AbResult):
            parts.append(ab_markdown(doc))
    return "\n\n".join("\n".join(p) for p in parts) + "\n"


def sweep_markdown(doc: Sweep[RunDoc]) -> list[str]:
    cut = ", interrupted" if doc.interrupted else ""
    out = [
        f"**Sweep** ({len(doc.points)} of {doc.planned} configurations, "
        f"{doc.seconds:g} s each{cut})"
    ]
    for m in doc.models:
        out += [
            "",
            f"`{m.model}`: {best_text(doc, m.best)}",
            "",
            *table(*sweep_rows(doc, m.points)),
        ]
    if doc.fleet is not None:
        out += ["", *fleet_lines(doc.fleet, table, lambda t: f"**{t}**\n")]
    return out


def ab_markdown(doc: AbResult[RunDoc]) -> list[str]:
    return [
        f"**A/B** `{doc.model}`: {ab_verdict(doc)}",
        "",
        *table(*ab_rows(doc)),
        "",
        *table(*ab_round_rows(doc)),
    ]
