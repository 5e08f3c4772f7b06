"""``pinbench compare A.json B.json [...]``: the command (see ``pinbench.result.run_changes``)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ..base.errors import UsageError
from ..settings import COMPARE_ALPHA
from . import types
from .common import OneLineParser, fail

if TYPE_CHECKING:
    from collections.abc import Sequence

DRIFT_NOTE = (
    "note: one run a side: the test is within each run and cannot tell a change from the "
    "machine's drift between runs; give both runs -r N (repetitions), or use pinbench ab"
)


def build_parser() -> OneLineParser:
    p = OneLineParser(
        prog="pinbench compare",
        description="Compare pinbench JSON exports: each run against the first, with a "
        "significance test (Mann-Whitney U on raw samples when both runs have them, else the "
        "95% confidence intervals).",
        allow_abbrev=False,
    )
    p.add_argument("baseline", help="the reference run (JSON written by pinbench -x)")
    p.add_argument("others", nargs="+", metavar="run", help="runs compared with the baseline")
    p.add_argument(
        "--fail-if-slower",
        type=types.percent,
        metavar="PCT",
        help="exit 1 when a run's throughput fell, or its median latency rose, by PCT%% or more "
        "and the change is significant (or cannot be tested); with two -s generate runs also "
        "their mean TTFT, TPOT and decode tokens/s",
    )
    p.add_argument(
        "--alpha",
        type=types.level,
        default=COMPARE_ALPHA,
        help=f"significance level of the Mann-Whitney U test ({COMPARE_ALPHA})",
    )
    return p


def main(argv: Sequence[str]) -> int:
    """``pinbench compare``: 0 ok, 1 a slowdown beyond --fail-if-slower, 2 usage errors."""
    args = build_parser().parse_args(list(argv))  # before the heavy imports: --help is instant
    from ..report.compare_lines import describe, table
    from ..result.run_changes import compare_runs, compared, load_run, within_runs_only

    try:
        base = compared(load_run(args.baseline))
        others = [compared(load_run(path)) for path in args.others]
    except UsageError as e:
        return fail("pinbench compare", str(e), 2, debug=False, detail=e.detail)
    lines = [describe(base, "baseline"), *(describe(o, "run") for o in others)]
    slow: list[str] = []
    for other in others:
        changes = compare_runs(base, other, args.alpha)
        lines += ["", *table(base, other, changes)]
        if within_runs_only(changes):
            lines.append(DRIFT_NOTE)
        if args.fail_if_slower is not None:
            slow += [
                f"{other.run.path}: {c.label} {c.change:+.1%}"
                for c in changes
                if c.slower_beyond(args.fail_if_slower)
            ]
    print("\n".join(lines))
    if slow:
        print(
            f"pinbench compare: slower than {base.run.path} by {args.fail_if_slower:g}% or more: "
            + "; ".join(slow),
            file=sys.stderr,
        )
        return 1
    return 0
