"""The ``pinbench`` command: deepsparse.benchmark's flags, same names and meanings, plus a few.

Its arguments become one RunSettings (``settings_from_args``), run by ``pinbench.api.run``.
Kept free of heavy imports at module level so that ``pinbench --help`` answers at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING

from ..base.errors import PinbenchError, gist
from ..base.process import exec_start_ns
from ..result.startup import StartMarks
from ..settings import AUTO, RunSettings, with_fields
from .common import (
    OneLineParser,
    catch_signals,
    fail,
    interrupt_code,
    interrupted_message,
    setup_logging,
)
from .flag_table import pick
from .flags import add_flags, fields_under

if TYPE_CHECKING:
    from collections.abc import Sequence

PROG = "pinbench"
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


# The command's flags by their entries in cli.flag_table, in --help's order: (group, keys).
SECTIONS: tuple[tuple[str | None, tuple[str, ...]], ...] = (
    (  # deepsparse.benchmark's flags, with its short and long names
        None,
        (
            "RunSettings.model",
            "RunSettings.inputs.batch_size",
            "RunSettings.inputs.input_shapes",
            "RunSettings.layout.num_cores",
            "RunSettings.layout.scenario",
            "RunSettings.measure.time",
            "RunSettings.measure.warmup_time",
            "RunSettings.measure.warmup_max",
            "RunSettings.layout.num_streams",
            "RunSettings.layout.thread_pinning",
            "RunSettings.engine.engine",
            "RunSettings.inputs.sequence_length",
            "RunSettings.kv_cache.input_ids_length",
            "RunSettings.kv_cache.internal_kv_cache",
            "RunSettings.kv_cache.num_kv_cache_tokens",
            "RunSettings.kv_cache.kv_cache_prev_num_tokens",
            "RunSettings.kv_cache.kv_cache_num_frozen_tokens",
            "RunSettings.kv_cache.disable_kv_cache_overrides",
            "pinbench.quiet",
            "RunSettings.outputs.export_path",
        ),
    ),
    (
        "pinbench options",
        (
            "RunSettings.inputs.seed",
            "RunSettings.measure.repeat",
            "RunSettings.inputs.data",
            "RunSettings.engine.providers",
            "RunSettings.engine.graph_optimization",
            "RunSettings.engine.spinning",
            "RunSettings.engine.precision",
            "RunSettings.layout.smt",
            "RunSettings.layout.instances",
            "RunSettings.layout.isolation",
            "RunSettings.measure.roofline",
            "RunSettings.measure.bandwidth_mib",
            "RunSettings.measure.counters",
            "RunSettings.measure.energy_baseline",
            "RunSettings.measure.iteration_timeout",
            "RunSettings.measure.max_samples",
            "pinbench.debug",
            "pinbench.version",
            "pinbench.engines",
        ),
    ),
    (
        "outputs",
        (
            "RunSettings.outputs.export_samples",
            "RunSettings.outputs.plot",
            "RunSettings.outputs.profile",
            "RunSettings.outputs.profile_iterations",
        ),
    ),
    (
        "server scenario and search",
        (
            "RunSettings.server.qps",
            "RunSettings.server.arrivals",
            "RunSettings.search.find_qps",
            "RunSettings.search.latency_slo_ms",
            "RunSettings.search.ttft_slo_ms",
            "RunSettings.search.tpot_slo_ms",
            "RunSettings.search.percentile",
            "RunSettings.search.probe_time",
        ),
    ),
    (
        "token generation (-s generate)",
        (
            "RunSettings.generation.prompt_tokens",
            "RunSettings.generation.new_tokens",
            "RunSettings.generation.depth",
            "RunSettings.generation.tokens",
        ),
    ),
)


def build_parser() -> OneLineParser:
    """The parser of the main command: the original's flags, pinbench's, the server's, from
    the flag table."""
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
    for title, keys in SECTIONS:
        add_flags(p, pick(keys), title)
    return p


def settings_from_args(args: argparse.Namespace, argv: Sequence[str]) -> RunSettings:
    """The one RunSettings of a command line: every flag's field, by the flag table."""
    flags = pick(key for _, keys in SECTIONS for key in keys)
    values = fields_under("RunSettings", flags, args)
    return with_fields(RunSettings(values.pop("model")), {**values, "command_line": (PROG, *argv)})


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
