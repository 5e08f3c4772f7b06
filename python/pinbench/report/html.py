"""``pinbench report --format html``: one self-contained page for a run, a set of runs, an A/B
run or a sweep: the summary table, the verdicts with their reasons, the token figures of runs of
``-s generate``, the figures and the environment.

Self-contained: the style is inline, every figure is inline SVG drawn here (``report.figures``),
there is no script and no reference to anything outside the page, so it opens the same from a
mail, an archive or a CI artefact, offline. A run's own figures need its raw samples (the
``--export-samples`` file its JSON names, looked up beside the JSON); without them the page shows
the latency percentiles from the JSON and says which file would give the rest.

Example::

    >>> page = html_page([load_document("result.json")])  # doctest: +SKIP
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from ..base.version import pinbench_version
from ..result.ab_record import AbResult
from ..result.schema.run import RunDoc
from ..result.sweep_record import Sweep
from . import figures
from .rows import (
    ab_round_rows,
    ab_rows,
    ab_sequence,
    ab_verdict,
    best_text,
    environment_rows,
    generation_rows,
    hardware_rows,
    run_rows,
    sweep_rows,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..result.schema import Document

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1320px; color: #222;
       padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; } td.text { text-align: left; }
.valid { color: #1a7f37; font-weight: bold; } .invalid { color: #b42318; font-weight: bold; }
.note { color: #555; font-size: 0.9em; } figure { display: inline-block; margin: 0.4em; }
code { background: #f3f3f3; padding: 0 3px; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table; cells that are not numbers are left-aligned."""

    def cell(tag: str, text: str) -> str:
        numeric = text.replace(".", "", 1).lstrip("-").isdigit() or text in ("", "n/a")
        cls = "" if numeric else ' class="text"'
        return f"<{tag}{cls}>{_e(text)}</{tag}>"

    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(cell("td", c) for c in r) + "</tr>" for r in rows)
    return f"<table>\n<tr>{head}</tr>\n{body}\n</table>"


def html_page(docs: Sequence[Document], title: str = "pinbench report") -> str:
    """The whole page: consecutive runs in one section, each sweep and A/B in its own."""
    sections: list[str] = []
    runs: list[RunDoc] = []
    for doc in [*docs, None]:
        if isinstance(doc, RunDoc):
            runs.append(doc)
            continue
        if runs:
            sections.append(runs_section(runs))
            runs = []
        if isinstance(doc, Sweep):
            sections.append(sweep_section(doc))
        elif isinstance(doc, AbResult):
            sections.append(ab_section(doc))
    sources = ", ".join(f"<code>{_e(d.path)}</code>" for d in docs if d.path)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            '<head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title>",
            f"<style>{STYLE}</style></head>",
            "<body>",
            f"<h1>{_e(title)}</h1>",
            f'<p class="note">pinbench {_e(pinbench_version())}; from {sources or "documents"}.'
            "</p>",
            *sections,
            "</body>",
            "</html>",
            "",
        ]
    )


def _verdicts(runs: Sequence[RunDoc], names: Sequence[str] | None = None) -> str:
    """Each run's verdict with its reasons; ``names`` label the runs (by default their files)."""
    if names is None:
        names = (
            [f"run {k + 1} ({r.path or r.model})" for k, r in enumerate(runs)]
            if len(runs) > 1
            else ["Verdict"]
        )
    items = []
    for name, r in zip(names, runs):
        if r.valid is None:
            items.append(f"<li>{_e(name)}: no verdict (the file predates it)</li>")
            continue
        word = "valid" if r.valid else "invalid"
        cut = ", interrupted" if r.interrupted else ""
        reasons = "".join(f"<li>{_e(m)}</li>" for _, m in r.reasons)
        items.append(
            f'<li>{_e(name)}: <span class="{word}">{word}</span>{cut}'
            + (f"<ul>{reasons}</ul>" if reasons else "")
            + "</li>"
        )
    return "<ul>" + "".join(items) + "</ul>"


def _run_figures(run: RunDoc) -> str:
    """The run's figures: from its samples when they are beside the JSON, else the percentiles
    and a note."""
    from ..result.samples import read_samples

    streams = None
    problem = ""
    if run.samples is not None:
        try:
            streams = read_samples(run.samples)
        except ValueError as e:
            problem = f" ({e})"
    charts = figures.sample_charts(run, streams) if streams else []
    if charts:
        note = f"From the raw samples in <code>{_e(run.samples)}</code>."
    elif run.samples_named:
        note = (
            f"The raw samples <code>{_e(run.samples_named)}</code> named by the JSON were not "
            f"found beside it{_e(problem)}: the histogram, the latency over time and the "
            "throughput per slice need them. The percentiles below come from the JSON."
        )
    else:
        note = (
            "No raw samples: run with <code>--export-samples FILE.npz</code> beside "
            "<code>-x</code> for the histogram, the latency over time and the throughput per "
            "slice. The percentiles below come from the JSON."
        )
    shown = charts or [figures.percentile_chart(run)]
    return f'<p class="note">{note}</p>' + "".join(f"<figure>{c}</figure>" for c in shown)


def runs_section(runs: Sequence[RunDoc]) -> str:
    title = f"{len(runs)} runs" if len(runs) > 1 else f"Run: {runs[0].model}"
    parts = [f"<section><h2>{_e(title)}</h2>", table(*run_rows(runs)), _verdicts(runs)]
    tokens = generation_rows(runs)
    if tokens is not None:
        parts += ["<h3>Token generation (-s generate)</h3>", table(*tokens)]
    hardware = hardware_rows(runs)
    if hardware is not None:
        parts += ["<h3>Counters and energy</h3>", table(*hardware)]
    if len(runs) > 1:
        parts.append("".join(f"<figure>{c}</figure>" for c in figures.runs_charts(runs)))
    for k, run in enumerate(runs):
        if len(runs) > 1:
            parts.append(f"<h3>run {k + 1}: {_e(run.path or run.model)}</h3>")
        cmd = " ".join(run.command_line)
        if cmd:
            parts.append(f'<p class="note">command: <code>{_e(cmd)}</code></p>')
        parts.append(_run_figures(run))
    parts += ["<h3>Environment</h3>", table(*environment_rows(runs)), "</section>"]
    return "\n".join(parts)


def sweep_section(doc: Sweep[RunDoc]) -> str:
    cut = ", interrupted" if doc.interrupted else ""
    parts = [
        f"<section><h2>Sweep: {len(doc.points)} of {doc.planned} configurations, "
        f"{doc.seconds:g} s each{cut}</h2>"
    ]
    if doc.command_line:
        parts.append(f'<p class="note">command: <code>{_e(" ".join(doc.command_line))}</code></p>')
    for m in doc.models:
        parts += [
            f"<h3>{_e(m.model)}</h3>",
            f"<p>{_e(best_text(doc, m.best))}</p>",
            table(*sweep_rows(doc, m.points)),
        ]
        measured = [i for i in m.points if doc.points[i].error is None]
        parts.append(
            f"<figure>{figures.sweep_chart(doc, m.points, m.best)}</figure>"
            if measured
            else '<p class="note">No configuration of this model was measured.</p>'
        )
    failed = [p for p in doc.points if p.error is not None]
    if failed:
        parts.append(
            f'<p class="invalid">{len(failed)} configuration(s) failed; their errors are in '
            "the table.</p>"
        )
    runs = [p.result for p in doc.points if p.result is not None]
    if runs:
        parts += ["<h3>Environment</h3>", table(*environment_rows(runs[:1]))]
    parts.append("</section>")
    return "\n".join(parts)


def ab_section(doc: AbResult[RunDoc]) -> str:
    sig = doc.comparison.significant
    judged = "significant" if sig else "no significant change" if sig is False else "not tested"
    sequence = ab_sequence(doc)
    runs = [run for _, run in sequence]
    names = [f"run {k + 1} ({side})" for k, (side, _) in enumerate(sequence)]
    parts = [
        f"<section><h2>A/B: {_e(doc.model)}</h2>",
        f"<p><strong>{_e(judged)}</strong>: {_e(ab_verdict(doc))}</p>",
        table(*ab_rows(doc)),
        f"<figure>{figures.ab_chart(doc)}</figure>",
        "<h3>Runs in order</h3>",
        table(*ab_round_rows(doc)),
        "<h3>Verdicts</h3>",
        _verdicts(runs, names),
        "<h3>Environment</h3>",
        table(*environment_rows(runs)),
        "</section>",
    ]
    return "\n".join(parts)
