"""The runner's own cost per iteration, against a plain Python threading loop, in one run.

For 1 and 2 streams, a no-op Python step runs (a) through pinbench's native runner and (b) in
`threading.Thread`s that time each call with `time.perf_counter` and append to a list, as a
Python benchmark loop would. A third row runs the 2 streams in process isolation (a pinned
worker process per stream, each with its own interpreter) against the same 2-thread Python loop.
Rounds alternate the contenders so they share the machine's noise. ns/it is the window divided
by the iterations of all streams together.

Goals: on one stream, at most 0.35 us per iteration through the runner and at least 1.5x the rate
of the Python loop; on 2 streams in process isolation, at least 1.5x the 2-thread Python loop
(thread streams share one GIL and are reported only).

Then the counters' cost: the same runs with ``--counters`` on (``auto``: software events, and
hardware events where the PMU allows) against ``off``, for the no-op step (1 stream) and for
SqueezeNet (``-s sync``), rounds alternating on and off. Goal: throughput within 1% (the median
of each round's ratio on / off).

    python benchmarks/overhead.py [--seconds 1.0] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from steps import make_noop, noop  # importable by the worker processes of process isolation

import pinbench


def runner_rate(streams: int, seconds: float, isolation: str = "thread") -> float:
    m = pinbench.measure(
        make_noop,
        streams=streams,
        pinning="core",
        warmup=0.2,
        duration=seconds,
        isolation=isolation,
    )
    return m.throughput


def counted_rate(work: str, seconds: float, counters: str) -> float:
    if work == "noop":
        m = pinbench.measure(make_noop, streams=1, warmup=0.2, duration=seconds, counters=counters)
        return m.throughput
    r = pinbench.benchmark(
        "squeezenet", scenario="sync", time=seconds, warmup_time=0.5, counters=counters
    )
    return r.items_per_sec


def counters_rows(seconds: float, rounds: int) -> None:
    print(f"counters on (auto) against off, {rounds} rounds of {seconds} s, alternating")
    print(f"{'step':>10} {'on it/s':>12} {'off it/s':>12} {'on/off':>7}  goal")
    for work in ("noop", "squeezenet"):
        on, off, ratios = [], [], []
        for k in range(rounds):
            order = ("auto", "off") if k % 2 == 0 else ("off", "auto")
            got = {c: counted_rate(work, seconds, c) for c in order}
            on.append(got["auto"])
            off.append(got["off"])
            ratios.append(got["auto"] / got["off"])
        ratio = statistics.median(ratios)
        ok = abs(ratio - 1.0) <= 0.01
        print(f"{work:>10} {statistics.median(on):>12.1f} {statistics.median(off):>12.1f} "
              f"{ratio:>6.3f}x  within 1%: {'PASS' if ok else 'FAIL'}")  # fmt: skip


def python_loop_rate(streams: int, seconds: float) -> float:
    barrier = threading.Barrier(streams)
    counts = [0] * streams
    windows: list[tuple[float, float]] = [(0.0, 0.0)] * streams

    def worker(i: int) -> None:
        samples: list[tuple[float, float]] = []
        clock = time.perf_counter
        step = noop
        barrier.wait()
        deadline = clock() + seconds
        while True:
            t0 = clock()
            if t0 >= deadline:
                break
            step()
            samples.append((t0, clock()))
        counts[i] = len(samples)
        windows[i] = (samples[0][0], samples[-1][1])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    window = max(w[1] for w in windows) - min(w[0] for w in windows)
    return sum(counts) / window


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ncpu = len(pinbench.topology().cores)
    print(f"no-op Python step, {args.rounds} rounds of {args.seconds} s, {ncpu} physical cores")
    print("streams: t = thread streams, p = process isolation")
    print(f"{'streams':>7} {'runner ns/it':>13} {'python ns/it':>13} {'ratio':>7}  goal")
    for streams, isolation in ((1, "thread"), (2, "thread"), (2, "process")):
        if streams > ncpu:
            continue
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(runner_rate(streams, args.seconds, isolation))
            theirs.append(python_loop_rate(streams, args.seconds))
        r, p = statistics.median(ours), statistics.median(theirs)
        ns = 1e9 / r
        ratio = r / p
        if streams == 1:
            ok = ns <= 350 and ratio >= 1.5
            goal = f"<= 350 ns/it and >= 1.5x: {'PASS' if ok else 'FAIL'}"
        elif isolation == "process":
            goal = f"process isolation, >= 1.5x: {'PASS' if ratio >= 1.5 else 'FAIL'}"
        else:
            goal = "(reported; the streams share one GIL)"
        label = f"{streams} {isolation[0]}"
        print(f"{label:>7} {ns:>13.1f} {1e9 / p:>13.1f} {ratio:>6.2f}x  {goal}")
    counters_rows(args.seconds, args.rounds)


if __name__ == "__main__":
    main()
