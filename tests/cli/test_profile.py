"""``--profile DIR``: a profiled pass after the measured window, its operators' table; engines
without a profiler say so; the folder checked before the run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pinbench
from pinbench.engines.deepsparse import DeepSparseEngine
from pinbench.engines.onnxruntime_profile import read_trace, trace_times
from pinbench.report.run_lines import result_lines

from conftest import FIXTURES
from subproc import run_pinbench


def pinbench_cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_pinbench(*argv, timeout=180, cwd=cwd)


def test_squeezenet_profile_names_conv_and_adds_up(tmp_path: Path) -> None:
    folder, out = tmp_path / "prof", tmp_path / "r.json"
    r = pinbench_cli(
        "squeezenet", "-t", "0.3", "-w", "0.1", "--profile", str(folder),
        "--profile-iterations", "20", "-x", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    p = doc["pinbench"]["profile"]
    assert p["available"] and p["engine"] == "onnxruntime"
    streams = doc["num_streams"]
    assert p["streams"] == streams and p["inferences"] == 20 * streams
    top = [o["op_type"] for o in p["operators"]]
    assert "Conv" in top[:3] and top[0] == "Conv"
    conv = p["operators"][0]
    assert conv["count"] % p["inferences"] == 0  # its nodes x the inferences
    assert 0 < conv["share"] <= 1 and sum(o["share"] for o in p["operators"]) <= 1.0 + 1e-9
    # Per inference, the operators' time is the measured mean latency's order (the pass ran
    # after the window, on the same streams, the profiler on).
    mean = doc["benchmark_result"]["mean"]
    assert 0.1 * mean < p["operators_ms_per_inference"] <= p["inference_ms"] < 10 * mean
    (trace,) = p["files"]  # one session: the one-core streams share it
    assert Path(trace).parent == folder and isinstance(json.loads(Path(trace).read_text()), list)
    lines = r.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Profile: "))
    assert "ONNX Runtime's profiler" in lines[at] and "20 iterations" in lines[at]
    assert lines[at + 1].split() == ["operator", "count", "total", "ms", "ms/inference", "share"]
    assert lines[at + 2].split()[0] == "Conv"


def test_openvino_profile_from_its_counters(tmp_path: Path) -> None:
    pytest.importorskip("openvino")
    r = pinbench.benchmark(
        "squeezenet", engine="openvino", time=0.2, warmup_time=0, num_streams=1,
        profile=str(tmp_path), profile_iterations=5,
    )  # fmt: skip
    p = r.profile
    assert p is not None and p.available and p.inferences == 5 and p.files == ()
    assert p.operators[0].op_type == "Convolution"
    assert p.operators_ms_per_inference == pytest.approx(p.inference_ms)


def test_engines_without_a_profiler_say_so(tmp_path: Path) -> None:
    assert DeepSparseEngine.profiler == ""
    sys.path.insert(0, str(FIXTURES))
    from user_engine import SubclassEngine

    r = pinbench.benchmark(
        "squeezenet", engine=SubclassEngine, time=0.2, warmup_time=0, profile=str(tmp_path)
    )
    assert r.profile is not None and not r.profile.available
    assert r.profile.reason == "engine subclass-engine has no per-operator profiler"
    assert "Profile: none (engine subclass-engine has no per-operator profiler)" in result_lines(r)
    assert list(tmp_path.iterdir()) == []
    assert pinbench.json_document(r)["pinbench"]["profile"]["available"] is False


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--profile", "{file}"], "is a file; give a folder"),
        (["--profile", "{file}/sub"], "cannot write there"),
        (["--profile", "p", "--profile-iterations", "0"], "--profile-iterations"),
    ],
)
def test_the_folder_is_checked_before_the_run(
    tmp_path: Path, flags: list[str], message: str
) -> None:
    (tmp_path / "f.txt").write_text("")
    argv = [f.format(file=tmp_path / "f.txt") for f in flags]
    r = pinbench_cli("squeezenet", "-t", "0.2", *argv, cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and r.stdout == ""
    assert "Traceback" not in r.stderr


def test_a_new_folder_is_made_and_ab_refuses_it(tmp_path: Path) -> None:
    from pinbench.report.outputs import check_outputs
    from pinbench.settings import OutputSettings

    check_outputs(OutputSettings(profile=str(tmp_path / "a" / "b")))
    assert (tmp_path / "a" / "b").is_dir()
    r = pinbench_cli("ab", "squeezenet", "-t", "0.2", "--profile", "p", "--a", "", cwd=tmp_path)
    assert r.returncode == 2 and "--profile applies to one benchmark" in r.stderr


def kernel(tid: int, ts: int, op: str, dur: int) -> dict[str, Any]:
    return {"cat": "Node", "tid": tid, "ts": ts, "dur": dur, "name": f"n{ts}_kernel_time",
            "args": {"op_name": op}}  # fmt: skip


def run(tid: int, ts: int, dur: int) -> dict[str, Any]:
    return {"cat": "Session", "tid": tid, "ts": ts, "dur": dur, "name": "model_run"}


def test_binds_runs_are_left_out_and_truncation_is_seen(tmp_path: Path) -> None:
    events = [
        # thread 1: bind()'s two runs (the first cold), then two of the pass
        run(1, 0, 100), kernel(1, 10, "Conv", 80),
        run(1, 200, 50), kernel(1, 210, "Conv", 40),
        run(1, 300, 30), kernel(1, 305, "Conv", 20), kernel(1, 326, "Relu", 3),
        kernel(1, 340, "Conv", 99),  # between two runs: not counted
        run(1, 400, 30), kernel(1, 405, "Conv", 21),
        # thread 2: its bind's runs, then one of the pass with its kernels unrecorded
        run(2, 0, 90), run(2, 100, 40), run(2, 500, 40),
        {"cat": "Session", "tid": 1, "ts": 0, "dur": 0, "name": "profile_truncated",
         "args": {"max_num_events": "1000000", "dropped_event_count": "1234"}},
    ]  # fmt: skip
    times = trace_times(events, 100, skip=2)
    assert times.inferences == 3 and times.inference_ns == (30 + 30 + 40) * 1000
    assert [(o.op_type, o.count, o.total_ns) for o in times.operators] == [
        ("Conv", 2, 41_000),
        ("Relu", 1, 3_000),
    ]
    assert times.without_kernels == 1 and times.dropped_events == 1234  # thread 2's run
    assert trace_times(events, 1, skip=2).inferences == 2  # at most 1 a thread
    # Read as ONNX Runtime writes it (an event a line), and written whole on one line.
    lines = tmp_path / "lines.json"
    lines.write_text("[\n" + ",\n".join(json.dumps(e) for e in events) + "\n]\n")
    assert read_trace(lines, 100, skip=2) == times
    whole = tmp_path / "whole.json"
    whole.write_text(json.dumps(events))
    assert read_trace(whole, 100, skip=2) == times
