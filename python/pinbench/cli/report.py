"""``pinbench report RESULT.json [...] --format markdown|csv|html|bmf|github [-o FILE]``: the
command (the formats are ``pinbench.report.markdown``, ``csvfile``, ``html``, ``bmf`` and
``github``; the documents are read by ``pinbench.result.schema``).

Every file is read before anything is written, and the output is written atomically: a bad
file is a usage error (exit 2, one line) and leaves ``-o`` untouched.
"""

from __future__ import annotations

import json
import sys
from typing import IO, TYPE_CHECKING, Any

from ..base.errors import PinbenchError
from ..settings import REPORT_FORMAT, REPORT_FORMATS, REPORT_METRIC, REPORT_METRICS, REPORT_TITLE
from . import types
from .common import OneLineParser, fail

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..result.schema import Document

PROG = "pinbench report"


def build_parser() -> OneLineParser:
    p = OneLineParser(
        prog=PROG,
        description="Turn pinbench JSON files (runs, sweeps, A/B runs) into a report: Markdown "
        "tables, CSV, one self-contained HTML page, or a dashboard's JSON (Bencher's BMF, "
        "github-action-benchmark's custom format).",
        allow_abbrev=False,
    )
    p.add_argument(
        "files",
        nargs="+",
        metavar="RESULT.json",
        help="JSON written by pinbench -x, pinbench sweep -x or pinbench ab -x",
    )
    p.add_argument(
        "-f",
        "--format",
        choices=REPORT_FORMATS,
        default=REPORT_FORMAT,
        help="markdown (default), csv, html, bmf or github",
    )
    p.add_argument(
        "-o",
        "--output",
        type=types.output_file,
        metavar="FILE",
        help="write there (atomically) instead of stdout",
    )
    p.add_argument(
        "--metric",
        choices=tuple(REPORT_METRICS),
        default=REPORT_METRIC,
        help="bmf and github: throughput, latency or both (github-action-benchmark "
        "judges a file bigger- or smaller-is-better as a whole)",
    )
    p.add_argument("--title", default=REPORT_TITLE, help="html: the page's title")
    p.add_argument("--debug", action="store_true", help="tracebacks on errors")
    return p


def render(
    docs: Sequence[Document], fmt: str, metric: str = REPORT_METRIC, title: str = REPORT_TITLE
) -> str:
    """The report of ``docs`` in format ``fmt``, as text."""
    if fmt == "markdown":
        from ..report.markdown import markdown

        return markdown(docs)
    if fmt == "csv":
        from ..report.csvfile import csv_text

        return csv_text(docs)
    if fmt == "html":
        from ..report.html import html_page

        return html_page(docs, title)
    if fmt == "bmf":
        from ..report.bmf import bmf

        return json.dumps(bmf(docs, REPORT_METRICS[metric]), indent=2) + "\n"
    from ..report.github import github

    return json.dumps(github(docs, REPORT_METRICS[metric]), indent=2) + "\n"


def main(argv: Sequence[str]) -> int:
    """``pinbench report``: 0 ok, 2 a file that cannot be read or an output not writable."""
    args = build_parser().parse_args(list(argv))  # before the heavy imports: --help is instant
    from ..base.files import Output, guard_outputs, write_atomically
    from ..result.schema import load_document

    try:
        if args.output:
            read = [("a result being read", f) for f in args.files]
            guard_outputs([Output("-o", args.output)], read)
        docs = [load_document(f) for f in args.files]
        text = render(docs, args.format, args.metric, args.title)
    except PinbenchError as e:
        return fail(PROG, str(e), e.exit_code, args.debug)
    if args.output:

        def write(f: IO[Any]) -> None:
            f.write(text)

        write_atomically(args.output, write, binary=False)
    else:
        sys.stdout.write(text)
    return 0
