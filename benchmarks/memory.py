"""pinbench's memory and start-up against a plain ONNX Runtime script, in one run.

On a model of 8 MatMul layers with 2048x2048 float32 weights (128 MB of weights; generated into
a temporary folder unless --model names one), each contender in a subprocess of its own, peak
RSS from the kernel (``wait4``'s ``ru_maxrss``):

| contender | what runs |
|---|---|
| `plain` | a script: one ONNX Runtime session (1 intra-op thread), one run, then 20 |
| `pinbench 1` | `pinbench MODEL -nstreams 1 -ncores 1 -t T -w 0` |
| `pinbench 2` | `pinbench MODEL -nstreams 2 -ncores 2 -t T -w 0` (``--instances auto``) |
| `pinbench 2 stream` | the same with `--instances stream`: a session per stream |
| `deepsparse 2` | `deepsparse.benchmark MODEL -e onnxruntime -s async -nstreams 2 -t 1` (its venv |
|  | as vs_deepsparse.py makes it; skipped when absent) |

Start-up: from the moment the subprocess is started to the plain script's end of its first
run, and to pinbench's first measured iteration (``-w 0``: its first iteration; the start of
``pinbench.result.window_ns``, on the same monotonic clock), with pinbench's own parts.

Throughput: rotating rounds of `pinbench MODEL -nstreams 2 --instances auto` against
`--instances stream` (`-t`, `-w`), for each engine of --engines (for OpenVINO, whose auto is a
compiled model per stream, `--instances node` is the other side).

Goals: an extra one-core stream costs at most 0.10x the weights; pinbench with one stream holds
at most 1.15x the plain session; 2-stream throughput of auto at least 0.98x of stream; start-up
to the first measured iteration at most 1.5x the plain script's load and first run.

    python benchmarks/memory.py [--rounds 3] [--time 3] [--warmup 1]
    python benchmarks/memory.py --engines onnxruntime,openvino
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_VENV = Path("~/.cache/pinbench-bench/deepsparse-venv")
LAYERS, SIZE = 8, 2048

PLAIN = """
import sys, time
import numpy as np, onnxruntime as ort
so = ort.SessionOptions()
so.intra_op_num_threads = 1
s = ort.InferenceSession(sys.argv[1], so, providers=["CPUExecutionProvider"])
x = np.random.default_rng(0).random((1, int(sys.argv[2])), dtype=np.float32)
s.run(None, {s.get_inputs()[0].name: x})
first = time.monotonic_ns()
for _ in range(20):
    s.run(None, {s.get_inputs()[0].name: x})
print(first)
"""


def make_model(folder: Path) -> Path:
    """8 x MatMul [SIZE, SIZE] float32, input x [batch, SIZE], written by a child process: a
    child's peak RSS counts its parent's resident memory at the fork, so this process must
    stay small (it imports neither numpy nor onnx)."""
    path = folder / "fat.onnx"
    subprocess.run([sys.executable, __file__, "--write-model", str(path)], check=True)
    return path


def write_model(path: Path) -> None:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits, nodes, prev = [], [], "x"
    for i in range(LAYERS):
        w = ((rng.random((SIZE, SIZE), dtype=np.float32) - 0.5) / SIZE).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [f"h{i}"]))
        prev = f"h{i}"
    graph = helper.make_graph(
        nodes,
        "fat",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", SIZE])],
        [helper.make_tensor_value_info(prev, TensorProto.FLOAT, ["batch", SIZE])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))


def run_measured(cmd: list[str], timeout: float) -> tuple[int, int, str]:
    """(peak RSS in bytes, start ns, stdout) of ``cmd``; RuntimeError when it fails."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.monotonic_ns()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise RuntimeError(f"timed out: {' '.join(cmd)}")
            time.sleep(0.01)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            tail = (err.read().strip().splitlines() or ["?"])[-1]
            raise RuntimeError(f"exit {proc.returncode}: {tail}")
        return usage.ru_maxrss * 1024, start, out.read()


def pinbench_cmd(args: argparse.Namespace, model: Path, out: Path, *extra: str) -> list[str]:
    return [*args.pinbench.split(), str(model), "-q", "-x", str(out), *extra]


def memory_rows(args: argparse.Namespace, model: Path, folder: Path) -> dict[str, dict[str, Any]]:
    """Peak RSS (and start-up, where measured) of each contender, median of --memory-rounds."""
    rows: dict[str, dict[str, Any]] = {}
    out = folder / "r.json"
    short = ["-t", str(args.short_time), "-w", "0"]
    contenders: dict[str, list[str]] = {
        "plain": [sys.executable, "-c", PLAIN, str(model), str(SIZE)],
        "pinbench 1": pinbench_cmd(args, model, out, "-nstreams", "1", "-ncores", "1", *short),
    }
    if args.cores >= 2:
        contenders["pinbench 2"] = pinbench_cmd(args, model, out, "-nstreams", "2", "-ncores",
                                                "2", *short)  # fmt: skip
        contenders["pinbench 2 stream"] = [*contenders["pinbench 2"], "--instances", "stream"]
        tool = args.venv.expanduser() / "bin" / "deepsparse.benchmark"
        if tool.exists():
            # deepsparse.benchmark parses -t and -w as integers: its shortest window is 1 s.
            seconds = str(max(1, math.ceil(args.short_time)))
            contenders["deepsparse 2"] = [str(tool), str(model), "-e", "onnxruntime", "-s",
                                          "async", "-nstreams", "2", "-ncores", "2", "-t",
                                          seconds, "-w", "0", "-q"]  # fmt: skip
        else:
            rows["deepsparse 2"] = {"note": f"skipped: no {tool} (vs_deepsparse.py makes it)"}
    for name, cmd in contenders.items():
        rss, startups, parts = [], [], []
        try:
            for _ in range(args.memory_rounds):
                peak, start, stdout = run_measured(cmd, timeout=300)
                rss.append(peak)
                if name == "plain":
                    startups.append((int(stdout.strip().splitlines()[-1]) - start) / 1e9)
                elif name.startswith("pinbench"):
                    doc = json.loads(out.read_text())["pinbench"]
                    startups.append((doc["result"]["window_ns"][0] - start) / 1e9)
                    parts.append(doc["startup"]["parts_seconds"])
        except (RuntimeError, OSError, ValueError, KeyError) as e:
            rows[name] = {"note": f"failed: {e}"}
            continue
        row: dict[str, Any] = {"rss": statistics.median(rss), "rss_all": rss}
        if startups:
            row["startup"] = statistics.median(startups)
        if parts:
            row["parts"] = {k: statistics.median(p[k] for p in parts) for k in parts[0]}
        rows[name] = row
    return rows


def throughput(args: argparse.Namespace, model: Path, folder: Path) -> dict[str, list[float]]:
    """items/sec per round of each engine's two instance modes, the order rotating."""
    sides: list[tuple[str, list[str]]] = []
    for engine in args.engines:
        other = "node" if engine == "openvino" else "auto"
        for mode in (other, "stream"):
            sides.append((f"{engine} --instances {mode}", ["-e", engine, "--instances", mode]))
    rates: dict[str, list[float]] = {name: [] for name, _ in sides}
    out = folder / "t.json"
    for r in range(args.rounds):
        for name, extra in sides[r % len(sides) :] + sides[: r % len(sides)]:
            cmd = pinbench_cmd(args, model, out, "-nstreams", "2", "-ncores", "2", "-t",
                               str(args.time), "-w", str(args.warmup), *extra)  # fmt: skip
            try:
                run_measured(cmd, timeout=args.time + args.warmup + 300)
                rates[name].append(json.loads(out.read_text())["benchmark_result"]["items_per_sec"])
            except (RuntimeError, OSError, ValueError) as e:
                print(f"  {name}: {e}", flush=True)
    return rates


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(rows: dict[str, dict[str, Any]], rates: dict[str, list[float]], weights: int) -> None:
    mb = 1e6
    print(f"\nweights: {weights / mb:.1f} MB")
    print(f"{'contender':<20} {'peak RSS MB':>12} {'x plain':>8} {'start-up s':>11}  note")
    plain = rows.get("plain", {}).get("rss")
    for name, row in rows.items():
        if "rss" not in row:
            print(f"{name:<20} {'-':>12} {'-':>8} {'-':>11}  {row['note']}")
            continue
        ratio = f"{row['rss'] / plain:.2f}" if plain else "-"
        start = f"{row['startup']:.3f}" if "startup" in row else "-"
        every = ", ".join(f"{v / mb:.0f}" for v in row["rss_all"])
        print(f"{name:<20} {row['rss'] / mb:>12.1f} {ratio:>8} {start:>11}  rounds: {every}")
    for name, row in rows.items():
        if "parts" in row:
            parts = ", ".join(f"{k} {v:.3f}" for k, v in row["parts"].items())
            print(f"  {name} start-up parts (s): {parts}")
    print("\nthroughput, items/sec per round (median):")
    for name, values in rates.items():
        med = statistics.median(values) if values else float("nan")
        print(f"  {name:<34} {', '.join(f'{v:.2f}' for v in values)}  ({med:.2f})")
    print("\nratios against the goals:")
    one, two = rows.get("pinbench 1", {}), rows.get("pinbench 2", {})
    stream = rows.get("pinbench 2 stream", {})
    if "rss" in one and "rss" in two:
        extra = (two["rss"] - one["rss"]) / weights
        print(f"  extra one-core stream (auto) / weights: {extra:.3f} (<= 0.10) "
              f"{verdict(extra <= 0.10)}")  # fmt: skip
    if "rss" in one and "rss" in stream:
        extra = (stream["rss"] - one["rss"]) / weights
        print(f"  extra stream with --instances stream / weights: {extra:.3f} (for scale)")
    if "rss" in one and plain:
        ratio = one["rss"] / plain
        print(
            f"  pinbench 1 stream / plain session: {ratio:.3f} (<= 1.15) {verdict(ratio <= 1.15)}"
        )
    if "startup" in one and "startup" in rows.get("plain", {}):
        ratio = one["startup"] / rows["plain"]["startup"]
        print(f"  pinbench start-up / plain load and first run: {ratio:.3f} (<= 1.5) "
              f"{verdict(ratio <= 1.5)}")  # fmt: skip
    names = list(rates)
    for shared, own in zip(names[::2], names[1::2]):
        if rates[shared] and rates[own]:
            ratio = statistics.median(rates[shared]) / statistics.median(rates[own])
            goal = "(>= 0.98) " + verdict(ratio >= 0.98) if "auto" in shared else "(reported)"
            print(f"  {shared} / {own}: {ratio:.3f} {goal}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, help="an ONNX model with one float input [batch, N]")
    p.add_argument("--rounds", type=int, default=3, help="throughput rounds (3)")
    p.add_argument("--memory-rounds", type=int, default=2, help="runs of each memory row (2)")
    p.add_argument("--time", type=float, default=3.0, help="seconds per throughput run (3)")
    p.add_argument("--warmup", type=float, default=1.0, help="warmup per throughput run (1)")
    p.add_argument("--short-time", type=float, default=0.2, help="-t of the memory runs (0.2)")
    p.add_argument("--engines", default="onnxruntime", help="comma-separated (onnxruntime)")
    p.add_argument("--pinbench", default=f"{sys.executable} -m pinbench", help="the command")
    p.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="deepsparse's venv")
    p.add_argument("--write-model", type=Path, help=argparse.SUPPRESS)  # make_model's child
    args = p.parse_args(argv)
    if args.write_model:
        write_model(args.write_model)
        return 0
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.cores = len(os.sched_getaffinity(0))
    if args.rounds < 1 or args.memory_rounds < 1:
        p.error("--rounds and --memory-rounds must be at least 1")
    with tempfile.TemporaryDirectory(prefix="pinbench-memory-") as tmp:
        folder = Path(tmp)
        model = args.model or make_model(folder)
        weights = model.stat().st_size
        print(f"model {model.name}: {weights / 1e6:.1f} MB; {args.cores} CPUs; "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
        rows = memory_rows(args, model, folder)
        rates = throughput(args, model, folder) if args.cores >= 2 else {}
    report(rows, rates, weights)
    return 0


if __name__ == "__main__":
    sys.exit(main())
