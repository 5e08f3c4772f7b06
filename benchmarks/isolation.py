"""Process isolation against thread streams and against independent processes, in one run.

Two generated models of MatMul+Relu layers (ONNX Runtime, batch as given): ``small``, 2 layers
of 32x32 at batch 1 (about 10 us an inference), and ``large``, 4 layers of 512x512 at batch 32
(about 1 ms). For each model, each round runs these contenders, in an order that rotates from
round to round so that none always goes first and all share the machine's noise:

- ``thread``: ``pinbench MODEL -s async -nstreams 2 -ncores 2``: two pinned thread streams, one
  interpreter (and one GIL);
- ``process``: the same with ``--isolation process``: a pinned worker process per stream;
- ``independent``: two ``taskset -c CPU pinbench MODEL -s async -nstreams 1 -ncores 1`` started
  together, one on the first CPU of each of the first two physical cores; items/s summed (their
  windows overlap but are not the same: each process measures its own).

Each contender is a fresh ``python -m pinbench`` (the figure is ``items_per_sec`` of its ``-x``
JSON). Goals (ratios of medians):

- small: process / independent >= 0.95 (process isolation removes the GIL's serialisation);
- large: process / thread >= 0.98 (no worse than thread streams, within a short run's noise).

    python benchmarks/isolation.py [--time 3] [--warmup 1] [--rounds 3] [--models small,large]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pinbench

MODELS = {"small": (2, 32, 1), "large": (4, 512, 32)}  # layers, width, batch
CONTENDERS = ("thread", "process", "independent")
GOALS = {"small": ("process", "independent", 0.95), "large": ("process", "thread", 0.98)}


def make_model(path: Path, layers: int, width: int, batch: int) -> Path:
    """``layers`` x (MatMul by a seeded width x width weight, Relu): x[batch, width] -> y."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper, save

    rng = np.random.default_rng(0)
    nodes, weights, prev = [], [], "x"
    for k in range(layers):
        w = (rng.random((width, width), dtype=np.float32) - 0.5) / width
        weights.append(numpy_helper.from_array(w, f"w{k}"))
        out = "y" if k == layers - 1 else f"r{k}"
        nodes += [
            helper.make_node("MatMul", [prev, f"w{k}"], [f"m{k}"]),
            helper.make_node("Relu", [f"m{k}"], [out]),
        ]
        prev = out
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, width])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    save(model, str(path))
    return path


def pinbench_rate(argv: list[str], out: Path, args: argparse.Namespace, prefix: list[str]) -> float:
    """items/s of one ``pinbench`` run (its -x JSON)."""
    command = [*prefix, sys.executable, "-m", "pinbench", *argv]
    command += ["-t", str(args.time), "-w", str(args.warmup), "-q", "-x", str(out)]
    r = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {r.stderr.strip().splitlines()[-1:]}")
    return float(json.loads(out.read_text())["benchmark_result"]["items_per_sec"])


def contender(
    name: str, model: Path, cpus: list[int], folder: Path, args: argparse.Namespace
) -> Callable[[], float]:
    two = [str(model), "-s", "async", "-nstreams", "2", "-ncores", "2"]
    if name == "thread":
        return lambda: pinbench_rate(two, folder / "thread.json", args, [])
    if name == "process":
        return lambda: pinbench_rate([*two, "--isolation", "process"], folder / "p.json", args, [])
    one = [str(model), "-s", "async", "-nstreams", "1", "-ncores", "1"]

    def independent() -> float:
        with ThreadPoolExecutor(2) as pool:
            rates = pool.map(
                lambda k: pinbench_rate(
                    one, folder / f"ind{k}.json", args, ["taskset", "-c", str(cpus[k])]
                ),
                range(2),
            )
            return sum(rates)

    return independent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--time", type=float, default=3.0, help="seconds measured per run (3)")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of warmup per run (1)")
    p.add_argument("--rounds", type=int, default=3, help="rotating rounds (3)")
    p.add_argument("--models", default="small,large", help="small, large or both (default)")
    args = p.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.rounds < 1 or args.time <= 0 or args.warmup < 0 or not set(models) <= set(MODELS):
        p.error("--rounds >= 1, --time > 0, --warmup >= 0, --models from small,large")
    cores = pinbench.topology().cores
    if len(cores) < 2:
        p.error("needs two physical cores")
    cpus = [cores[0].cpus[0], cores[1].cpus[0]]
    print(f"2 streams on CPUs {cpus}; {args.rounds} rounds of {args.time:g} s (+{args.warmup:g} s)")
    with tempfile.TemporaryDirectory(prefix="pinbench-isolation-") as tmp:
        folder = Path(tmp)
        for name in models:
            layers, width, batch = MODELS[name]
            model = make_model(folder / f"{name}.onnx", layers, width, batch)
            runs = {c: contender(c, model, cpus, folder, args) for c in CONTENDERS}
            rates: dict[str, list[float]] = {c: [] for c in CONTENDERS}
            for r in range(args.rounds):
                order = CONTENDERS[r % 3 :] + CONTENDERS[: r % 3]
                for c in order:
                    rates[c].append(runs[c]())
            print(f"\n{name}: {layers} x MatMul+Relu {width}x{width}, batch {batch}")
            for c in CONTENDERS:
                rounds = " ".join(f"{v:10.1f}" for v in rates[c])
                print(f"  {c:<12} items/s {rounds}   median {statistics.median(rates[c]):10.1f}")
            top, base, goal = GOALS[name]
            ratio = statistics.median(rates[top]) / statistics.median(rates[base])
            verdict = "PASS" if ratio >= goal else "FAIL"
            print(f"  {top} / {base} = {ratio:.3f}  (goal >= {goal:g}: {verdict})")
            extra = statistics.median(rates["process"]) / statistics.median(rates["thread"])
            if name == "small":
                print(f"  process / thread = {extra:.3f}  (for scale)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
