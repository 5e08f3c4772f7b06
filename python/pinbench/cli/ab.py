"""``pinbench ab MODEL [flags] --a "FLAGS" --b "FLAGS" [-r N]``: an interleaved A/B comparison.

The flags before and after ``--a``/``--b`` are the main command's and shared by both sides; each
side adds its own (they win where they repeat a shared one). See ``pinbench.result.ab_record``
for the order of the runs and the test.
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
from typing import TYPE_CHECKING

from ..base.errors import PinbenchError, UsageError
from ..result.ab_record import ALPHA, METRICS
from . import types
from .benchmark import build_parser as build_benchmark_parser
from .benchmark import settings_from_args
from .common import OneLineParser, catch_signals, fail, interrupt_code, setup_logging

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from ..settings import RunSettings

PROG = "pinbench ab"
ROUNDS = 6


def build_parser() -> OneLineParser:
    p = OneLineParser(
        prog=PROG,
        description="Run two configurations alternately (ABBA...) and test B against A across "
        "the paired rounds. Every flag of pinbench is accepted and shared by both sides.",
        epilog='example: pinbench ab squeezenet -t 2 --a "-nstreams 1" --b "-nstreams 2" -r 6',
        allow_abbrev=False,
    )
    p.add_argument("--a", default="", metavar="FLAGS", help="side A's own flags, quoted")
    p.add_argument("--b", default="", metavar="FLAGS", help="side B's own flags, quoted")
    p.add_argument(
        "-r",
        "--rounds",
        type=types.positive_int,
        default=ROUNDS,
        help=f"rounds, each one run of A and one of B ({ROUNDS})",
    )
    p.add_argument(
        "--metric",
        choices=list(METRICS),
        default="items_per_sec",
        help="what is compared: items_per_sec (default), median or mean latency; with -s "
        "generate also ttft, tpot (mean ms), ttft_p99, tpot_p99, prefill_tokens_per_sec, "
        "decode_tokens_per_sec, output_tokens_per_sec; with counters ipc, cpu_ms_per_inference, "
        "joules_per_inference (where the PMU and RAPL allow)",
    )
    p.add_argument("--alpha", type=types.level, default=ALPHA, help=f"significance level ({ALPHA})")
    p.add_argument(
        "--fail-if-slower",
        type=types.percent,
        default=None,
        metavar="PCT",
        help="exit 1 when B is worse than A by PCT%% or more and significantly",
    )
    p.add_argument(
        "-x",
        "--export_path",
        type=types.output_file,
        default=None,
        help="write both sides' runs as JSON",
    )
    return p


def side_settings(shared: Sequence[str], own: str, side: str) -> RunSettings:
    """One side's RunSettings: the shared flags, then its own."""
    try:
        own_flags = shlex.split(own)
    except ValueError as e:  # an unclosed quote: shlex's own words, e.g. "No closing quotation"
        reason = str(e).lower()
        raise UsageError(f"--{side} {own!r}: {reason}; close the quote inside the flags") from None
    argv = [*shared, *own_flags]
    args = build_benchmark_parser().parse_args(argv)
    if args.export_path or args.export_samples or args.plot or args.find_qps or args.repeat > 1:
        raise UsageError(
            f"--{side} {own!r}: -x, --export-samples, --plot, --find-qps and -r belong to "
            "pinbench ab itself, not to a side"
        )
    if args.profile:
        raise UsageError("--profile applies to one benchmark (pinbench MODEL), not to pinbench ab")
    return settings_from_args(args, ["ab", *argv]).validate()


def take_sides(argv: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """``--a FLAGS`` and ``--b FLAGS`` taken out of ``argv`` before argparse sees them: their
    values start with '-' and may hold flags of pinbench ab's own (``-x``, ``-r``).

    >>> take_sides(["m.onnx", "--a", "-x y", "--b=-r 2", "-t", "1"])
    (['m.onnx', '-t', '1'], {'a': '-x y', 'b': '-r 2'})
    """
    rest: list[str] = []
    sides: dict[str, str] = {}
    items = iter(argv)
    for item in items:
        name, eq, value = item.partition("=")
        if name in ("--a", "--b"):
            sides[name[2:]] = value if eq else next(items, "")
        else:
            rest.append(item)
    return rest, sides


def main(argv: Sequence[str]) -> int:
    """``pinbench ab``: 0 ok, 1 B worse beyond --fail-if-slower (or a failure), 2 usage."""
    rest, sides = take_sides(argv)
    args, shared = build_parser().parse_known_args(rest)
    args.a, args.b = sides.get("a", ""), sides.get("b", "")
    quiet, debug = "-q" in shared or "--quiet" in shared, "--debug" in shared
    catch_signals()
    setup_logging(quiet, debug)
    from ..api import ab

    try:
        a, b = side_settings(shared, args.a, "a"), side_settings(shared, args.b, "b")
        a = dataclasses.replace(a, command_line=("pinbench", "ab", *argv))
        result = ab(
            a,
            b,
            rounds=args.rounds,
            metric=args.metric,
            alpha=args.alpha,
            flags=(args.a, args.b),
            export_path=args.export_path,
        )
    except PinbenchError as e:
        return fail(PROG, str(e), e.exit_code, debug)
    except KeyboardInterrupt as e:
        return fail(PROG, "interrupted before a round finished", interrupt_code(e), debug)
    return _report(result, args)


def _report(result: object, args: argparse.Namespace) -> int:
    from ..report.ab_lines import ab_lines
    from ..result.ab_record import AbResult

    assert isinstance(result, AbResult)
    print("\n".join(ab_lines(result)))
    if result.interrupted:
        return interrupt_code(result.a.runs[-1].measurement.interrupt if result.a.runs else None)
    c = result.comparison
    pct = args.fail_if_slower
    if pct is not None and c.significant and c.worse_by * 100.0 >= pct:
        print(
            f"{PROG}: B is worse than A by {c.worse_by:.1%} (>= {pct:g}%), p {c.p_value:.4f}",
            file=sys.stderr,
        )
        return 1
    return 0
