"""-r N: repetitions with fresh warmups and instances, the median one reported, the spread kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from onnx import TensorProto

from pinbench.result.repetitions import RepetitionFigures, across, representative, summarize
from pinbench.result.validity import unstable_repetitions

from conftest import FIXTURES
from onnx_factory import make_identity_model

PARALLEL = f"{FIXTURES / 'sleep_engine.py'}:ParallelSleeper"


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    return str(make_identity_model(tmp_path, [("x", TensorProto.FLOAT, [1, 4])]))


def test_the_representative_is_the_median_run() -> None:
    assert representative([3.0, 1.0, 2.0]) == 2
    assert representative([4.0, 1.0, 3.0, 2.0]) == 3  # the lower middle of an even count
    assert representative([float("nan"), 2.0, 1.0]) == 1  # NaN sorts last: 2.0 is the middle


def test_the_spread_across_repetitions() -> None:
    a = across([100.0, 110.0, 90.0, 105.0, 95.0])
    assert a.median == 100.0 and a.mean == 100.0 and (a.min, a.max) == (90.0, 110.0)
    assert a.ci95[0] < 100.0 < a.ci95[1] and a.cv == pytest.approx(0.0707, abs=1e-4)
    figs = [RepetitionFigures(i, v, 1.0, 1.0, 2.0, 100, 1.0, True, ()) for i, v in
            enumerate([100.0, 140.0, 80.0])]  # fmt: skip
    reps = summarize(figs)
    assert reps.representative == 0 and reps.items_per_sec.median == 100.0
    assert [r.rule for r in unstable_repetitions(reps.items_per_sec.cv)] == ["unstable_repetitions"]
    assert unstable_repetitions(0.05) == []


def test_repetitions_through_the_command(tmp_path: Path, tiny: str) -> None:
    out = tmp_path / "r.json"
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", tiny, "-e", PARALLEL, "-nstreams", "1", "-t", "0.2",
         "-w", "0.05", "-r", "3", "-x", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "Repetitions: 3 " in r.stdout and "Repetitions Throughput (items/sec):" in r.stdout
    assert r.stderr.count("repetition ") == 3  # one log line each
    data = json.loads(out.read_text())
    reps = data["pinbench"]["repetitions"]
    assert reps["count"] == 3 and len(reps["runs"]) == 3 and reps["instances_rebuilt"]
    chosen = reps["runs"][reps["representative"]]
    thr = sorted(run["items_per_sec"] for run in reps["runs"])
    assert chosen["items_per_sec"] == thr[1]  # the median of three
    assert data["benchmark_result"]["items_per_sec"] == chosen["items_per_sec"]
    assert data["benchmark_result"]["iterations"] == chosen["iterations"]
    lo, hi = reps["items_per_sec"]["ci95"]
    assert lo <= reps["items_per_sec"]["mean"] <= hi
    assert data["pinbench"]["requested"]["measure"]["repeat"] == 3


def test_auto_streams_probe_once_for_every_repetition(tmp_path: Path, tiny: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", tiny, "-e", PARALLEL, "-nstreams", "auto",
         "--probe-time", "0.1", "-ncores", "1", "-t", "0.1", "-w", "0", "-r", "3"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("auto probe:") == 1  # one core: one candidate, probed once
    assert r.stdout.count("Auto Streams:") == 1
