"""What `-nstreams auto` chooses against deepsparse.benchmark's default, `max(1, ncores // 2)`
streams, on the light SqueezeNet: throughput side by side in one run.

First `pinbench.benchmark(model, num_streams="auto")` probes the candidates (its table is
printed) and runs the one it chose. Then rounds alternate the chosen number of streams and the
original's default, each a whole pinbench async run on ONNX Runtime (engine instances per stream,
pinned), so the two share the machine's noise; the medians and their ratio are printed. Both use
pinbench's engine layout: only the number of streams (and so cores per stream) differs.

    python benchmarks/auto_streams.py [--model squeezenet] [--time 3] [--warmup 1]
                                      [--probe-time 1] [--rounds 3] [--cores N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics

import pinbench


def run(model: str, streams: int | str, args: argparse.Namespace) -> pinbench.Result:
    return pinbench.benchmark(
        model,
        scenario="async",
        num_streams=streams,
        num_cores=args.cores,
        time=args.time,
        warmup_time=args.warmup,
        probe_time=args.probe_time,
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="squeezenet")
    p.add_argument("--time", type=float, default=3.0, help="seconds measured per run (3)")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of warmup per run (1)")
    p.add_argument("--probe-time", type=float, default=1.0, help="seconds per auto probe (1)")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    p.add_argument("--cores", type=int, default=None, help="cores (default: all)")
    args = p.parse_args()
    if args.rounds < 1 or args.time <= 0 or args.probe_time <= 0 or args.warmup < 0:
        p.error("--rounds >= 1, --time > 0, --probe-time > 0, --warmup >= 0")

    cores = args.cores or len(pinbench.topology().cores)
    default = max(1, cores // 2)
    auto = run(args.model, "auto", args)
    cpu = auto.environment.get("cpu_model") or platform.machine()
    load = auto.environment.get("load_average")
    print(
        f"machine: {cpu}, {cores} physical cores used, {len(os.sched_getaffinity(0))} CPUs "
        f"allowed, load average at the start {load}"
    )
    tuning = auto.config.auto_streams
    chosen = auto.config.num_streams
    print(f"model {args.model}, batch {auto.config.batch_size}, engine {auto.config.engine_name}")
    if tuning is not None:
        print("\n".join(tuning.lines()))
    print(f"auto run: {chosen} stream(s), {auto.items_per_sec:.1f} items/s")
    print(f"original default: max(1, {cores} // 2) = {default} stream(s)")

    rates: dict[str, list[float]] = {"auto": [], "default": []}
    for i in range(args.rounds):
        for name, n in (("auto", chosen), ("default", default)):
            rates[name].append(run(args.model, n, args).items_per_sec)
        print(
            f"round {i + 1}: auto ({chosen}) {rates['auto'][-1]:.1f} items/s, "
            f"default ({default}) {rates['default'][-1]:.1f} items/s"
        )
    a, d = statistics.median(rates["auto"]), statistics.median(rates["default"])
    print(
        f"median over {args.rounds} rounds: auto ({chosen} stream(s)) {a:.1f} items/s, "
        f"default ({default} stream(s)) {d:.1f} items/s, auto / default = {a / d:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
