"""pinbench sweep: the Pareto frontier, the best point under a target (confirmed by direct runs),
the command, its JSON and its plot."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from onnx import TensorProto

import pinbench
from pinbench.base.errors import UsageError
from pinbench.cli.sweep import main as sweep_main
from pinbench.search.sweep_frontier import best_point, pareto_front

from conftest import FIXTURES
from onnx_factory import make_identity_model

# On two cores, CoreHungrySleeper's (8 + 4 * batch) ms per batch / cores**2 gives per configuration
# items/s and latency: b1 s1 333, 3 ms; b1 s2 167, 12 ms; b4 s1 667, 6 ms; b4 s2 333, 24 ms.
# The frontier is b1 s1 and b4 s1; under 4.5 ms only b1 s1 qualifies, without a target b4 s1.
HUNGRY = f"{FIXTURES / 'sleep_engine.py'}:CoreHungrySleeper"
PARALLEL = f"{FIXTURES / 'sleep_engine.py'}:ParallelSleeper"  # 3 ms per batch of 1
SLO_MS = 4.5
NCORES = len(os.sched_getaffinity(0))
two_cores = pytest.mark.skipif(NCORES < 2, reason="the grid runs two streams")


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    return str(make_identity_model(tmp_path, [("x", TensorProto.FLOAT, [1, 4])]))


def test_pareto_front_keeps_the_undominated_by_latency() -> None:
    thr = [100.0, 200.0, 150.0, 300.0, 300.0, math.nan, 50.0]
    lat = [1.0, 2.0, 3.0, 5.0, 6.0, 0.1, 1.0]
    # 2 (150 at 3 ms) loses to 1; 4 ties 3 on throughput with more latency; 6 ties 0 on latency
    # with less throughput; 5 has no figure.
    assert pareto_front(thr, lat) == [0, 1, 3]
    assert pareto_front([1.0, 1.0], [2.0, 2.0]) == [0, 1]  # equal points dominate neither
    assert pareto_front([], []) == []


def test_best_point_under_a_target() -> None:
    thr, lat = [100.0, 200.0, 300.0, 300.0], [1.0, 2.0, 5.0, 4.0]
    assert best_point(thr, lat) == 3  # the fastest; of equals, the lower latency
    assert best_point(thr, lat, slo=4.5) == 3
    assert best_point(thr, lat, slo=3.0) == 1
    assert best_point(thr, lat, slo=0.5) is None


@two_cores
def test_sweep_best_under_target_is_confirmed_by_direct_runs(tiny: str) -> None:
    kw = {"engine": HUNGRY, "num_cores": 2, "warmup_time": 0.05}
    s = pinbench.run_sweep(tiny, batch_sizes=[1, 4], streams=[1, 2], latency_slo_ms=SLO_MS,
                  percentile=90, time=0.25, **kw)  # fmt: skip
    labels = [p.label() for p in s.points]
    assert labels == ["b1 s1", "b1 s2", "b4 s1", "b4 s2"]
    assert [labels[i] for i in s.frontier] == ["b1 s1", "b4 s1"]
    assert s.best is not None and labels[s.best] == "b1 s1"
    assert best_point([p.items_per_sec for p in s.points], [p.latency_ms for p in s.points]) == 2
    # Every configuration measured again directly: the chosen one meets the target, and none
    # that meets it is faster; the fastest overall misses it; the figures agree.
    direct = {
        p.label(): pinbench.benchmark(
            tiny, batch_size=p.batch_size, num_streams=p.num_streams, time=0.25, **kw
        )
        for p in s.points
    }
    p90 = {k: r.latency.percentiles[90.0] for k, r in direct.items()}
    meeting = [k for k in direct if p90[k] <= SLO_MS]
    assert max(meeting, key=lambda k: direct[k].items_per_sec) == labels[s.best]
    fastest = max(direct, key=lambda k: direct[k].items_per_sec)
    assert fastest == "b4 s1" and p90[fastest] > SLO_MS
    for p in s.points:
        assert p.items_per_sec == pytest.approx(direct[p.label()].items_per_sec, rel=0.3)


@two_cores
def test_sweep_command_table_json_and_plot(tmp_path: Path, tiny: str) -> None:
    pytest.importorskip("matplotlib")
    out, png = tmp_path / "sweep.json", tmp_path / "sweep.png"
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", "sweep", tiny, "-e", HUNGRY, "--batch", "1,4",
         "--streams", "1,2", "--latency-slo", f"{SLO_MS}ms", "--percentile", "90", "-t", "0.2",
         "-w", "0.05", "-ncores", "2", "-x", str(out), "--plot", str(png)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Sweep: ") and "4 configurations" in lines[0]
    assert "p90 ms" in lines[1] and "pareto" in lines[1]
    assert any(line.startswith("Pareto Frontier (items/sec, p90 ms): b1 s1 (") for line in lines)
    best = "Best Under Target (p90 <= 4.5 ms): batch 1, 1 stream(s), 2 core(s)"
    assert lines[-1].startswith(best)
    assert "sweep 4/4" in r.stderr
    data = json.loads(out.read_text())
    assert data["kind"] == "pinbench sweep" and data["latency_slo_ms"] == SLO_MS
    assert data["grid"]["batch_sizes"] == [1, 4] and data["grid"]["num_streams"] == [1, 2]
    assert [p["pareto"] for p in data["points"]] == [True, False, True, False]
    best = data["points"][data["best"]]
    assert (best["batch_size"], best["num_streams"], best["best"]) == (1, 1, True)
    assert data["results"][1]["benchmark_result"]["iterations"] == data["points"][1]["iterations"]
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_a_target_nothing_meets_exits_1_after_the_table(tiny: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", "sweep", tiny, "-e", PARALLEL, "--streams", "1",
         "--latency-slo", "1ms", "-t", "0.1", "-w", "0", "-q"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == 1
    assert "Best Under Target (p99 <= 1 ms): none of the 1 configurations" in r.stdout
    assert r.stderr.strip() == "pinbench sweep: error: no configuration meets p99 <= 1 ms"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--streams", "999"], "999"),
        (["--batch", "0"], "--batch"),
        (["--streams", "1,x"], "--streams"),
        (["-s", "server"], "--find-qps"),
        (["-s", "sync", "--streams", "1,2"], "sync"),
        (["--latency-slo", "fast"], "--latency-slo"),
        (["-t", "0"], "-t"),
        (["-x", "/nonexistent-dir/s.json"], "-x"),
    ],
)
def test_bad_sweeps_fail_before_running(
    tiny: str, args: list[str], needle: str, capsys: pytest.CaptureFixture[str], keep_logging: None
) -> None:
    try:
        code = sweep_main([tiny, *args])
    except SystemExit as e:  # argparse's own errors
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err, err


def test_the_command_dispatches_sweep(tiny: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", "sweep", tiny, "--streams", "999"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert r.stderr.startswith("pinbench sweep: error: -nstreams 999")


def test_run_sweep_rejects_what_it_sets_itself(tiny: str) -> None:
    with pytest.raises(UsageError, match="sets the batch size and the streams"):
        pinbench.run_sweep(tiny, batch_sizes=[1], streams=[1], num_streams=2)


def test_sweep_outputs_never_replace_the_model_or_each_other(tmp_path: Path) -> None:
    from onnx_factory import make_matmul_model

    model = make_matmul_model(tmp_path, size=4, layers=1)
    before = model.read_bytes()
    for extra, needle in [
        (["-x", str(model)], "that is a model of the sweep"),
        (["-x", str(tmp_path / "s.png"), "--plot", str(tmp_path / "s.png")], "-x writes there too"),
    ]:
        r = subprocess.run(
            [sys.executable, "-m", "pinbench", "sweep", str(model), "--batch", "1",
             "--streams", "1", "-t", "0.2", *extra],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip().splitlines() == [r.stderr.strip()] and needle in r.stderr
    assert model.read_bytes() == before
