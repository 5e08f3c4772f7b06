#!/usr/bin/env python3
"""pinbench -e onnxruntime-genai against onnxruntime-genai's own generation loop timed by hand,
and against pinbench -e onnxruntime on the same model.onnx, on the same pinned cores, in one run.

- ``pinbench genai``: ``pinbench FOLDER -e onnxruntime-genai -s generate --prompt-tokens P
  --new-tokens N -t T -w W -x out.json``: one stream on every selected core (genai's
  ``intra_op_num_threads`` = cores, spinning on), its tokens/s from ``pinbench.generation``.
- ``genai loop``: a fresh interpreter pinned (``os.sched_setaffinity``) to the same CPUs, an
  ``og.Model`` from the same folder with the same config overlay (threads, spinning), and the
  loop genai's examples run: per request a new ``og.Generator`` (``max_length`` = ``min_length``
  = P + N, greedy), ``append_tokens(prompt)`` and a ``generate_next_token()`` (the first token:
  prefill), then ``generate_next_token()`` per token, each call timed with ``perf_counter_ns``.
  Warmup W seconds, then requests for T seconds; prefill tokens/s = prompt tokens / prefill time,
  decode tokens/s = decode calls / decode time, as pinbench defines them.
- ``pinbench ort``: ``pinbench FOLDER -e onnxruntime -s generate ...`` on the folder's
  ``model.onnx`` (its head size read from ``genai_config.json``): reported, no goal.

The model is the one onnxruntime-genai's builder makes from a random Llama
(``tests/decoders/build_genai.py --size small``: hidden 512, 4 layers, 8 heads, 4 KV heads,
fp32): ``--build`` builds it offline into a temporary folder (needs torch, transformers 5.x,
onnx_ir in this interpreter), ``--model FOLDER`` runs a folder built before. Every contender
runs in a subprocess of its own, the order rotating round by round. Goal: pinbench genai / genai
loop >= 0.98 in decode tokens/s, as the median of each round's own ratio (paired, as ``pinbench
ab`` pairs its rounds: adjacent runs share a shared machine's speed of the moment, which moved
the contenders' medians by up to 10% between rounds here); the ratio of the medians is printed
beside it. The script reports; it exits 0 once it has measured (2 for bad arguments, 1 when a
contender failed, naming it; 130 after Ctrl-C, with the whole rounds measured summarized and
exported).

    python benchmarks/vs_genai.py --build
    python benchmarks/vs_genai.py --model FOLDER --rounds 5 --time 8 --prompt-tokens 128
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pinbench.base.errors import UsageError
from pinbench.base.files import Output, guard_outputs

HERE = Path(__file__).resolve().parent
GOAL = 0.98
METRICS = ("decode_tokens_per_sec", "prefill_tokens_per_sec")
CONTENDERS = ("pinbench genai", "genai loop", "pinbench ort")


def genai_loop(args: argparse.Namespace) -> dict[str, float]:
    """The hand-timed genai loop (worker mode): pinned, one model, requests until the deadline."""
    import numpy as np
    import onnxruntime_genai as og

    og.disable_telemetry_events()  # as pinbench's engine does
    cpus = [int(c) for c in args.cpus.split(",")]
    os.sched_setaffinity(0, cpus)
    session = {
        "intra_op_num_threads": len(cpus),
        "inter_op_num_threads": 1,
        "session.intra_op.allow_spinning": "1",
        "session.inter_op.allow_spinning": "0",
    }
    config = og.Config(args.model_path)
    config.clear_providers()
    config.overlay(json.dumps({"model": {"decoder": {"session_options": session}}}))
    model = og.Model(config)
    vocab = json.loads((Path(args.model_path) / "genai_config.json").read_text())["model"][
        "vocab_size"
    ]
    rng = np.random.default_rng(0)
    prompt = rng.integers(0, vocab, (1, args.prompt_tokens)).astype(np.int32)
    length = args.prompt_tokens + args.new_tokens
    params = og.GeneratorParams(model)
    params.set_search_options(max_length=length, min_length=length, do_sample=False)

    def request(record: bool, times: dict[str, list[int]]) -> None:
        t0 = time.perf_counter_ns()
        generator = og.Generator(model, params)
        generator.append_tokens(prompt)
        generator.generate_next_token()
        t1 = time.perf_counter_ns()
        if record:
            times["prefill"].append(t1 - t0)
        for _ in range(args.new_tokens - 1):
            t0 = time.perf_counter_ns()
            generator.generate_next_token()
            t1 = time.perf_counter_ns()
            if record:
                times["decode"].append(t1 - t0)

    times: dict[str, list[int]] = {"prefill": [], "decode": []}
    end = time.perf_counter() + args.warmup
    while time.perf_counter() < end:
        request(False, times)
    end = time.perf_counter() + args.time
    while time.perf_counter() < end:
        request(True, times)
    return {
        "prefill_tokens_per_sec": args.prompt_tokens
        * len(times["prefill"])
        / (sum(times["prefill"]) / 1e9),
        "decode_tokens_per_sec": len(times["decode"]) / (sum(times["decode"]) / 1e9),
    }


def run_pinbench(
    args: argparse.Namespace, engine: str, folder: Path, cpus: list[int], out: Path
) -> dict[str, float]:
    command = [
        sys.executable, "-m", "pinbench", str(folder), "-e", engine, "-s", "generate",
        "--prompt-tokens", str(args.prompt_tokens), "--new-tokens", str(args.new_tokens),
        "-ncores", str(len(cpus)), "-t", str(args.time), "-w", str(args.warmup), "-q",
        "-x", str(out),
    ]  # fmt: skip
    subprocess.run(
        command, check=True, capture_output=True, text=True, timeout=args.time * 10 + 120
    )
    g = json.loads(out.read_text())["pinbench"]["generation"]
    return {m: float(g[m]) for m in METRICS}


def run_genai_loop(args: argparse.Namespace, folder: Path, cpus: list[int]) -> dict[str, float]:
    command = [
        sys.executable, __file__, "--worker", "--model-path", str(folder),
        "--cpus", ",".join(map(str, cpus)), "--prompt-tokens", str(args.prompt_tokens),
        "--new-tokens", str(args.new_tokens), "--time", str(args.time),
        "--warmup", str(args.warmup),
    ]  # fmt: skip
    done = subprocess.run(
        command, check=True, capture_output=True, text=True, timeout=args.time * 10 + 120
    )
    return {k: float(v) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def run_contender(
    name: str, args: argparse.Namespace, folder: Path, cpus: list[int], scratch: Path
) -> dict[str, float]:
    """One contender's run; a failed one ends the script with its last line of stderr."""
    try:
        if name == "genai loop":
            return run_genai_loop(args, folder, cpus)
        engine = "onnxruntime-genai" if name == "pinbench genai" else "onnxruntime"
        return run_pinbench(args, engine, folder, cpus, scratch / "out.json")
    except subprocess.CalledProcessError as e:
        last = (e.stderr or "").strip().splitlines() or ["no output"]
        raise SystemExit(f"vs_genai: {name} failed (exit {e.returncode}): {last[-1]}") from e


def measure(args: argparse.Namespace, folder: Path, scratch: Path) -> dict[str, Any] | None:
    """The rounds and their summary (those done, after Ctrl-C; None when none was)."""
    cpus = sorted(os.sched_getaffinity(0))
    config = json.loads((folder / "genai_config.json").read_text())["model"]
    d = config["decoder"]
    size = sum(f.stat().st_size for f in folder.glob("model.onnx*")) / 2**20
    print(
        f"model: {config['type']}, hidden {d['hidden_size']}, {d['num_hidden_layers']} layers, "
        f"{d['num_attention_heads']} heads ({d['num_key_value_heads']} KV) of {d['head_size']}, "
        f"vocab {config['vocab_size']}, {size:.0f} MiB; prompt {args.prompt_tokens}, new "
        f"{args.new_tokens}; CPUs {cpus}"
    )
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in CONTENDERS}
    order = list(CONTENDERS)
    try:
        for r in range(args.rounds):
            k = r % len(order)
            for name in order[k:] + order[:k]:
                figures = run_contender(name, args, folder, cpus, scratch)
                runs[name].append(figures)
                print(f"round {r + 1}: {name}: " + ", ".join(
                    f"{m} {v:.1f}" for m, v in figures.items()), flush=True)  # fmt: skip
    except KeyboardInterrupt:
        done = min(len(v) for v in runs.values())  # the rounds every contender finished
        print(f"\ninterrupted: {done} whole round(s) measured", flush=True)
        if done == 0:
            return None
        runs = {name: v[:done] for name, v in runs.items()}
    interrupted = len(runs["genai loop"]) < args.rounds
    summary: dict[str, Any] = {
        "rounds": runs,
        "interrupted": interrupted,
        "medians": {},
        "ratios": {},
    }
    print(f"\n{'metric':<24} " + " ".join(f"{n:>14}" for n in CONTENDERS)
          + "  paired genai/loop  goal")  # fmt: skip
    for m in METRICS:
        medians = {n: statistics.median(f[m] for f in runs[n]) for n in CONTENDERS}
        ratio = medians["pinbench genai"] / medians["genai loop"]
        # Adjacent runs share the machine's load best: the median of each round's own ratio.
        paired = statistics.median(
            a[m] / b[m] for a, b in zip(runs["pinbench genai"], runs["genai loop"])
        )
        summary["medians"][m] = medians
        summary["ratios"][m] = {
            "pinbench genai / genai loop": ratio,
            "pinbench genai / genai loop, median of rounds": paired,
            "pinbench ort / pinbench genai": medians["pinbench ort"] / medians["pinbench genai"],
        }
        goal = (f">= {GOAL} " + ("met" if paired >= GOAL else "MISSED")) if m.startswith(
            "decode") else "-"  # fmt: skip
        print(f"{m:<24} " + " ".join(f"{medians[n]:>14.1f}" for n in CONTENDERS)
              + f"  {paired:>17.3f}  {goal} (ratio of the medians: {ratio:.3f})")  # fmt: skip
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = p.add_mutually_exclusive_group()
    where.add_argument("--build", action="store_true", help="build the small model offline")
    where.add_argument("--model", type=Path, help="a folder with genai_config.json")
    p.add_argument("--rounds", type=int, default=15, help="(15: fewer read the goal by chance)")
    p.add_argument("--time", type=float, default=5.0, help="measured seconds per run (5)")
    p.add_argument("--warmup", type=float, default=1.0, help="warmup seconds per run (1)")
    p.add_argument("--prompt-tokens", type=int, default=64)
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--export", help="write the figures as JSON")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--model-path", help=argparse.SUPPRESS)
    p.add_argument("--cpus", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(genai_loop(args)))
        return 0
    if not args.build and args.model is None:
        p.error("give --build or --model FOLDER")
    if args.prompt_tokens < 1 or args.new_tokens < 2:
        p.error("needs --prompt-tokens >= 1 and --new-tokens >= 2")
    if args.rounds < 1 or not 0 < args.time <= 3600 or not 0 <= args.warmup <= 3600:
        p.error("needs --rounds >= 1, --time in (0, 3600] and --warmup in [0, 3600] seconds")
    if args.model is not None and not (args.model / "genai_config.json").is_file():
        p.error(f"--model {args.model}: no genai_config.json there")
    if args.export:
        model = list(args.model.iterdir()) if args.model is not None else []
        try:  # before minutes of measuring: never over the model, never unwritable
            guard_outputs([Output("--export", args.export, suffixes=(".json",))],
                          [("a file of the model", f) for f in model])  # fmt: skip
        except UsageError as e:
            p.error(str(e))
    with tempfile.TemporaryDirectory(prefix="vs-genai-") as tmp:
        scratch = Path(tmp)
        folder = args.model
        if folder is None:
            sys.path.insert(0, str(HERE.parent / "tests"))
            from decoders.build_genai import build

            print("building the small Llama with onnxruntime-genai's builder...", flush=True)
            folder = build(scratch / "model", "small")
        summary = measure(args, folder, scratch)
    if summary is not None and args.export:
        Path(args.export).write_text(json.dumps(summary, indent=2))
    return 130 if summary is None or summary["interrupted"] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # before the rounds began (measure() handles them)
        sys.exit("vs_genai: interrupted before any round was measured")
