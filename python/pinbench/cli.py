"""The `pinbench` command: deepsparse.benchmark's flags, same names and meanings, plus a few.

Kept free of heavy imports at module level so that `pinbench --help` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import traceback
from typing import TYPE_CHECKING, NoReturn

from .errors import PinbenchError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

log = logging.getLogger("pinbench")

EPILOG = """\
examples:
  pinbench squeezenet                      built-in model, async, one stream per core
  pinbench model.onnx -s sync -t 5 -w 1    one stream over all cores
  pinbench model.onnx -b 8 -shapes "input_ids:[8,256],attention_mask:[8,256]" -x out.json
"""


class OneLineParser(argparse.ArgumentParser):
    """Usage errors print one line and exit 2 (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
        help="batch size: dim 0 of every input (default 1; with -shapes or --data, theirs)",
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
        "cores; elastic: streams share one engine",
    )
    p.add_argument("-t", "--time", type=positive_float, default=10.0, help="seconds measured (10)")
    p.add_argument(
        "-w", "--warmup_time", type=non_negative_float, default=2.0, help="seconds of warmup (2)"
    )
    p.add_argument(
        "-nstreams",
        "--num_streams",
        type=positive_int,
        default=None,
        help="concurrent streams (default: async one per core, elastic cores // 2, sync 1)",
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
        help="onnxruntime (default), deepsparse or openvino",
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
    extra.add_argument("--debug", action="store_true", help="tracebacks on errors")
    extra.add_argument("--version", action="version", version=f"pinbench {_version()}")
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
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_terminated)
    from .report import Progress, print_result, setup_logging

    setup_logging(args.quiet, args.debug)
    if args.no_internal_kv_cache or args.disable_kv_cache_overrides or args.input_ids_length != 1:
        log.warning("KV-cache options apply to DeepSparse's internal KV cache only; ignored")
    progress = Progress()
    try:
        from .benchmark import benchmark

        result = benchmark(
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
            seed=args.seed,
            data=args.data,
            sequence_length=args.sequence_length,
            providers=[p.strip() for p in args.providers.split(",") if p.strip()],
            graph_optimization=args.graph_optimization,
            spinning={"auto": None, "on": True, "off": False}[args.spinning],
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
    print_result(result)
    if not result.interrupted:
        return 0
    return 143 if result.measurement.interrupt == "Terminated" else 130


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    print(f"pinbench: error: {message}", file=sys.stderr)
    return code


def run() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())
