"""Every ONNX model the onnx wheel ships runs through the CLI or ends with a one-line error:
no traceback, no crash, no hang, no changed model file (benchmarks/odd_models.py judges).

The default run judges every fourth model (a fixed sample across the four sets); the whole set
(about 150 models, 3 minutes on 2 cores) is marked slow: `python -m pytest -m slow` (CI runs it).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "odd_models.py"


def judge(*args: str) -> tuple[int, int, int, int]:
    r = subprocess.run(
        [sys.executable, str(SCRIPT), "--jobs", "2", *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    summary = [ln for ln in r.stdout.splitlines() if re.match(r"\d+ models: ", ln)]
    assert summary, r.stdout + r.stderr
    total, ran, errors, bad = map(int, re.findall(r"\d+", summary[0]))
    print(summary[0])
    assert bad == 0 and r.returncode == 0, r.stdout
    assert ran + errors == total
    return total, ran, errors, bad


def test_a_sample_of_the_shipped_models_runs_or_fails_in_one_line() -> None:
    total, ran, _, _ = judge("--every", "4")
    assert total >= 35 and ran >= 20


@pytest.mark.slow
def test_every_shipped_model_runs_or_fails_in_one_line() -> None:
    total, ran, _, _ = judge()
    assert total >= 140
    assert ran >= 80  # most of them run; the rest are ops ONNX Runtime does not implement
