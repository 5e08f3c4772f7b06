"""Every ONNX model the `onnx` wheel ships, through `pinbench -t 0.1 -w 0`: each must run or end
with a one-line error that names the cause; never a traceback, never a changed model file.

    python benchmarks/odd_models.py [--jobs 2] [--every K] [--limit N] [--show errors|all]

Prints one line per model that did not run (its error), then the counts. Exit status 1 when any
model produced a traceback, a crash, a hang or a multi-line error, or a file changed.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

SETS = ("simple", "pytorch-converted", "pytorch-operator", "light")
TIMEOUT_S = 120


@dataclass(frozen=True)
class Outcome:
    model: Path
    verdict: str  # "ran", "error" (a clean one-line error), or "bad: <why>"
    detail: str


def models() -> list[Path]:
    import onnx

    root = Path(onnx.__file__).parent / "backend" / "test" / "data"
    return sorted(p for s in SETS for p in (root / s).rglob("*.onnx"))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def judge(model: Path) -> Outcome:
    before = digest(model)
    cmd = [sys.executable, "-m", "pinbench", str(model), "-t", "0.1", "-w", "0", "-q"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return Outcome(model, "bad: hang", f"no answer in {TIMEOUT_S} s")
    if digest(model) != before:
        return Outcome(model, "bad: model file changed", "")
    lines = r.stderr.strip().splitlines()
    if "Traceback" in r.stderr:
        return Outcome(model, "bad: traceback", lines[-1] if lines else "")
    if r.returncode == 0:
        return Outcome(model, "ran", r.stdout.splitlines()[3] if r.stdout else "")
    if r.returncode not in (1, 2):
        return Outcome(model, f"bad: exit code {r.returncode}", lines[-1] if lines else "")
    if len(lines) != 1 or not lines[0].startswith("pinbench: error: "):
        return Outcome(model, "bad: not one line", " | ".join(lines[-3:]))
    return Outcome(model, "error", lines[0].removeprefix("pinbench: error: "))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--limit", type=int, default=0, help="only the first N models")
    p.add_argument("--every", type=int, default=1, help="every K-th model only (a sample)")
    p.add_argument("--show", choices=["errors", "all"], default="errors")
    args = p.parse_args(argv)
    todo = models()[:: max(1, args.every)][: args.limit or None]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(judge, todo))
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.verdict] = counts.get(o.verdict, 0) + 1
        if args.show == "all" or o.verdict != "ran":
            print(f"{o.verdict:<8} {o.model.parent.name}/{o.model.name}: {o.detail}")
    bad = sum(n for v, n in counts.items() if v.startswith("bad"))
    print(
        f"{len(outcomes)} models: {counts.get('ran', 0)} ran, "
        f"{counts.get('error', 0)} ended with a one-line error, {bad} bad"
    )
    for verdict, n in sorted(counts.items()):
        if verdict.startswith("bad"):
            print(f"  {verdict}: {n}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
