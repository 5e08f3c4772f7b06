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
from ..settings import AbSettings, with_fields
from . import benchmark
from .common import OneLineParser, catch_signals, fail, interrupt_code, setup_logging
from .flag_table import pick
from .flags import add_flags, fields_under

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from ..settings import RunSettings

PROG = "pinbench ab"


# The command's own flags by their entries in cli.flag_table; the rest are pinbench's.
KEYS: tuple[str, ...] = (
    "ab.a",
    "ab.b",
    "AbSettings.rounds",
    "AbSettings.metric",
    "AbSettings.alpha",
    "ab.fail_if_slower",
    "ab.export_path",
)


def build_parser() -> OneLineParser:
    p = OneLineParser(
        prog=PROG,
        description="Run two configurations alternately (ABBA...) and test B against A across "
        "the paired rounds. Every flag of pinbench is accepted and shared by both sides.",
        epilog='example: pinbench ab squeezenet -t 2 --a "-nstreams 1" --b "-nstreams 2" -r 6',
        allow_abbrev=False,
    )
    add_flags(p, pick(KEYS))
    return p


def ab_settings(args: argparse.Namespace) -> AbSettings:
    """The comparison's settings of a command line, by the flag table."""
    return with_fields(AbSettings(), fields_under("AbSettings", pick(KEYS), args))


def side_settings(shared: Sequence[str], own: str, side: str) -> RunSettings:
    """One side's RunSettings: the shared flags, then its own."""
    try:
        own_flags = shlex.split(own)
    except ValueError as e:  # an unclosed quote: shlex's own words, e.g. "No closing quotation"
        reason = str(e).lower()
        raise UsageError(f"--{side} {own!r}: {reason}; close the quote inside the flags") from None
    argv = [*shared, *own_flags]
    args = benchmark.build_parser().parse_args(argv)
    if args.export_path or args.export_samples or args.plot or args.find_qps or args.repeat > 1:
        raise UsageError(
            f"--{side} {own!r}: -x, --export-samples, --plot, --find-qps and -r belong to "
            "pinbench ab itself, not to a side"
        )
    if args.profile:
        raise UsageError("--profile applies to one benchmark (pinbench MODEL), not to pinbench ab")
    return benchmark.settings_from_args(args, ["ab", *argv]).validate()


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
        comparison = ab_settings(args)
        result = ab(
            a,
            b,
            rounds=comparison.rounds,
            metric=comparison.metric,
            alpha=comparison.alpha,
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
