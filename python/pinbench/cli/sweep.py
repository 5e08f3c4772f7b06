"""``pinbench sweep MODEL [MODEL...|FOLDER] [--engines a,b] [--cores 1,4,max] [-s sync,async]
[--batch 1,8] [--streams 1,2,4] [--latency-slo 20ms]``: the command.

Its arguments become one SweepSettings, run by ``pinbench.api.sweep``; see
``pinbench.search.sweep_runner`` for what it measures and ``sweep_frontier`` for what it picks.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..base.errors import PinbenchError, UsageError
from ..settings import FleetSettings, RunSettings, SweepSettings, default_at, with_fields
from .common import OneLineParser, catch_signals, fail, interrupt_code, setup_logging
from .flag_table import pick
from .flags import add_flags, fields_under

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..result.record import Result
    from ..result.sweep_record import Sweep

PROG = "pinbench sweep"
EPILOG = """\
examples:
  pinbench sweep model.onnx --batch 1,8 --streams 1,2 --latency-slo 20ms
  pinbench sweep a.onnx b.onnx --engines onnxruntime,openvino --cores 1,max --csv sweep.csv
  pinbench sweep models/ -s sync --cores "1, 4, max" --batch 1,16,32 --csv-dir results/
  pinbench sweep decoder.onnx -s generate --prompt-tokens 16,64 --new-tokens 8 --streams 1
  pinbench sweep decoder.onnx -s sync -seq_len 128,512 --batch 1,4
  pinbench sweep models/ --cluster ray://head:10001 --every-host -x fleet.json
  pinbench sweep models/ --cluster slurm --slurm-partitions c7i,c8g --every-host -x fleet.json
"""


# The command's flags by their entries in cli.flag_table, in --help's order: (group, keys). The
# SweepSettings.base.* entries are the sweep's own versions of pinbench's flags (its point time,
# its help); the RunSettings.* ones are pinbench's, filling the base of every point.
SECTIONS: tuple[tuple[str | None, tuple[str, ...]], ...] = (
    (
        None,
        (
            "SweepSettings.models",
            "SweepSettings.engines",
            "SweepSettings.cores",
            "SweepSettings.scenarios",
            "SweepSettings.batch_sizes",
            "SweepSettings.streams",
            "SweepSettings.prompt_tokens",
            "SweepSettings.new_tokens",
            "SweepSettings.sequence_lengths",
            "SweepSettings.latency_slo_ms",
            "SweepSettings.percentile",
            "SweepSettings.base.measure.time",
            "SweepSettings.base.measure.warmup_time",
            "SweepSettings.base.layout.thread_pinning",
            "SweepSettings.base.layout.instances",
            "RunSettings.inputs.seed",
            "SweepSettings.base.measure.counters",
            "sweep.export_path",
            "sweep.csv",
            "sweep.csv_dir",
            "sweep.plot",
            "sweep.quiet",
            "pinbench.debug",
        ),
    ),
    (
        "fleet (docs/fleet.md)",
        (
            "SweepSettings.fleet.cluster",
            "SweepSettings.fleet.mode",
            "sweep.every_host",
            "SweepSettings.fleet.slurm_partitions",
            "SweepSettings.fleet.slurm_hosts",
            "SweepSettings.fleet.slurm_timeout_min",
            "SweepSettings.fleet.slurm_folder",
        ),
    ),
)
KEYS: tuple[str, ...] = tuple(key for _, keys in SECTIONS for key in keys)


def build_parser() -> OneLineParser:
    p = OneLineParser(
        prog=PROG,
        description="Run a grid of models x engines x core counts x scenarios x batch sizes x\n"
        "stream counts; print the table, each model's Pareto frontier of throughput against\n"
        "tail latency, and each model's best configuration under a target.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    for title, keys in SECTIONS:
        add_flags(p, pick(keys), title)
    return p


def settings_from_args(args: argparse.Namespace, argv: Sequence[str]) -> SweepSettings:
    """The one SweepSettings of a command line: every flag's field, by the flag table."""
    flags = pick(KEYS)
    base = {
        **fields_under("RunSettings", flags, args),
        **fields_under("SweepSettings.base", flags, args),
        "command_line": ("pinbench", "sweep", *argv),
    }
    grid = {k: v for k, v in fields_under("SweepSettings", flags, args).items() if "." not in k}
    grid["fleet"] = fleet_from_args(args)
    return with_fields(SweepSettings(with_fields(RunSettings(args.models[0]), base)), grid)


def fleet_from_args(args: argparse.Namespace) -> FleetSettings | None:
    """The FleetSettings of a command line; None without --cluster."""
    given = fields_under("SweepSettings.fleet", pick(KEYS), args)
    cluster = given.pop("cluster")
    if cluster is None:
        if any(v != default_at(f"SweepSettings.fleet.{k}") for k, v in given.items()):
            raise UsageError("--every-host and the --slurm-* flags need --cluster")
        return None
    return with_fields(FleetSettings(cluster=cluster), given)


def main(argv: Sequence[str]) -> int:
    """``pinbench sweep``: 0 ok; 1 a point failed, or a model has no point meeting the target;
    2 usage; 130 / 143 after Ctrl-C / SIGTERM, once the points measured are written."""
    # SIGTERM raises like Ctrl-C from the start: a sweep killed while loading still ends cleanly.
    catch_signals()
    args = build_parser().parse_args(list(argv))  # before the heavy imports: --help is instant
    setup_logging(args.quiet, args.debug)
    try:
        from ..api import sweep

        grid = settings_from_args(args, argv).validate()
        result = sweep(
            grid,
            export_path=args.export_path,
            csv_path=args.csv,
            csv_dir=args.csv_dir,
            plot=args.plot,
        )
    except PinbenchError as e:
        return fail(PROG, str(e), e.exit_code, args.debug)
    except KeyboardInterrupt as e:  # while checking the grid, or writing the files
        return fail(
            PROG, "interrupted before the results were written", interrupt_code(e), args.debug
        )
    from ..report.sweep_lines import sweep_lines

    print("\n".join(sweep_lines(result)))
    return _exit_code(result)


def _exit_code(result: Sweep[Result]) -> int:
    if result.interrupted:
        print(
            f"{PROG}: error: interrupted after {len(result.points)} of {result.planned} "
            "configurations; those measured are written",
            file=sys.stderr,
        )
        return interrupt_code(result.interrupt)
    code = 0
    if result.failed:
        print(
            f"{PROG}: error: {len(result.failed)} of {len(result.points)} configurations "
            "failed (see the table)",
            file=sys.stderr,
        )
        code = 1
    if result.latency_slo_ms is not None:
        missing = [m.model for m in result.models if m.best is None]
        if missing:
            print(
                f"{PROG}: error: no configuration meets p{result.percentile:g} <= "
                f"{result.latency_slo_ms:g} ms" + _for(missing, result),
                file=sys.stderr,
            )
            code = 1
    return code


def _for(missing: list[str], result: Sweep[Result]) -> str:
    return "" if len(result.models) == 1 else f" for {', '.join(missing)}"


__all__ = ["UsageError", "build_parser", "main", "settings_from_args"]
