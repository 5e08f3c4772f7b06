"""pinbench's memory bandwidth against numpy's copy on the same cores, and the decode roofline
of a generated decoder of over 200 MB of weights.

1. Bandwidth: ``pinbench.run.bandwidth.bandwidth_on`` (STREAM's read and triad, one pinned
   thread per core, arrays 4x the last-level cache, at least 64 MiB; best of 5) against
   ``np.copyto`` of a 1 GiB array split over as many threads, each pinned to the same core,
   copying its own slice (allocated and first touched on that thread), started together by a
   barrier, best of 5. numpy releases the GIL for the copy. A copy moves 2 bytes a byte (read
   and write, as STREAM counts it), so its GB/s is 2 GiB / time. Goal: pinbench's read and
   triad at least 0.9x numpy's copy. numpy's sum of the same array (read only, 1 GiB / time)
   is shown beside it: a read-only stream's figure to hold pinbench's read against.
2. Roofline: ``make_kv_decoder(heads=16, head_dim=64, layers=12, vocab=8192)`` (hidden 1024,
   about 235 MB read a decode step) run with
   ``pinbench MODEL -s generate --prompt-tokens 16 --new-tokens 16 --roofline``; reports its
   ``pinbench.roofline.decode`` figures.

    python benchmarks/roofline.py [--cores N] [--rounds 3] [--layers 12] [--time 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

import pinbench  # noqa: F401  (the package must import before its parts)
from pinbench.run.bandwidth import bandwidth_on
from pinbench.run.topology import plan_streams, topology

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from decoder_factory import make_kv_decoder

GIB = 2**30
GOAL = 0.9


def numpy_gbps(cpus: list[int], op: str, total: int = GIB, repetitions: int = 5) -> float:
    """numpy's ``copy`` (``np.copyto``: 2 bytes moved a byte) or ``sum`` (1) of ``total``
    bytes split over one pinned thread per CPU: bytes moved / the best repetition's span."""
    each = total // len(cpus) // 8
    barrier = threading.Barrier(len(cpus))
    spans: list[list[tuple[float, float]]] = [[] for _ in cpus]
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            os.sched_setaffinity(0, {cpus[i]})  # 0: the calling thread
            src = np.ones(each)  # first touched here, on this core's node
            dst = np.zeros(each) if op == "copy" else src
            for _ in range(repetitions):
                barrier.wait()
                t0 = time.perf_counter()
                if op == "copy":
                    np.copyto(dst, src)
                else:
                    src.sum()
                spans[i].append((t0, time.perf_counter()))
        except BaseException as e:  # reported by the main thread
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(cpus))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    best = min(
        max(s[r][1] for s in spans) - min(s[r][0] for s in spans) for r in range(repetitions)
    )
    moved = 2 if op == "copy" else 1
    return moved * each * 8 * len(cpus) / best / 1e9


def decode_roofline(layers: int, vocab: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        model = make_kv_decoder(Path(tmp), heads=16, head_dim=64, layers=layers, vocab=vocab,
                                max_positions=1024)  # fmt: skip
        out = Path(tmp) / "r.json"
        cmd = [sys.executable, "-m", "pinbench", str(model), "-s", "generate",
               "--prompt-tokens", "16", "--new-tokens", "16", "--roofline", "-t", str(seconds),
               "-q", "-x", str(out)]  # fmt: skip
        r = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if r.returncode != 0:
            raise SystemExit(f"pinbench failed: {r.stderr.strip()}")
        roof: dict[str, Any] = json.loads(out.read_text())["pinbench"]["roofline"]
        roof["console"] = [line for line in r.stdout.splitlines() if "Roofline" in line]
        return roof


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cores", type=int, default=None, help="the first N cores (all)")
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--vocab", type=int, default=8192)
    p.add_argument("--time", type=float, default=10.0, help="seconds of the generate run")
    p.add_argument("--rounds", type=int, default=3, help="bandwidth rounds; medians (3)")
    args = p.parse_args()
    topo = topology()
    cpus = list(plan_streams(topo, 1, cores=args.cores)[0].cpus)
    reads, triads, copies, sums = [], [], [], []
    for k in range(args.rounds):  # interleaved, so that all share the machine's drift
        b = bandwidth_on(topo, cpus)
        reads.append(b.read_gbps)
        triads.append(b.triad_gbps)
        copies.append(numpy_gbps(cpus, "copy"))
        sums.append(numpy_gbps(cpus, "sum"))
        print(f"round {k + 1}: pinbench read {reads[-1]:.1f}, triad {triads[-1]:.1f}; numpy "
              f"copy {copies[-1]:.1f}, sum {sums[-1]:.1f} GB/s")  # fmt: skip
    read, triad = statistics.median(reads), statistics.median(triads)
    copy, numpy_sum = statistics.median(copies), statistics.median(sums)
    print(f"CPUs {cpus}: {b.threads} thread(s); pinbench arrays: {b.sizing}; medians:")
    print(f"pinbench read  {read:6.1f} GB/s  ({read / copy:.2f}x numpy's copy)")
    print(f"pinbench triad {triad:6.1f} GB/s  ({triad / copy:.2f}x numpy's copy)")
    print(f"numpy copy     {copy:6.1f} GB/s  (1 GiB over {len(cpus)} thread(s), 2 GiB moved)")
    print(f"numpy sum      {numpy_sum:6.1f} GB/s  (1 GiB over {len(cpus)} thread(s), read only)")
    ok = min(read, triad) >= GOAL * copy
    print(f"goal: pinbench >= {GOAL}x numpy's copy: {'met' if ok else 'missed'}")
    roof = decode_roofline(args.layers, args.vocab, args.time)
    d = roof["decode"]
    print(f"decoder: {d['weight_bytes'] / 1e6:.1f} MB of weights read a step "
          f"({d['gathered_bytes'] / 1e6:.1f} MB of embeddings gathered, not counted)")  # fmt: skip
    print(f"decode {d['decode_tokens_per_sec']:.1f} tokens/s at a mean past of "
          f"{d['mean_past_tokens']:g}; bandwidth on the run's CPUs: read "
          f"{roof['bandwidth']['read_gbps']:.1f} GB/s")  # fmt: skip
    for line in roof["console"]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
