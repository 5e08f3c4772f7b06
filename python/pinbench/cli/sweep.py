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
from ..settings import (
    COUNTER_MODES,
    INSTANCE_MODES,
    FleetSettings,
    MeasureSettings,
    RunSettings,
    SweepSettings,
)
from . import types
from .common import OneLineParser, catch_signals, fail, interrupt_code, setup_logging

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..result.record import Result
    from ..result.search import Sweep

PROG = "pinbench sweep"
SLURM_FOLDER = FleetSettings.slurm_folder  # the one default, from the settings
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
    add_grid_flags(p)
    add_run_flags(p)
    add_fleet_flags(p)
    return p


def add_fleet_flags(p: argparse.ArgumentParser) -> None:
    """Where the points run when not here (``pinbench.search.fleet``; docs/fleet.md)."""
    g = p.add_argument_group("fleet (docs/fleet.md)")
    g.add_argument(
        "--cluster",
        default=None,
        metavar="WHERE",
        help="run the points on a cluster, one point per host at a time: ray (the cluster "
        "running here, ray start --head), ray://HOST:PORT or HOST:PORT (join one), slurm "
        "(submitit, exclusive nodes) or slurm:local (submitit's local executor); needs "
        "pip install 'pinbench[ray]' or 'pinbench[slurm]'",
    )
    mode = g.add_mutually_exclusive_group()
    mode.add_argument(
        "--spread",
        dest="fleet_mode",
        action="store_const",
        const="spread",
        default="spread",
        help="divide the grid among identical hosts (the default)",
    )
    mode.add_argument(
        "--every-host",
        dest="fleet_mode",
        action="store_const",
        const="every-host",
        help="run the whole grid on each kind of host, to compare them",
    )
    g.add_argument(
        "--slurm-partitions",
        type=types.name_list,
        default=None,
        metavar="P,...",
        help="--cluster slurm: the partitions, each a kind of host (default: the default one)",
    )
    g.add_argument(
        "--slurm-hosts",
        type=int,
        default=1,
        metavar="N",
        help="--cluster slurm: exclusive nodes held at once per partition (1)",
    )
    g.add_argument(
        "--slurm-timeout",
        type=int,
        default=60,
        metavar="MIN",
        help="--cluster slurm: each job's time limit in minutes (60)",
    )
    g.add_argument(
        "--slurm-folder",
        type=types.output_folder,
        default=SLURM_FOLDER,
        metavar="DIR",
        help="--cluster slurm: the folder submitit writes its job files and logs into "
        "(pinbench-slurm)",
    )


def fleet_from_args(args: argparse.Namespace) -> FleetSettings | None:
    """The FleetSettings of a command line; None without --cluster."""
    slurm_flags = (
        args.slurm_partitions is not None,
        args.slurm_hosts != 1,
        args.slurm_timeout != 60,
        args.slurm_folder != SLURM_FOLDER,
    )
    if args.cluster is None:
        if args.fleet_mode != "spread" or any(slurm_flags):
            raise UsageError("--every-host and the --slurm-* flags need --cluster")
        return None
    return FleetSettings(
        cluster=args.cluster,
        mode=args.fleet_mode,
        slurm_folder=args.slurm_folder,
        slurm_partitions=tuple(args.slurm_partitions or ()),
        slurm_hosts=args.slurm_hosts,
        slurm_timeout_min=args.slurm_timeout,
    )


def add_grid_flags(p: argparse.ArgumentParser) -> None:
    """The axes of the grid."""
    p.add_argument(
        "models",
        nargs="+",
        metavar="MODEL",
        help="as for pinbench: ONNX file, "
        "folder (without model.onnx: every .onnx file under it), built-in name, zoo:, "
        "hf:",
    )
    p.add_argument(
        "-e",
        "--engines",
        "--engine",
        dest="engines",
        type=types.name_list,
        default=None,
        help="engines, e.g. onnxruntime,openvino (default onnxruntime)",
    )
    p.add_argument(
        "--cores",
        "-ncores",
        "--num_cores",
        dest="cores",
        type=types.cores_list,
        default=None,
        help='physical cores per point, e.g. "1, 4, max" (max: every '
        "core this process may use; the default)",
    )
    p.add_argument(
        "-s",
        "--scenario",
        "--scenarios",
        dest="scenarios",
        type=types.name_list,
        default=None,
        help="async (default), elastic, sync, generate, or several: sync,async",
    )
    p.add_argument(
        "--batch",
        "--batch-sizes",
        dest="batch",
        type=types.int_list,
        default=[1],
        help="batch sizes, e.g. 1,8,32 (default 1)",
    )
    p.add_argument(
        "--streams",
        type=types.int_list,
        default=None,
        help="numbers of streams, "
        "e.g. 1,2,4 (default: the divisors of the cores and the powers of two up to "
        "them; sync runs 1)",
    )
    p.add_argument(
        "--prompt-tokens",
        type=count_list,
        default=None,
        metavar="P,...",
        help="-s generate: the requests' prompt tokens, e.g. 16,64 (as pinbench: 128)",
    )
    p.add_argument(
        "--new-tokens",
        type=count_list,
        default=None,
        metavar="N,...",
        help="-s generate: the requests' new tokens, e.g. 8,32 (as pinbench: 32)",
    )
    p.add_argument(
        "-seq_len",
        "--sequence_length",
        "--sequence-lengths",
        dest="sequence_lengths",
        type=types.int_list,
        default=None,
        metavar="S,...",
        help="KV-cache decoders in the single-call scenarios: the forward pass's context, "
        "e.g. 128,512 (as pinbench -seq_len)",
    )


def count_list(text: str) -> list[int]:
    """``0,16,64``: a comma-separated list of integers >= 0 (a request may have no prompt)."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers >= 0")
    return values


def add_run_flags(p: argparse.ArgumentParser) -> None:
    """What every point shares, the target, and the outputs."""
    p.add_argument(
        "--latency-slo",
        type=types.latency_ms,
        default=None,
        metavar="TIME",
        help="e.g. 20ms: each model's best point must meet it",
    )
    p.add_argument(
        "--percentile",
        type=types.percentile,
        default=99.0,
        metavar="P",
        help="the latency percentile of the table, the frontier and the target (99)",
    )
    p.add_argument(
        "-t", "--time", type=types.positive_float, default=5.0, help="seconds per configuration (5)"
    )
    p.add_argument(
        "-w",
        "--warmup_time",
        type=types.warmup_time,
        default=1.0,
        help="seconds of warmup (1), or auto: until the throughput settles (see pinbench -h)",
    )
    p.add_argument("-pin", "--thread_pinning", default="core", choices=["none", "core", "numa"])
    p.add_argument(
        "--instances", choices=INSTANCE_MODES, default="auto", help="as for pinbench (auto)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the generated inputs (0)")
    p.add_argument(
        "--counters",
        choices=COUNTER_MODES,
        default=MeasureSettings().counters,
        help="what each point's streams count (as for pinbench; auto)",
    )
    p.add_argument(
        "-x", "--export_path", type=types.output_file, default=None, help="write the sweep as JSON"
    )
    p.add_argument(
        "--csv",
        type=types.output_file,
        default=None,
        metavar="FILE.csv",
        help="write every point as one "
        "CSV (deepsparse.benchmark_sweep's columns; the Model column tells models apart)",
    )
    p.add_argument(
        "--csv-dir",
        type=types.output_folder,
        default=None,
        metavar="DIR",
        help="write one CSV per model into DIR, as deepsparse.benchmark_sweep did",
    )
    p.add_argument(
        "--plot", type=types.output_file, default=None, metavar="FILE.png", help="draw the sweep"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="only the table, no logs")
    p.add_argument("--debug", action="store_true", help="tracebacks on errors")


def settings_from_args(args: argparse.Namespace, argv: Sequence[str]) -> SweepSettings:
    """The one SweepSettings of a command line."""
    base = RunSettings.from_kwargs(
        args.models[0],
        time=args.time,
        warmup_time=args.warmup_time,
        thread_pinning=args.thread_pinning,
        instances=args.instances,
        seed=args.seed,
        counters=args.counters,
        command_line=("pinbench", "sweep", *argv),
    )
    return SweepSettings(
        base,
        batch_sizes=tuple(args.batch),
        streams=None if args.streams is None else tuple(args.streams),
        latency_slo_ms=args.latency_slo,
        percentile=args.percentile,
        models=tuple(args.models),
        engines=tuple(args.engines or ()),
        cores=tuple(args.cores or ()),
        scenarios=tuple(args.scenarios or ()),
        prompt_tokens=tuple(args.prompt_tokens or ()),
        new_tokens=tuple(args.new_tokens or ()),
        sequence_lengths=tuple(args.sequence_lengths or ()),
        fleet=fleet_from_args(args),
    )


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
