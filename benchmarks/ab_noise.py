"""How often `pinbench ab` calls a difference significant: when there is none, and when there is
a true 10% one; and, for contrast, how often `pinbench compare` does on single runs.

    python benchmarks/ab_noise.py [--trials 20] [--rounds 6] [--time 0.5] [--warmup 0.1]

The step busy-waits a fixed time (benchmarks/spin_engines.py): 1.0 ms on both sides for the A/A
trials, 1.0 against 1.1 ms for the A/B ones, one stream pinned to one core. Each trial is one
`pinbench ab ... --metric median -r ROUNDS` (rounds in ABBA order, the paired t test at 0.05).
Goals: A/A significant in at most 5% of the trials; the true difference found in at least 95%,
its 95% interval holding 1.10. The A/A trials' first A and B runs are then judged by `pinbench
compare` as two single runs (their 95% intervals, the within-run test), to show what one run a
side cannot tell. Prints the rates and exits 0 once it has measured (2 for bad arguments).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ENGINES = HERE / "spin_engines.py"


def ab_trial(tmp: Path, b_engine: str, args: argparse.Namespace, k: int) -> dict[str, Any]:
    out = tmp / f"ab{k}.json"
    cmd = [sys.executable, "-m", "pinbench", "ab", "squeezenet", "-e", f"{ENGINES}:Spin1000us",
           "-nstreams", "1", "-ncores", "1", "-t", str(args.time), "-w", str(args.warmup), "-q",
           "--metric", "median", "-r", str(args.rounds), "--b", f"-e {ENGINES}:{b_engine}",
           "-x", str(out)]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if r.returncode not in (0, 1):
        raise SystemExit(f"pinbench ab failed: {r.stderr.strip().splitlines()[-1:]}")
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def compare_single(tmp: Path, trial: dict[str, Any], k: int) -> bool:
    """Whether `pinbench compare` calls the trial's first A and first B run different."""
    a, b = tmp / f"a{k}.json", tmp / f"b{k}.json"
    a.write_text(json.dumps(trial["a"]["runs"][0]))
    b.write_text(json.dumps(trial["b"]["runs"][0]))
    r = subprocess.run([sys.executable, "-m", "pinbench", "compare", str(a), str(b)],
                       capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    rows = [line for line in r.stdout.splitlines() if line.startswith("latency median")]
    return bool(rows) and (rows[0].endswith("slower") or rows[0].endswith("faster"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--time", type=float, default=0.5)
    p.add_argument("--warmup", type=float, default=0.1)
    args = p.parse_args(argv)
    if args.trials < 1 or args.rounds < 2:
        p.error("--trials must be >= 1 and --rounds >= 2")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        same = [ab_trial(tmp, "Spin1000us", args, k) for k in range(args.trials)]
        diff = [ab_trial(tmp, "Spin1100us", args, args.trials + k) for k in range(args.trials)]
        single = [compare_single(tmp, t, k) for k, t in enumerate(same)]
    aa = sum(bool(t["comparison"]["significant"]) for t in same) / len(same)
    found = sum(bool(t["comparison"]["significant"]) for t in diff) / len(diff)
    held = sum(t["comparison"]["ci95"][0] <= 1.10 <= t["comparison"]["ci95"][1]
               for t in diff) / len(diff)  # fmt: skip
    ratios = sorted(t["comparison"]["ratio"] for t in diff)
    print(f"{args.trials} trials of {args.rounds} rounds, -t {args.time:g} -w {args.warmup:g}, "
          "metric: median latency, alpha 0.05")  # fmt: skip
    print(f"A/A (1.0 vs 1.0 ms): significant in {aa:.0%} of trials (goal <= 5%): "
          f"{'met' if aa <= 0.05 else 'NOT met'}")  # fmt: skip
    print(f"A/B (1.0 vs 1.1 ms): found in {found:.0%} (goal >= 95%): "
          f"{'met' if found >= 0.95 else 'NOT met'}; interval holding 1.10 in {held:.0%}; "
          f"median ratio {ratios[len(ratios) // 2]:.4f}")  # fmt: skip
    rate = sum(single) / len(single)
    print(f"for contrast, pinbench compare on single A/A runs: called different in {rate:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
