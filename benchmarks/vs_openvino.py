#!/usr/bin/env python3
"""pinbench -e openvino against OpenVINO's own benchmark_app, on the same model, in one run.

Both run OpenVINO's CPU plugin with the same streams, threads and inference precision:

- ``benchmark_app async``: ``benchmark_app -api async -hint none -nstreams S -nireq S
  -nthreads C -infer_precision P``: one compiled model with S streams, S requests in flight;
- ``pinbench elastic``: ``pinbench -e openvino -s elastic -nstreams S -ncores C``: the same
  shape (one compiled model, S OpenVINO streams, one request per pinbench stream);
- ``pinbench async``: ``pinbench -e openvino -s async -nstreams S -ncores C``: pinbench's own
  (S compiled models of C/S threads, one per pinned stream);
- ``benchmark_app sync`` and ``pinbench sync``: one stream, one request, C threads.

Every contender runs in a subprocess of its own, the order rotating round by round so that all
share the machine's noise; benchmark_app's figure is the throughput it prints. OpenVINO's usage
telemetry is off for both (``CI=true`` in benchmark_app's environment, as pinbench sets it for its
own import). The script reports; it exits 0 once it has measured (2 for bad arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from vs_deepsparse import (
    SUBPROCESS_SLACK_S,
    Contender,
    Outcome,
    default_model,
    measure_rounds,
    pick_cpus,
    report,
    run_json,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

# (numerator, denominator, goal): pass when numerator / denominator >= goal.
GOALS = (
    ("pinbench async", "benchmark_app async", 0.98),
    ("pinbench elastic", "benchmark_app async", 0.98),
    ("pinbench sync", "benchmark_app sync", 0.98),
)
NO_TELEMETRY = {"CI": "true"}  # openvino_telemetry declines to send anything in CI
_THROUGHPUT = re.compile(r"Throughput:\s+([0-9.]+)\s+FPS")


def run_benchmark_app(command: Sequence[str], *, timeout: float) -> float:
    """Run benchmark_app; return the throughput (FPS = items/sec) it prints."""
    done = subprocess.run(
        list(command),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **NO_TELEMETRY},
        check=False,
    )
    found = _THROUGHPUT.findall(done.stdout)
    if done.returncode != 0 or not found:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"exit code {done.returncode}: {tail[0]}")
    return float(found[-1])


def build_contenders(args: argparse.Namespace, model: Path, work: Path) -> list[Contender]:
    """Each contender with its round runner (None: skipped, with the reason in its note)."""
    s, c, t, w = args.streams, args.cores, args.time, args.warmup
    timeout = t + w + SUBPROCESS_SLACK_S
    contenders: list[Contender] = []
    app = shutil.which(args.benchmark_app[0])
    for api, streams in (("async", s), ("sync", 1)):
        outcome = Outcome(
            f"benchmark_app {api}", f"-nstreams {streams} -nireq {streams} -nthreads {c}"
        )
        if app is None:
            outcome.note = f"skipped: `{args.benchmark_app[0]}` not found (pip install openvino)"
            contenders.append((outcome, None))
            continue
        command = [*args.benchmark_app, "-m", str(model), "-d", "CPU", "-api", api, "-hint"]
        command += ["none", "-nstreams", str(streams), "-nireq", str(streams)]
        command += ["-nthreads", str(c), "-infer_precision", args.precision, "-t", str(t)]

        def app_round(_r: int, command: list[str] = command) -> float:
            return run_benchmark_app(command, timeout=timeout)

        contenders.append((outcome, app_round))

    pinbench = shutil.which(args.pinbench[0])
    common = ["-e", "openvino", "-ncores", str(c), "--precision", args.precision]
    common += ["-t", str(t), "-w", str(w), "-q"]
    for scenario in ("async", "elastic", "sync"):
        streams = [] if scenario == "sync" else ["-nstreams", str(s)]
        outcome = Outcome(f"pinbench {scenario}", f"pinbench -e openvino -s {scenario}")
        if pinbench is None:
            outcome.note = (
                f"skipped: `{shlex.join(args.pinbench)}` not found on PATH "
                "(pip install the project, or pass --pinbench 'python -m pinbench')"
            )
            contenders.append((outcome, None))
            continue

        def pinbench_round(r: int, scenario: str = scenario, streams: list[str] = streams) -> float:
            out = work / f"pinbench-{scenario}-{r}.json"
            command = [*args.pinbench, str(model), "-s", scenario, *streams, *common]
            return run_json([*command, "-x", str(out)], out, timeout=timeout, env={})

        contenders.append((outcome, pinbench_round))
    return contenders


def openvino_version() -> str:
    """This interpreter's openvino version, from metadata (no import: no telemetry)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("openvino")
    except PackageNotFoundError:
        return "-"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and validate the command line."""
    p = argparse.ArgumentParser(
        description="pinbench -e openvino against OpenVINO's benchmark_app with matching "
        "streams, threads and precision, on the same model, in one run.",
    )
    p.add_argument("--model", help="ONNX file (default: light SqueezeNet from the onnx package)")
    p.add_argument("--time", type=int, default=10, help="measured seconds per run (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="pinbench's warmup seconds (default 2)")
    p.add_argument("--streams", type=int, default=2, help="async streams (default 2)")
    p.add_argument("--cores", type=int, help="cores = threads for every contender (--streams)")
    p.add_argument("--rounds", type=int, default=3, help="rounds; contenders take turns (3)")
    p.add_argument("--precision", default="f32", choices=["f32", "bf16", "f16"], help="(f32)")
    p.add_argument(
        "--pinbench", type=shlex.split, default=["pinbench"], help="command (default pinbench)"
    )
    p.add_argument(
        "--benchmark-app",
        type=shlex.split,
        default=["benchmark_app"],
        help="command (default benchmark_app, from the openvino wheel)",
    )
    p.add_argument("--export", type=Path, help="also write the results as JSON here")
    args = p.parse_args(argv)
    args.model = args.model or default_model()
    if args.model is None or not Path(args.model).is_file():
        p.error("no model: pass --model (or install onnx for the default light SqueezeNet)")
    args.cores = args.cores or args.streams
    if min(args.time, args.streams, args.cores, args.rounds) < 1 or args.warmup < 0:
        p.error("--time, --streams, --cores and --rounds must be >= 1, --warmup >= 0")
    allowed = len(os.sched_getaffinity(0))
    if args.cores > allowed:
        p.error(f"--cores {args.cores}: this process may use only {allowed} CPUs")
    if args.cores < args.streams:
        p.error(f"--cores {args.cores} < --streams {args.streams}: each stream needs a core")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every contender ``--rounds`` times, print the table, and exit 0."""
    args = parse_args(argv)
    cpus = pick_cpus(args.cores)
    with tempfile.TemporaryDirectory(prefix="vs-openvino-") as tmp:
        work = Path(tmp)
        contenders = build_contenders(args, Path(args.model), work)
        print(
            f"model {Path(args.model).name}, {args.streams} streams, {args.cores} cores = "
            f"threads (CPUs {','.join(map(str, cpus))} for pinbench), precision "
            f"{args.precision}, {args.time} s per run (+ {args.warmup} s pinbench warmup), "
            f"{args.rounds} rounds; openvino {openvino_version()}"
        )
        measure_rounds(contenders, args.rounds)
    summary = report([o for o, _ in contenders], args.rounds, GOALS)
    if args.export is not None:
        args.export.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
