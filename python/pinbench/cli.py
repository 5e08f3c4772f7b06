"""The `pinbench` command: deepsparse.benchmark's flags, same names and meanings, plus a few.

Kept free of heavy imports at module level so that `pinbench --help` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import traceback
from typing import TYPE_CHECKING, NoReturn

from .errors import PinbenchError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .results import Result

log = logging.getLogger("pinbench")

EPILOG = """\
examples:
  pinbench squeezenet                      built-in model, async, one stream per core
  pinbench model.onnx -s sync -t 5 -w 1    one stream over all cores
  pinbench model.onnx -b 8 -shapes "input_ids:[8,256],attention_mask:[8,256]" -x out.json
  pinbench compare base.json new.json --fail-if-slower 5   compare runs (see compare --help)
  pinbench model.onnx -nstreams auto       probe stream counts, run the fastest
  pinbench model.onnx -s server --qps 200  open-loop Poisson arrivals, latency incl. queueing
  pinbench model.onnx --find-qps --latency-slo 20ms   highest rate with p99 <= 20 ms
  pinbench sweep model.onnx --batch 1,8 --streams 1,2 --latency-slo 20ms   (see sweep --help)
"""


class OneLineParser(argparse.ArgumentParser):
    """Usage errors print one line and exit 2 (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class ListEngines(argparse.Action):
    """``--engines``: prints the engines table and exits 0, like ``--version`` (no model)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        from .engines import engines_table

        print(engines_table())
        parser.exit(0)


def _number(
    kind: Callable[[str], float | int], ok: Callable[[float], bool], rule: str
) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {rule}") from None
        if not (math.isfinite(value) and ok(value)):
            raise argparse.ArgumentTypeError(f"{text!r} is not {rule}")
        return value

    return parse


positive_int = _number(int, lambda v: v >= 1, "an integer >= 1")
positive_float = _number(float, lambda v: v > 0, "a number of seconds > 0")
non_negative_float = _number(float, lambda v: v >= 0, "a number of seconds >= 0")


def build_parser() -> OneLineParser:
    from .tuning import add_arguments as add_tuning_arguments
    from .tuning import parse_num_streams

    p = OneLineParser(
        prog="pinbench",
        description=(
            "Benchmark an ONNX model on CPUs with pinned native stream threads. "
            "Accepts every flag of deepsparse.benchmark."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument(
        "model_path",
        help="ONNX file, folder holding model.onnx, built-in name (squeezenet, resnet50, ...), "
        "zoo: stub or hf:org/repo[/file.onnx]",
    )
    p.add_argument(
        "-b",
        "--batch_size",
        type=positive_int,
        default=None,
        help="batch size: sets dim 0 of every input (default: the model's; free dims 1)",
    )
    p.add_argument(
        "-i",
        "-shapes",
        "--input_shapes",
        default="",
        help='input shapes: "[1,3,224,224],[1,128]" in input order, or by name '
        '"x:[1,3,640,640]"; one bracket applies to every input',
    )
    p.add_argument(
        "-ncores",
        "--num_cores",
        type=positive_int,
        default=None,
        help="physical cores to use (default: all this process may use)",
    )
    p.add_argument(
        "-s",
        "--scenario",
        default="async",
        help="async (default): one engine per stream on its own cores; sync: one stream on all "
        "cores; elastic: streams share one engine; server: as async, queries arriving at --qps",
    )
    p.add_argument("-t", "--time", type=positive_float, default=10.0, help="seconds measured (10)")
    p.add_argument(
        "-w", "--warmup_time", type=non_negative_float, default=2.0, help="seconds of warmup (2)"
    )
    p.add_argument(
        "-nstreams",
        "--num_streams",
        type=parse_num_streams,
        default=None,
        help="concurrent streams, or auto: probe and run the fastest (default: async and server "
        "one per core, elastic cores // 2, sync 1)",
    )
    p.add_argument(
        "-seq_len",
        "--sequence_length",
        type=positive_int,
        default=None,
        help="default for free sequence-length dimensions (128)",
    )
    p.add_argument(
        "-input_ids_len",
        "--input_ids_length",
        type=positive_int,
        default=1,
        help="KV-cache models only (accepted for compatibility)",
    )
    p.add_argument(
        "-pin",
        "--thread_pinning",
        default="core",
        choices=["none", "core", "numa"],
        help="core (default): streams on disjoint physical cores; numa: one node per stream; "
        "none: no pinning",
    )
    p.add_argument(
        "-e",
        "--engine",
        default="onnxruntime",
        help="onnxruntime (default), openvino, deepsparse, path/to/file.py:Class, module:Class "
        "or an engine registered under the pinbench.engines entry points (see --engines)",
    )
    p.add_argument(
        "--no-internal-kv-cache",
        "--no_internal_kv_cache",
        action="store_true",
        help="DeepSparse KV-cache option (accepted for compatibility)",
    )
    p.add_argument("--kv-cache-prev-num-tokens", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--kv-cache-num-frozen-tokens", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument(
        "--disable-kv-cache-overrides",
        "--disable_kv_cache_overrides",
        action="store_true",
        help="KV-cache option (accepted for compatibility)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="only the result, no logs")
    p.add_argument("-x", "--export_path", default=None, help="write the result as JSON")
    extra = p.add_argument_group("pinbench options")
    extra.add_argument("--seed", type=int, default=0, help="seed of the generated inputs (0)")
    extra.add_argument("--data", default=None, help="inputs from a .npz (by name) or .npy file")
    extra.add_argument(
        "--providers",
        default="",
        help="ONNX Runtime execution providers, comma-separated (default CPUExecutionProvider)",
    )
    extra.add_argument(
        "--graph-optimization",
        default="all",
        choices=["disable", "basic", "extended", "all"],
        help="ONNX Runtime graph optimization level (all)",
    )
    extra.add_argument(
        "--spinning",
        choices=["auto", "on", "off"],
        default="auto",
        help="engine threads spin between ops: auto = on for sync, off when streams share cores",
    )
    extra.add_argument(
        "--precision",
        choices=["f32", "bf16", "f16"],
        default=None,
        help="OpenVINO inference precision (f32, as ONNX Runtime computes)",
    )
    extra.add_argument(
        "--smt", action="store_true", help="give each stream every hardware thread of its cores"
    )
    extra.add_argument(
        "--iteration-timeout",
        type=positive_float,
        default=None,
        metavar="SEC",
        help="end the run with an error when one inference takes longer than SEC",
    )
    extra.add_argument(
        "--max-samples",
        type=positive_int,
        default=None,
        metavar="N",
        help="store at most N samples per stream (16 bytes each; a uniform sample past N, "
        "with count, mean, std, min, max kept exact)",
    )
    extra.add_argument(
        "--export-samples",
        default=None,
        metavar="FILE",
        help="write every iteration's stream, start and end (ns) to FILE.npz or FILE.csv",
    )
    extra.add_argument(
        "--plot",
        default=None,
        metavar="FILE.png",
        help="draw latency histogram, latency over time and throughput per second (needs "
        "pinbench[plot])",
    )
    extra.add_argument("--debug", action="store_true", help="tracebacks on errors")
    extra.add_argument("--version", action="version", version=f"pinbench {_version()}")
    extra.add_argument(
        "--engines",
        action=ListEngines,
        help="list every engine: name, version, and whether it can run here; then exit",
    )
    add_tuning_arguments(p)
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pinbench")
    except PackageNotFoundError:
        return "0+unknown"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every path that handles one handles both: the runner
    stops the streams and the partial result is still printed and exported."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI; returns the exit code (0 ok, 1 run-time failure, 2 usage, 130 Ctrl-C,
    143 SIGTERM)."""
    given = sys.argv[1:] if argv is None else list(argv)
    if given[:1] == ["compare"]:
        from .compare import main as compare

        return compare(given[1:])
    if given[:1] == ["sweep"]:
        from .sweep import main as sweep

        return sweep(given[1:])
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_terminated)
    from .report import Progress, print_result, setup_logging

    setup_logging(args.quiet, args.debug)
    if args.no_internal_kv_cache or args.disable_kv_cache_overrides or args.input_ids_length != 1:
        log.warning("KV-cache options apply to DeepSparse's internal KV cache only; ignored")
    progress = Progress()
    try:
        if args.plot:
            from .plot import check_plot_path

            check_plot_path(args.plot)  # before the run, as -x is
        from .tuning import runner

        run = runner(args)  # benchmark(), or the --find-qps search
        result = run(
            args.model_path,
            batch_size=args.batch_size,
            input_shapes=args.input_shapes,
            num_cores=args.num_cores,
            scenario=args.scenario,
            time=args.time,
            warmup_time=args.warmup_time,
            num_streams=args.num_streams,
            thread_pinning=args.thread_pinning,
            engine=args.engine,
            export_path=args.export_path,
            export_samples=args.export_samples,
            seed=args.seed,
            data=args.data,
            sequence_length=args.sequence_length,
            providers=[p.strip() for p in args.providers.split(",") if p.strip()],
            graph_optimization=args.graph_optimization,
            spinning={"auto": None, "on": True, "off": False}[args.spinning],
            precision=args.precision,
            smt=args.smt,
            max_samples=args.max_samples,
            iteration_timeout=args.iteration_timeout,
            command_line=["pinbench", *(sys.argv[1:] if argv is None else argv)],
            on_start=None if args.quiet else progress.start,
        )
    except PinbenchError as e:
        return _fail(str(e), e.exit_code, args.debug)
    except KeyboardInterrupt as e:
        code = 143 if isinstance(e, Terminated) else 130
        return _fail("interrupted before the measurement started", code, args.debug)
    except Exception as e:
        return _fail(
            f"internal error: {type(e).__name__}: {e} (--debug shows where)", 1, args.debug
        )
    finally:
        progress.stop()
    try:
        print_result(result)
        sys.stdout.flush()
    except BrokenPipeError:
        # `pinbench ... | head`: the reader left. Point stdout at /dev/null so the interpreter's
        # final flush does not fail again; the JSON, if asked for, is already written.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if args.plot and _plot(result, args.plot, args.debug):
        return 1
    if not result.interrupted:
        return 0
    return 143 if result.measurement.interrupt == "Terminated" else 130


def _plot(result: Result, path: str, debug: bool) -> int:
    """Draws the plot; 0 when written, 1 (with one line on stderr) when it failed."""
    try:
        from .plot import plot_result

        plot_result(result, path)
    except Exception as e:
        return _fail(f"--plot {path}: {type(e).__name__}: {e}", 1, debug)
    log.info("plot written to %s", path)
    return 0


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    one_line = " ".join(message.split())  # engines' messages may span lines
    print(f"pinbench: error: {one_line}", file=sys.stderr)
    return code


def run() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())
