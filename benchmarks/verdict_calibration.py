#!/usr/bin/env python3
"""How often the verdict is right: quiet runs that should be valid, runs beside a pinned CPU hog
that should be invalid for interference, and runs that slow part-way that should drift.

Modes (each ``--runs`` times, default 20, in an order that rotates round by round):

- ``ort threads``: ONNX Runtime, ``-s async``, one thread stream per CPU (two here);
- ``process``: the same with ``--isolation process`` (a worker process per stream);
- ``python engine``: a user engine (deepsparse.benchmark's form) that busy-waits 1 ms in Python
  per inference, holding the GIL and its core: ``-s sync`` on every CPU;
- ``openvino``: ``-e openvino -s async``, a stream per CPU.

Each mode runs quiet, then beside a hog (a busy loop in a process pinned to the last stream's
CPU, started before the run and stopped after it). Finally ``drift`` runs the engine of
``tests/fixtures/slowing_engine.py`` (1 ms per call for 1.2 s, then 1.5 ms) with ``-s sync -ncores
1``. Goals: quiet valid in >= 95% of runs per mode; hog invalid with ``interference`` in >= 95%;
drift with ``drift`` in >= 95%. Then every rule's false-positive rate over all quiet runs (each
run is judged by every rule: with 4 modes x 20 runs, 80 runs per rule).

The model is light SqueezeNet from the onnx package (nothing downloaded). Runs go through
``pinbench.benchmark`` in this process (each builds its own engine instances; the first of each
mode is a warm-up of the process and is not counted). The script reports; it exits 0 once it has
measured (2 for bad arguments). Run it on a machine with nothing else running.

    python benchmarks/verdict_calibration.py                     # 20 runs a mode, 2 s each
    python benchmarks/verdict_calibration.py --runs 5 --time 1   # a quick look
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

import pinbench
from pinbench.result.validity import DRIFT_LIMIT, DRIFT_NOTE_LIMIT, RULES

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "tests" / "fixtures"
GOAL = 0.95
MODES: dict[str, dict[str, Any]] = {
    "ort threads": {"scenario": "async"},
    "process": {"scenario": "async", "isolation": "process"},
    "python engine": {"scenario": "sync", "engine": f"{FIXTURES / 'spin_engine.py'}:Spin"},
    "openvino": {"scenario": "async", "engine": "openvino"},
}
DRIFT = {
    "scenario": "sync",
    "num_cores": 1,
    "engine": f"{FIXTURES / 'slowing_engine.py'}:Slowing",
}


def hog(cpu: int) -> subprocess.Popen[bytes]:
    code = f"import os\nos.sched_setaffinity(0, {{{cpu}}})\nwhile True: pass"
    return subprocess.Popen([sys.executable, "-c", code])


def one_run(
    model: str, kwargs: dict[str, Any], seconds: float, warmup: float, hog_cpu: int | None
) -> tuple[list[str], float]:
    """The rules that fired in one run (the verdict's reasons), and the throughput's change
    between the window's first and last thirds (``Trend.change``; NaN without a trend)."""
    hogger = hog(hog_cpu) if hog_cpu is not None else None
    try:
        r = pinbench.benchmark(model, time=seconds, warmup_time=warmup, **kwargs)
    finally:
        if hogger is not None:
            hogger.kill()
            hogger.wait()
    t = r.throughput_trend
    for reason in r.validity.reasons if hog_cpu is None and kwargs is not DRIFT else ():
        print(f"  {reason.rule}: {reason.message}", flush=True)  # a quiet run judged invalid: why
    return [reason.rule for reason in r.validity.reasons], math.nan if t is None else t.change


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=20, help="runs per mode and case (20)")
    p.add_argument("--time", type=float, default=2.0, help="measured seconds per run (2)")
    p.add_argument("--warmup", type=float, default=0.5, help="warmup seconds per run (0.5)")
    p.add_argument("--modes", default=",".join(MODES), help="modes to run, comma-separated")
    p.add_argument("--export", help="write every run's rules as JSON")
    args = p.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown or args.runs < 1 or args.time <= 0:
        p.error(f"unknown modes {unknown}" if unknown else "--runs >= 1 and --time > 0")
    import onnx

    model = str(Path(onnx.__file__).parent / "backend/test/data/light/light_squeezenet.onnx")
    last_cpu = sorted(os.sched_getaffinity(0))[-1]
    fired: dict[str, list[list[str]]] = collections.defaultdict(list)
    changes: dict[str, list[float]] = collections.defaultdict(list)
    for mode in modes:  # a warm-up of the process per mode (imports, first sessions): not counted
        one_run(model, MODES[mode], 0.3, 0.1, None)
    for r in range(args.runs):
        order = modes[r % len(modes) :] + modes[: r % len(modes)]
        cases = [(f"{m} / {case}", MODES[m], cpu) for m in order
                 for case, cpu in (("quiet", None), ("hog", last_cpu))]  # fmt: skip
        for case, kwargs, cpu in [*cases, ("drift", DRIFT, None)]:
            rules, change = one_run(model, kwargs, args.time, args.warmup, cpu)
            fired[case].append(rules)
            changes[case].append(change)
            print(f"run {r + 1}: {case}: {', '.join(rules) or 'valid'} (change {change:+.1%})",
                  flush=True)  # fmt: skip

    print(f"\n{'case':<26} {'runs':>5} {'as expected':>12}  goal  reasons seen")
    summary: dict[str, Any] = {"runs": fired, "cases": {}, "false_positives": {}}
    for case, runs in fired.items():
        if case.endswith("quiet"):
            ok = sum(1 for rules in runs if not rules)
        elif case.endswith("hog"):
            ok = sum(1 for rules in runs if "interference" in rules)
        else:
            ok = sum(1 for rules in runs if "drift" in rules)
        seen = collections.Counter(rule for rules in runs for rule in rules)
        share = ok / len(runs)
        verdict = "met" if share >= GOAL else "MISSED"
        summary["cases"][case] = {"runs": len(runs), "as_expected": ok, "reasons": dict(seen)}
        print(f"{case:<26} {len(runs):>5} {ok:>5} ({share:4.0%})  {verdict:<5} "
              + ", ".join(f"{k} {v}" for k, v in seen.most_common()))  # fmt: skip
    print("\nthe throughput's change between a quiet window's first and last thirds (what the "
          f"drift limits, {DRIFT_NOTE_LIMIT:.0%} for a note and {DRIFT_LIMIT:.0%} to invalidate, "
          "must stand above):")  # fmt: skip
    summary["quiet_changes"] = {}
    for case, values in changes.items():
        if case.endswith("quiet"):
            size = np.abs(np.array([v for v in values if math.isfinite(v)]))
            if size.size:
                p50, p95 = np.percentile(size, [50, 95])
                summary["quiet_changes"][case] = [float(v) for v in values]
                print(f"  {case:<26} |change| median {p50:.1%}, p95 {p95:.1%}, "
                      f"max {size.max():.1%}")  # fmt: skip
    quiet = [rules for case, runs in fired.items() if case.endswith("quiet") for rules in runs]
    print(f"\nfalse positives per rule over {len(quiet)} quiet runs:")
    for rule in RULES:
        count = sum(1 for rules in quiet if rule in rules)
        summary["false_positives"][rule] = {"runs": len(quiet), "fired": count}
        print(f"  {rule:<22} {count:>3} ({count / max(1, len(quiet)):.1%})")
    if args.export:
        Path(args.export).write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
