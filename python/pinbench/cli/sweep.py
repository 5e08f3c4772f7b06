"""``pinbench sweep MODEL --batch 1,8,32 --streams 1,2,4 [--latency-slo 20ms]``: the command.

Its arguments become one SweepSettings, run by ``pinbench.api.sweep``; see
``pinbench.search.sweep`` for what it measures and picks.
"""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING

from ..base.errors import PinbenchError, RunError
from ..base.logs import log
from ..settings import RunSettings, SweepSettings
from . import types
from .common import OneLineParser, fail, interrupt_code, raise_terminated, setup_logging

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from ..result.search import Sweep

PROG = "pinbench sweep"


def build_parser() -> OneLineParser:
    p = OneLineParser(
        prog=PROG,
        description="Run a grid of batch sizes and stream counts; print the table, the Pareto "
        "frontier of throughput against tail latency, and the best configuration under a target.",
        allow_abbrev=False,
    )
    p.add_argument(
        "model_path", help="as for pinbench: ONNX file, folder, built-in name, zoo:, hf:"
    )
    p.add_argument(
        "--batch", type=types.int_list, default=[1], help="batch sizes, e.g. 1,8,32 (default 1)"
    )
    p.add_argument(
        "--streams",
        type=types.int_list,
        default=None,
        help="numbers of streams, e.g. 1,2,4 (default: the divisors of the cores and the powers "
        "of two up to them)",
    )
    p.add_argument(
        "--latency-slo", type=types.latency_ms, default=None, metavar="TIME", help="e.g. 20ms"
    )
    p.add_argument(
        "--percentile",
        type=types.percentile,
        default=99.0,
        metavar="P",
        help="the latency percentile of the table, the frontier and the target (99)",
    )
    p.add_argument("-s", "--scenario", default="async", help="async (default), elastic or sync")
    p.add_argument("-t", "--time", type=float, default=5.0, help="seconds per configuration (5)")
    p.add_argument("-w", "--warmup_time", type=float, default=1.0, help="seconds of warmup (1)")
    p.add_argument("-ncores", "--num_cores", type=int, default=None, help="physical cores")
    p.add_argument("-pin", "--thread_pinning", default="core", choices=["none", "core", "numa"])
    p.add_argument("-e", "--engine", default="onnxruntime", help="as for pinbench")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated inputs (0)")
    p.add_argument("-x", "--export_path", default=None, help="write the sweep as JSON")
    p.add_argument("--plot", default=None, metavar="FILE.png", help="draw the sweep")
    p.add_argument("-q", "--quiet", action="store_true", help="only the table, no logs")
    p.add_argument("--debug", action="store_true", help="tracebacks on errors")
    return p


def settings_from_args(args: argparse.Namespace, argv: Sequence[str]) -> SweepSettings:
    """The one SweepSettings of a command line."""
    base = RunSettings.from_kwargs(
        args.model_path,
        scenario=args.scenario,
        time=args.time,
        warmup_time=args.warmup_time,
        num_cores=args.num_cores,
        thread_pinning=args.thread_pinning,
        engine=args.engine,
        seed=args.seed,
        command_line=("pinbench", "sweep", *argv),
    )
    return SweepSettings(
        base,
        batch_sizes=tuple(args.batch),
        streams=None if args.streams is None else tuple(args.streams),
        latency_slo_ms=args.latency_slo,
        percentile=args.percentile,
    )


def main(argv: Sequence[str]) -> int:
    """``pinbench sweep``: 0 ok, 1 a run-time failure or no point meeting the target, 2 usage."""
    args = build_parser().parse_args(list(argv))  # before the heavy imports: --help is instant
    from ..api import sweep
    from ..report.console import sweep_lines
    from ..report.plot import check_plot_path

    signal.signal(signal.SIGTERM, raise_terminated)
    setup_logging(args.quiet, args.debug)
    try:
        grid = settings_from_args(args, argv).validate()
        if args.plot:
            check_plot_path(args.plot)
        result = sweep(grid, export_path=args.export_path, plot=args.plot)
        if args.plot:
            _plot(result, args.plot)
    except PinbenchError as e:
        return fail(PROG, str(e), e.exit_code, args.debug)
    except KeyboardInterrupt as e:
        return fail(PROG, "interrupted", interrupt_code(e), args.debug)
    print("\n".join(sweep_lines(result)))
    if result.best is None and result.latency_slo_ms is not None:
        print(
            f"{PROG}: error: no configuration meets p{result.percentile:g} <= "
            f"{result.latency_slo_ms:g} ms",
            file=sys.stderr,
        )
        return 1
    return 0


def _plot(result: Sweep, path: str) -> None:
    from ..report.plot_sweep import plot_sweep  # matplotlib: only when a plot is asked for

    try:
        plot_sweep(result, path)
    except Exception as e:
        raise RunError(f"--plot {path}: {type(e).__name__}: {e}") from e
    log.info("plot written to %s", path)
