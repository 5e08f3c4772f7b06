#!/usr/bin/env python3
"""pinbench -s generate against a hand-written ONNX Runtime generation loop, on the same decoder
and the same pinned cores, in one run.

- ``pinbench generate``: ``pinbench MODEL -s generate --prompt-tokens P --new-tokens N -t T -w W
  -x out.json``: one stream on every selected core (intra-op threads = cores, spinning on), its
  decode and prefill tokens/s from ``pinbench.generation``.
- ``hand loop``: a fresh interpreter pinned (``os.sched_setaffinity``) to the same CPUs, one
  CPU-only ``InferenceSession`` with the same options (intra-op threads = cores, one inter-op
  thread, sequential, spinning on), the usual I/O-binding generation loop: token ids, mask and
  positions bound from numpy, the present outputs left to ONNX Runtime and bound back as the next
  call's past (``bind_ortvalue_input``), the next token the argmax of the last logits. Each call
  (binding, run, pick) timed with ``perf_counter_ns``; warmup W seconds, then requests for T
  seconds; prefill tokens/s = prompt tokens / prefill time, decode tokens/s = decode calls /
  decode time, as pinbench defines them.

The decoder is generated (``tests/decoder_factory.py``, nothing downloaded): hidden 512 (8 heads
of 64), 4 layers, a vocabulary of 8192: about 50 MB of float32 weights, a decode step of a few
milliseconds on two cores. Every contender runs in a subprocess of its own, the order rotating
round by round. Goals (ratios of medians): pinbench / hand loop >= 0.98 for decode and for
prefill tokens/s. The script reports; it exits 0 once it has measured (2 for bad arguments).

    python benchmarks/generate.py                  # 3 rounds of 5 s
    python benchmarks/generate.py --rounds 5 --time 8 --prompt-tokens 128 --new-tokens 32
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

HERE = Path(__file__).resolve().parent
GOAL = 0.98
METRICS = ("decode_tokens_per_sec", "prefill_tokens_per_sec")


def make_model(folder: Path, hidden: int, layers: int, vocab: int) -> Path:
    sys.path.insert(0, str(HERE.parent / "tests"))
    from decoder_factory import make_kv_decoder

    return make_kv_decoder(
        folder, layers=layers, heads=hidden // 64, head_dim=64, vocab=vocab, name="decoder.onnx"
    )


def hand_loop(args: argparse.Namespace) -> dict[str, float]:
    """The hand-written loop (worker mode): pinned, one session, requests until the deadline."""
    import numpy as np
    import onnxruntime as ort

    cpus = [int(c) for c in args.cpus.split(",")]
    os.sched_setaffinity(0, cpus)
    so = ort.SessionOptions()
    so.intra_op_num_threads = len(cpus)
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.add_session_config_entry("session.intra_op.allow_spinning", "1")
    session = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
    pasts = [i for i in session.get_inputs() if i.name.startswith("past_key_values")]
    presents = [f"present.{p.name.split('.', 1)[1]}" for p in pasts]
    heads, head_dim = pasts[0].shape[1], pasts[0].shape[3]
    rng = np.random.default_rng(0)
    prompt = rng.integers(0, args.vocab, (1, args.prompt_tokens), dtype=np.int64)
    prompt_positions = np.arange(args.prompt_tokens, dtype=np.int64)[None, :]
    empty = np.zeros((1, heads, 0, head_dim), np.float32)
    binding = session.io_binding()

    def request(record: bool, times: dict[str, list[int]]) -> None:
        past_values: list[Any] = [ort.OrtValue.ortvalue_from_numpy(empty) for _ in pasts]
        ids, positions, length = prompt, prompt_positions, 0
        for k in range(args.new_tokens):
            t0 = time.perf_counter_ns()
            new = ids.shape[1]
            binding.bind_cpu_input("input_ids", ids)
            binding.bind_cpu_input("attention_mask", np.ones((1, length + new), np.int64))
            binding.bind_cpu_input("position_ids", positions)
            for p, value in zip(pasts, past_values):
                binding.bind_ortvalue_input(p.name, value)
            for name in presents:
                binding.bind_output(name, "cpu")
            binding.bind_output("logits", "cpu")
            session.run_with_iobinding(binding)
            outputs = binding.get_outputs()
            logits = outputs[-1].numpy()
            token = int(np.argmax(logits[0, -1]))
            t1 = time.perf_counter_ns()
            if record:
                times["prefill" if k == 0 else "decode"].append(t1 - t0)
            past_values = list(outputs[: len(presents)])
            length += new
            ids = np.array([[token]], np.int64)
            positions = np.array([[length]], np.int64)

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
    args: argparse.Namespace, model: Path, cpus: list[int], out: Path
) -> dict[str, float]:
    command = [
        sys.executable, "-m", "pinbench", str(model), "-s", "generate",
        "--prompt-tokens", str(args.prompt_tokens), "--new-tokens", str(args.new_tokens),
        "-ncores", str(len(cpus)), "-t", str(args.time), "-w", str(args.warmup), "-q",
        "-x", str(out),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=args.time * 10 + 120)
    g = json.loads(out.read_text())["pinbench"]["generation"]
    return {m: float(g[m]) for m in METRICS}


def run_hand_loop(args: argparse.Namespace, model: Path, cpus: list[int]) -> dict[str, float]:
    command = [
        sys.executable, __file__, "--worker", "--model-path", str(model),
        "--cpus", ",".join(map(str, cpus)), "--prompt-tokens", str(args.prompt_tokens),
        "--new-tokens", str(args.new_tokens), "--time", str(args.time),
        "--warmup", str(args.warmup), "--vocab", str(args.vocab),
    ]  # fmt: skip
    done = subprocess.run(
        command, check=True, capture_output=True, text=True, timeout=args.time * 10 + 120
    )
    return {k: float(v) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--time", type=float, default=5.0, help="measured seconds per run (5)")
    p.add_argument("--warmup", type=float, default=1.0, help="warmup seconds per run (1)")
    p.add_argument("--prompt-tokens", type=int, default=64)
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--vocab", type=int, default=8192)
    p.add_argument("--export", help="write the figures as JSON")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--model-path", help=argparse.SUPPRESS)
    p.add_argument("--cpus", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        args.model = args.model_path
        print(json.dumps(hand_loop(args)))
        return 0
    if args.prompt_tokens < 1 or args.new_tokens < 2 or args.hidden % 64:
        p.error("needs --prompt-tokens >= 1, --new-tokens >= 2 and --hidden a multiple of 64")
    cpus = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = make_model(folder, args.hidden, args.layers, args.vocab)
        size = sum(f.stat().st_size for f in folder.iterdir()) / 2**20
        print(
            f"decoder: hidden {args.hidden}, {args.layers} layers, vocab {args.vocab}, "
            f"{size:.0f} MiB; prompt {args.prompt_tokens}, new {args.new_tokens}; CPUs {cpus}"
        )
        runs: dict[str, list[dict[str, float]]] = {"pinbench generate": [], "hand loop": []}
        order = list(runs)
        for r in range(args.rounds):
            for name in order[r % 2 :] + order[: r % 2]:
                if name == "hand loop":
                    figures = run_hand_loop(args, model, cpus)
                else:
                    figures = run_pinbench(args, model, cpus, folder / "out.json")
                runs[name].append(figures)
                print(f"round {r + 1}: {name}: " + ", ".join(
                    f"{m} {v:.1f}" for m, v in figures.items()), flush=True)  # fmt: skip
    summary: dict[str, Any] = {"rounds": runs, "ratios": {}}
    print(f"\n{'metric':<26} {'pinbench':>12} {'hand loop':>12} {'ratio':>8}  goal")
    for m in METRICS:
        ours = statistics.median(f[m] for f in runs["pinbench generate"])
        theirs = statistics.median(f[m] for f in runs["hand loop"])
        ratio = ours / theirs
        summary["ratios"][m] = ratio
        verdict = "met" if ratio >= GOAL else "MISSED"
        print(f"{m:<26} {ours:>12.1f} {theirs:>12.1f} {ratio:>8.3f}  >= {GOAL} {verdict}")
    if args.export:
        Path(args.export).write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
