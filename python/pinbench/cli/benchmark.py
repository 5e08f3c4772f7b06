"""The ``pinbench`` command: deepsparse.benchmark's flags, same names and meanings, plus a few.

Its arguments become one RunSettings (``settings_from_args``), run by ``pinbench.api.run``.
Kept free of heavy imports at module level so that ``pinbench --help`` answers at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING, NoReturn

from ..base.errors import PinbenchError, gist
from ..base.process import exec_start_ns
from ..base.version import pinbench_version
from ..result.startup import StartMarks
from ..settings import (
    ARRIVALS,
    AUTO,
    COUNTER_MODES,
    INSTANCE_MODES,
    ISOLATION_MODES,
    TOKEN_MODES,
    WARMUP_MAX_S,
    GenerationSettings,
    MeasureSettings,
    RunSettings,
    SearchSettings,
)
from . import types
from .common import (
    OneLineParser,
    catch_signals,
    fail,
    interrupt_code,
    interrupted_message,
    setup_logging,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

PROG = "pinbench"
PROBE_SECONDS = SearchSettings.probe_time
EPILOG = """\
examples:
  pinbench squeezenet                      built-in model, async, one stream per core
  pinbench model.onnx -s sync -t 5 -w 1    one stream over all cores
  pinbench model.onnx -b 8 -shapes "input_ids:[8,256],attention_mask:[8,256]" -x out.json
  pinbench model.onnx -r 5 -x base.json   five repetitions: the median one, and the spread
  pinbench compare base.json new.json --fail-if-slower 5   compare runs (see compare --help)
  pinbench ab model.onnx --a "-nstreams 1" --b "-nstreams 2"   interleaved A/B (see ab --help)
  pinbench model.onnx -nstreams auto       probe stream counts, run the fastest
  pinbench model.onnx --profile prof/      then the top operators (trace files in prof/)
  pinbench model.onnx -s server --qps 200  open-loop Poisson arrivals, latency incl. queueing
  pinbench model.onnx --find-qps --latency-slo 20ms   highest rate with p99 <= 20 ms
  pinbench sweep model.onnx --batch 1,8 --streams 1,2 --latency-slo 20ms   (see sweep --help)
"""


class ListEngines(argparse.Action):
    """``--engines``: prints the engines table and exits 0, like ``--version`` (no model)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        from ..engines import engines_table

        print(engines_table())
        parser.exit(0)


def build_parser() -> OneLineParser:
    """The parser of the main command: the original's flags, pinbench's, the server's."""
    p = OneLineParser(
        prog=PROG,
        description=(
            "Benchmark an ONNX model on CPUs with pinned native stream threads. "
            "Accepts every flag of deepsparse.benchmark."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    add_original_flags(p)
    add_pinbench_flags(p)
    add_output_flags(p)
    add_server_flags(p)
    add_generation_flags(p)
    return p


def add_original_flags(parser: argparse.ArgumentParser) -> None:
    """deepsparse.benchmark's flags, with its short and long names."""
    parser.add_argument(
        "model_path",
        help="ONNX file, folder holding model.onnx, built-in name (squeezenet, resnet50, ...), "
        "zoo: stub or hf:org/repo[/file.onnx]",
    )
    parser.add_argument(
        "-b",
        "--batch_size",
        type=types.positive_int,
        default=None,
        help="batch size: sets dim 0 of every input (default: the model's; free dims 1)",
    )
    parser.add_argument(
        "-i",
        "-shapes",
        "--input_shapes",
        default="",
        help='input shapes: "[1,3,224,224],[1,128]" in input order, or by name '
        '"x:[1,3,640,640]"; one bracket applies to every input',
    )
    parser.add_argument(
        "-ncores",
        "--num_cores",
        type=types.positive_int,
        default=None,
        help="physical cores to use (default: all this process may use)",
    )
    parser.add_argument(
        "-s",
        "--scenario",
        default="async",
        help="async (default): one engine per stream on its own cores; sync: one stream on all "
        "cores; elastic: streams share one engine; server: as async, queries arriving at --qps; "
        "generate: a KV-cache decoder's requests, prefill then decode, timed call by call",
    )
    parser.add_argument(
        "-t", "--time", type=types.positive_float, default=10.0, help="seconds measured (10)"
    )
    parser.add_argument(
        "-w",
        "--warmup_time",
        type=types.warmup_time,
        default=2.0,
        help="seconds of warmup (2), or auto: until the throughput of successive 0.25 s slices "
        "settles (3 within 2%%), at most --warmup-max seconds",
    )
    parser.add_argument(
        "--warmup-max",
        dest="warmup_max",
        type=types.positive_float,
        default=WARMUP_MAX_S,
        metavar="SEC",
        help=f"-w auto's bound: a warmup not settled by then ends, and the verdict notes it "
        f"({WARMUP_MAX_S:g})",
    )
    parser.add_argument(
        "-nstreams",
        "--num_streams",
        type=types.num_streams,
        default=None,
        help="concurrent streams, or auto: probe and run the fastest (default: async and server "
        "one per core, elastic cores // 2, sync 1)",
    )
    parser.add_argument(
        "-pin",
        "--thread_pinning",
        default="core",
        choices=["none", "core", "numa"],
        help="core (default): streams on disjoint physical cores; numa: one node per stream; "
        "none: no pinning",
    )
    parser.add_argument(
        "-e",
        "--engine",
        default="onnxruntime",
        help="onnxruntime (default), openvino, deepsparse, path/to/file.py:Class, module:Class "
        "or an engine registered under the pinbench.engines entry points (see --engines)",
    )
    add_kv_cache_flags(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="only the result, no logs")
    parser.add_argument(
        "-x",
        "--export_path",
        type=types.output_file,
        default=None,
        help="write the result as JSON",
    )


def add_kv_cache_flags(parser: argparse.ArgumentParser) -> None:
    """deepsparse.benchmark's KV-cache flags (see docs/decoders.md)."""
    parser.add_argument(
        "-seq_len",
        "--sequence_length",
        type=types.positive_int,
        default=None,
        help="a KV-cache decoder's context: past + new tokens of the one forward pass timed "
        "(default: its attention_mask's fixed length, else 128); other models: the value of "
        "free sequence-length dimensions (128)",
    )
    parser.add_argument(
        "-input_ids_len",
        "--input_ids_length",
        type=types.positive_int,
        default=1,
        help="a KV-cache decoder's new tokens per forward pass, at most -seq_len (1: a decode "
        "step; -seq_len: a prefill with an empty cache)",
    )
    parser.add_argument(
        "--no-internal-kv-cache",
        "--no_internal_kv_cache",
        action="store_true",
        help="DeepSparse: keep a decoder's cache outside the engine (inputs and outputs), not "
        "in its internal cache; other engines always do",
    )
    parser.add_argument(
        "--num-kv-cache-tokens",
        "--num_kv_cache_tokens",
        type=types.positive_int,
        default=None,
        help="DeepSparse's internal KV cache: tokens held in it (NM_BENCHMARK_KV_TOKENS; 1)",
    )
    parser.add_argument("--kv-cache-prev-num-tokens", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--kv-cache-num-frozen-tokens", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--disable-kv-cache-overrides",
        "--disable_kv_cache_overrides",
        action="store_true",
        help="leave a KV-cache decoder's shapes to the model and -shapes (no -seq_len / "
        "-input_ids_len shapes)",
    )


def add_pinbench_flags(parser: argparse.ArgumentParser) -> None:
    """The flags pinbench adds."""
    extra = parser.add_argument_group("pinbench options")
    extra.add_argument("--seed", type=int, default=0, help="seed of the generated inputs (0)")
    extra.add_argument(
        "-r",
        "--repeat",
        type=types.positive_int,
        default=1,
        metavar="N",
        help="repetitions, each a fresh warmup, engine instances and window; the figures are "
        "the median repetition's, with the spread across them (1)",
    )
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
        "--instances",
        choices=INSTANCE_MODES,
        default="auto",
        help="engine instances: auto (default) = one per NUMA node for one-core streams where "
        "the engine runs them inline (ONNX Runtime), else one per stream; node; stream",
    )
    extra.add_argument(
        "--isolation",
        choices=ISOLATION_MODES,
        default="thread",
        help="thread (default): streams are pinned threads of this process, sharing its GIL; "
        "process: each stream a pinned worker process of its own (no shared GIL; a crashing "
        "stream is reported, not fatal)",
    )
    extra.add_argument(
        "--roofline",
        action="store_true",
        help="measure the memory bandwidth on the run's CPUs before the warmup; with -s "
        "generate, the decode steps' bytes a token and their share of it",
    )
    extra.add_argument(
        "--bandwidth-mib",
        type=types.positive_int,
        default=None,
        metavar="MIB",
        help="--roofline: each bandwidth array's MiB over all threads (4x the last-level "
        "cache, at least 64)",
    )
    add_counter_flags(extra)
    extra.add_argument(
        "--iteration-timeout",
        type=types.positive_float,
        default=None,
        metavar="SEC",
        help="end the run with an error when one inference takes longer than SEC",
    )
    extra.add_argument(
        "--max-samples",
        type=types.positive_int,
        default=None,
        metavar="N",
        help="store at most N samples per stream (16 bytes each; a uniform sample past N, "
        "with count, mean, std, min, max kept exact)",
    )
    extra.add_argument("--debug", action="store_true", help="tracebacks on errors")
    extra.add_argument("--version", action="version", version=f"pinbench {pinbench_version()}")
    extra.add_argument(
        "--engines",
        action=ListEngines,
        help="list every engine: name, version, and whether it can run here; then exit",
    )


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    """The files a run writes besides -x: raw samples, a plot, a profile."""
    extra = parser.add_argument_group("outputs")
    extra.add_argument(
        "--export-samples",
        type=types.output_file,
        default=None,
        metavar="FILE",
        help="write every iteration's stream, start and end (ns) to FILE.npz or FILE.csv",
    )
    extra.add_argument(
        "--plot",
        type=types.output_file,
        default=None,
        metavar="FILE.png",
        help="draw latency histogram, latency over time and throughput per second (needs "
        "pinbench[plot])",
    )
    extra.add_argument(
        "--profile",
        type=types.output_folder,
        default=None,
        metavar="DIR",
        help="after the measured window, a profiled pass on fresh instances: the top operators "
        "(ONNX Runtime's profiler, its trace files written into DIR; OpenVINO's counters)",
    )
    extra.add_argument(
        "--profile-iterations",
        type=types.positive_int,
        default=100,
        metavar="N",
        help="iterations per stream of the profiled pass (100)",
    )


def add_generation_flags(parser: argparse.ArgumentParser) -> None:
    """-s generate's request shape; defaults from ``settings.GenerationSettings``."""
    d = GenerationSettings()
    group = parser.add_argument_group("token generation (-s generate)")
    group.add_argument(
        "--prompt-tokens",
        type=types.non_negative_int,
        default=d.prompt_tokens,
        help=f"tokens of each request's prefill ({d.prompt_tokens}; 0: decode only)",
    )
    group.add_argument(
        "--new-tokens",
        type=types.non_negative_int,
        default=d.new_tokens,
        help=f"tokens generated per request ({d.new_tokens}; 0: the prefill alone)",
    )
    group.add_argument(
        "--depth",
        type=types.non_negative_int,
        default=d.depth,
        help=f"tokens already in the cache when a request starts ({d.depth})",
    )
    group.add_argument(
        "--tokens",
        choices=TOKEN_MODES,
        default=d.tokens,
        help="the next token: greedy (the logits' argmax, default) or fixed (the same id)",
    )


def add_server_flags(parser: argparse.ArgumentParser) -> None:
    """The server scenario's and the search's flags, in a group of their own."""
    group = parser.add_argument_group("server scenario and search")
    group.add_argument(
        "--qps",
        type=float,
        default=None,
        metavar="Q",
        help="server scenario (-s server): arrival rate, queries (batches) per second",
    )
    group.add_argument(
        "--arrivals",
        choices=ARRIVALS,
        default="poisson",
        help="server scenario: arrival times, poisson (default, seeded by --seed) or uniform",
    )
    group.add_argument(
        "--find-qps",
        action="store_true",
        help="search the server scenario for the highest rate meeting --latency-slo",
    )
    group.add_argument(
        "--latency-slo",
        type=types.latency_ms,
        default=None,
        metavar="TIME",
        help="latency target of --find-qps, e.g. 20ms",
    )
    group.add_argument(
        "--ttft-slo",
        type=types.latency_ms,
        default=None,
        metavar="TIME",
        help="-s generate --find-qps: time-to-first-token target (from arrival), e.g. 2s",
    )
    group.add_argument(
        "--tpot-slo",
        type=types.latency_ms,
        default=None,
        metavar="TIME",
        help="-s generate --find-qps: time-per-output-token target, e.g. 100ms",
    )
    group.add_argument(
        "--percentile",
        type=types.percentile,
        default=99.0,
        metavar="P",
        help="the latency percentile that must meet --latency-slo (99)",
    )
    group.add_argument(
        "--probe-time",
        type=types.positive_float,
        default=PROBE_SECONDS,
        metavar="SEC",
        help=f"seconds of each probe of -nstreams auto and --find-qps ({PROBE_SECONDS:g})",
    )


def add_counter_flags(extra: argparse._ArgumentGroup) -> None:
    """--counters and --energy-baseline (docs/counters.md)."""
    extra.add_argument(
        "--counters",
        choices=COUNTER_MODES,
        default=MeasureSettings().counters,
        help="what each stream counts over its window: auto (default) = software events, and "
        "hardware events (cycles, instructions, cache and branch misses) where the PMU allows; "
        "all = the same, a warning when one cannot be counted; software; off (no counters, "
        "no energy)",
    )
    extra.add_argument(
        "--energy-baseline",
        type=types.non_negative_float,
        default=MeasureSettings().energy_baseline,
        metavar="SEC",
        help="read the idle power for SEC seconds before the run and give the energy above it "
        "too (RAPL; 0 = no baseline)",
    )


def settings_from_args(args: argparse.Namespace, argv: Sequence[str]) -> RunSettings:
    """The one RunSettings of a command line."""
    return RunSettings.from_kwargs(
        args.model_path,
        batch_size=args.batch_size,
        input_shapes=args.input_shapes,
        sequence_length=args.sequence_length,
        seed=args.seed,
        data=args.data,
        time=args.time,
        warmup_time=args.warmup_time,
        warmup_max=args.warmup_max,
        iteration_timeout=args.iteration_timeout,
        max_samples=args.max_samples,
        counters=args.counters,
        energy_baseline=args.energy_baseline,
        repeat=args.repeat,
        roofline=args.roofline,
        bandwidth_mib=args.bandwidth_mib,
        scenario=args.scenario,
        num_streams=args.num_streams,
        num_cores=args.num_cores,
        thread_pinning=args.thread_pinning,
        smt=args.smt,
        instances=args.instances,
        isolation=args.isolation,
        engine=args.engine,
        providers=tuple(p.strip() for p in args.providers.split(",") if p.strip()),
        graph_optimization=args.graph_optimization,
        spinning={"auto": None, "on": True, "off": False}[args.spinning],
        precision=args.precision,
        qps=args.qps,
        arrivals=args.arrivals,
        probe_time=args.probe_time,
        find_qps=args.find_qps,
        latency_slo_ms=args.latency_slo,
        ttft_slo_ms=args.ttft_slo,
        tpot_slo_ms=args.tpot_slo,
        percentile=args.percentile,
        export_path=args.export_path,
        export_samples=args.export_samples,
        plot=args.plot,
        profile=args.profile,
        profile_iterations=args.profile_iterations,
        input_ids_length=args.input_ids_length,
        internal_kv_cache=False if args.no_internal_kv_cache else None,
        disable_kv_cache_overrides=args.disable_kv_cache_overrides,
        num_kv_cache_tokens=args.num_kv_cache_tokens,
        kv_cache_prev_num_tokens=args.kv_cache_prev_num_tokens,
        kv_cache_num_frozen_tokens=args.kv_cache_num_frozen_tokens,
        prompt_tokens=args.prompt_tokens,
        new_tokens=args.new_tokens,
        depth=args.depth,
        tokens=args.tokens,
        command_line=(PROG, *argv),
    )


def main(argv: Sequence[str]) -> int:
    """Runs the main command; returns the exit code (0 ok, 1 run-time failure, 2 usage,
    130 Ctrl-C, 143 SIGTERM)."""
    entry, began = time.monotonic_ns(), exec_start_ns()
    if began is None:  # a shell ran other commands in this process before exec'ing pinbench
        start = StartMarks("command start", entry, unknown=("interpreter",))
    else:
        start = StartMarks("process start", began)
        start.mark("interpreter", entry)
    args = build_parser().parse_args(list(argv))  # before the heavy imports: --help is instant
    from ..api import run
    from ..report.outputs import write_plot
    from ..report.progress import Progress
    from ..report.run_lines import print_result

    catch_signals()
    setup_logging(args.quiet, args.debug)
    progress = Progress()
    try:
        settings = settings_from_args(args, argv)
        auto = settings.measure.warmup_time == AUTO
        on_start = None if args.quiet else lambda w, d: progress.start(w, d, auto)
        result = run(settings, on_start=on_start, plot=False, start=start)
    except PinbenchError as e:
        return fail(PROG, str(e), e.exit_code, args.debug, e.detail)
    except KeyboardInterrupt as e:
        return fail(PROG, interrupted_message(e), interrupt_code(e), args.debug)
    except Exception as e:
        what = f"{type(e).__name__}: {gist(e, 100)}"
        return fail(PROG, f"internal error: {what} (--debug shows where)", 1, args.debug, str(e))
    finally:
        progress.stop()
    try:
        print_result(result)
        sys.stdout.flush()
    except BrokenPipeError:
        # `pinbench ... | head`: the reader left. Point stdout at /dev/null so the interpreter's
        # final flush does not fail again; the JSON, if asked for, is already written.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if args.plot:
        try:
            write_plot(result, args.plot)
        except PinbenchError as e:
            return fail(PROG, str(e), e.exit_code, args.debug, e.detail)
    if result.interrupted:
        return interrupt_code(result.measurement.interrupt)
    if result.profile is not None and result.profile.interrupt is not None:
        return interrupt_code(result.profile.interrupt)
    search = result.config.find_qps
    if search is not None and not search.confirmed:
        return fail(
            PROG, f"--find-qps: no rate met {search.target} in every confirmation run", 1, False
        )
    return 0
