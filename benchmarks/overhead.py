"""The runner's own cost per iteration, against a plain Python threading loop, in one run.

For 1 and 2 streams, a no-op Python step runs (a) through pinbench's native runner and (b) in
`threading.Thread`s that time each call with `time.perf_counter` and append to a list, as a
Python benchmark loop would. Rounds alternate the two so they share the machine's noise.

Goals: at most 0.35 us per iteration on one stream through the runner, and at least 1.5x the rate
of the Python loop.

    python benchmarks/overhead.py [--seconds 1.0] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import pinbench


def noop() -> None:
    pass


def runner_rate(streams: int, seconds: float) -> float:
    m = pinbench.measure(
        lambda i: noop, streams=streams, pinning="core", warmup=0.2, duration=seconds
    )
    return m.throughput


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
    print(f"{'streams':>7} {'runner ns/it':>13} {'python ns/it':>13} {'ratio':>7}  goal")
    for streams in (1, 2):
        if streams > ncpu:
            continue
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(runner_rate(streams, args.seconds))
            theirs.append(python_loop_rate(streams, args.seconds))
        r, p = statistics.median(ours), statistics.median(theirs)
        ns = 1e9 / r
        ratio = r / p
        if streams == 1:
            ok = ns <= 350 and ratio >= 1.5
            goal = f"<= 350 ns/it and >= 1.5x: {'PASS' if ok else 'FAIL'}"
        else:
            goal = "(reported; the streams share one GIL)"
        print(f"{streams:>7} {ns:>13.1f} {1e9 / p:>13.1f} {ratio:>6.2f}x  {goal}")


if __name__ == "__main__":
    main()
