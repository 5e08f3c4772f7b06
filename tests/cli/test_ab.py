"""pinbench ab: interleaved rounds, the paired test, the gate and the JSON."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest
from onnx import TensorProto

from pinbench.result.ab_record import compare_paired, round_order

from conftest import FIXTURES
from onnx_factory import make_identity_model
from subproc import run_pinbench

SLEEPERS = FIXTURES / "sleep_engine.py"
PARALLEL = f"{SLEEPERS}:ParallelSleeper"  # 3 ms per batch of 1
SLOW = f"{SLEEPERS}:SlowSleeper"  # 6 ms


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    return str(make_identity_model(tmp_path, [("x", TensorProto.FLOAT, [1, 4])]))


def ab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_pinbench("ab", *args, timeout=180, cwd=cwd)


def test_rounds_alternate_their_order() -> None:
    assert round_order(4) == [("a", "b"), ("b", "a"), ("a", "b"), ("b", "a")]


def test_the_paired_test_finds_a_known_ratio() -> None:
    noise = [1.00, 1.02, 0.97, 1.01, 0.99, 1.03]  # the drift both sides share, round by round
    a = [100.0 * n for n in noise]
    b = [110.0 * n * (1 + e) for n, e in zip(noise, [0.002, -0.003, 0.001, 0.0, -0.001, 0.002])]
    c = compare_paired(a, b, "items_per_sec")
    assert c.ratio == pytest.approx(1.10, rel=0.005)
    assert c.ci95[0] < 1.10 < c.ci95[1] and c.significant and c.p_value < 1e-6
    assert c.worse_by == pytest.approx(-0.10, abs=0.005)  # higher throughput: better
    latency = compare_paired(a, b, "median")
    assert latency.worse_by == pytest.approx(0.10, abs=0.005)  # higher latency: worse


def test_no_difference_is_not_significant_and_one_round_is_not_tested() -> None:
    c = compare_paired([100.0, 101.0, 99.0, 100.0], [101.0, 99.0, 100.0, 100.5], "items_per_sec")
    assert not c.significant and c.ci95[0] < 1.0 < c.ci95[1]
    one = compare_paired([100.0], [50.0], "items_per_sec")
    assert one.ratio == pytest.approx(0.5) and math.isnan(one.p_value) and not one.significant


def test_a_true_2x_slowdown_through_the_command(tmp_path: Path, tiny: str) -> None:
    out = tmp_path / "ab.json"
    r = ab(tiny, "-e", PARALLEL, "-nstreams", "1", "-t", "0.15", "-w", "0.02", "--b", f"-e {SLOW}",
           "-r", "4", "--fail-if-slower", "20", "-x", str(out), cwd=tmp_path)  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    assert "B is worse than A by" in r.stderr.strip().splitlines()[-1]
    assert "significant at 0.05 (B is worse by" in r.stdout
    data = json.loads(out.read_text())
    assert data["kind"] == "pinbench ab" and data["metric"] == "items_per_sec"
    assert data["order"] == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert len(data["a"]["runs"]) == len(data["b"]["runs"]) == 4
    assert data["b"]["flags"] == f"-e {SLOW}"
    assert data["a"]["runs"][0]["benchmark_result"]["iterations"] > 0
    c = data["comparison"]
    assert 0.4 < c["ratio"] < 0.6 and c["significant"] and c["ci95"][0] < c["ratio"] < c["ci95"][1]


def test_an_a_a_comparison_passes_the_gate(tmp_path: Path, tiny: str) -> None:
    r = ab(tiny, "-e", PARALLEL, "-nstreams", "1", "-t", "0.1", "-w", "0.02", "-r", "3",
           "--alpha", "0.001", "--fail-if-slower", "20", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Ratio B/A (items_per_sec):" in r.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--a", "-x out.json"], "belong to pinbench ab itself"),
        (["--b", "-r 3"], "belong to pinbench ab itself"),
        (["--metric", "p42"], "--metric"),
        (["-r", "0"], "-r"),
        (["--a", '-nstreams "1', "--b", "-nstreams 2"], "--a '-nstreams \"1': no closing"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, tiny: str, args: list[str], needle: str) -> None:
    r = ab(tiny, "-t", "0.1", *args, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("pinbench ab: error: ") and needle in line
