"""Every ONNX model the onnx wheel ships runs through the CLI or ends with a one-line error:
no traceback, no crash, no hang, no changed model file (benchmarks/odd_models.py judges)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "odd_models.py"


def test_every_shipped_model_runs_or_fails_in_one_line() -> None:
    r = subprocess.run(
        [sys.executable, str(SCRIPT), "--jobs", "2"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    summary = [ln for ln in r.stdout.splitlines() if re.match(r"\d+ models: ", ln)]
    assert summary, r.stdout + r.stderr
    total, ran, errors, bad = map(int, re.findall(r"\d+", summary[0]))
    print(summary[0])
    assert total >= 140 and ran + errors == total
    assert bad == 0 and r.returncode == 0, r.stdout
    assert ran >= 80  # most of them run; the rest are ops ONNX Runtime does not implement
