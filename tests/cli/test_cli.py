"""The real `pinbench` command in a subprocess: output, JSON, scenarios, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import pinbench

from expected import CONSOLE_LABELS, DEEPSPARSE_KEYS, RESULT_KEYS
from subproc import run_pinbench

NCORES = len(os.sched_getaffinity(0))
NODES = len(pinbench.topology().nodes)  # async: one ONNX Runtime session per NUMA node
FAST = ["-t", "0.2", "-w", "0.05"]


def run_json(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "r.json"
    r = run_pinbench(*args, "-x", str(out))
    assert r.returncode == 0, r.stderr
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def console(stdout: str) -> dict[str, str]:
    """The result lines as label -> value (lines without a label are left out)."""
    pairs = [line.split(": ", 1) for line in stdout.strip().splitlines() if ": " in line]
    return dict(pairs)


def original_lines_first(stdout: str) -> None:
    """The original's lines come first, in its order; pinbench's own may follow."""
    assert list(console(stdout))[: len(CONSOLE_LABELS)] == CONSOLE_LABELS


def test_builtin_model_console_and_json(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = run_pinbench("squeezenet", *FAST, "-x", str(out))
    assert r.returncode == 0, r.stderr
    lines = console(r.stdout)
    original_lines_first(r.stdout)
    assert lines["Scenario"] == "async"
    assert float(lines["Throughput (items/sec)"]) > 0
    assert int(lines["Iterations"]) > 0
    assert "Traceback" not in r.stderr and "pinbench: num_streams" in r.stderr

    data = json.loads(out.read_text())
    for key, kind in DEEPSPARSE_KEYS.items():
        assert isinstance(data[key], kind), key
    assert list(data["benchmark_result"]) == RESULT_KEYS
    for key in RESULT_KEYS[1:]:
        assert isinstance(data["benchmark_result"][key], (int, float)), key
    assert data["scenario"] == data["benchmark_result"]["scenario"] == "multistream"
    assert data["benchmark_result"]["iterations"] == int(lines["Iterations"])
    pb = data["pinbench"]
    assert pb["schema_version"] == 4 and pb["interrupted"] is False
    assert pb["command_line"][1:] == ["squeezenet", *FAST, "-x", str(out)]
    assert pb["environment"]["cpu_model"] and pb["timestamp"]
    assert pb["result"]["latency_ms"]["min"] <= pb["result"]["latency_ms"]["max"]
    assert sum(s["iterations"] for s in pb["streams"]) == data["benchmark_result"]["iterations"]


@pytest.mark.parametrize(
    ("scenario", "streams", "instances", "same_cpus"),
    [("sync", 1, 1, True), ("async", NCORES, NODES, False), ("elastic", NCORES, 1, True)],
)
def test_scenarios_sessions_and_cpu_sets(
    tmp_path: Path, scenario: str, streams: int, instances: int, same_cpus: bool
) -> None:
    args = ["squeezenet", *FAST, "-s", scenario]
    if scenario == "elastic":
        args += ["-nstreams", str(NCORES)]
    data = run_json(tmp_path, *args)
    pb = data["pinbench"]
    assert data["num_streams"] == streams == len(pb["streams"])
    assert pb["config"]["engine"]["instances"] == instances
    cpus = [tuple(s["cpus"]) for s in pb["streams"]]
    assert all(s["cpus"] == s["cpus_planned"] for s in pb["streams"])
    if same_cpus:
        assert set(cpus) == {tuple(sorted(os.sched_getaffinity(0)))}
    else:
        assert len(set(cpus)) == streams
        assert sum(len(c) for c in cpus) == NCORES  # disjoint, one core each


def test_user_model_file_is_never_modified(tmp_path: Path) -> None:
    import onnx

    src = Path(onnx.__file__).parent / "backend/test/data/light/light_squeezenet.onnx"
    model = tmp_path / "m.onnx"
    model.write_bytes(src.read_bytes())
    before = (hashlib.sha256(model.read_bytes()).hexdigest(), model.stat().st_mtime_ns)
    for extra in (["-b", "2"], ["-shapes", "[2,3,224,224]"], ["-b", "3", "-s", "sync"]):
        r = run_pinbench(str(model), *FAST, *extra)
        assert r.returncode == 0, r.stderr
        assert console(r.stdout)["Batch Size"] == extra[1] if extra[0] == "-b" else True
    # A run that fails must not touch it either.
    r = run_pinbench(str(model), *FAST, "-shapes", "[1,4,224,224]")
    assert r.returncode == 1
    after = (hashlib.sha256(model.read_bytes()).hexdigest(), model.stat().st_mtime_ns)
    assert before == after
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_quiet_leaves_only_the_result() -> None:
    r = run_pinbench("squeezenet", *FAST, "-q")
    assert r.returncode == 0
    assert r.stderr == ""
    original_lines_first(r.stdout)


def test_console_script_and_module_agree() -> None:
    import shutil

    exe = shutil.which("pinbench")
    if exe is None:
        pytest.skip("console script not on PATH")
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0 and r.stdout.startswith("pinbench ")


def _not_onnx(tmp: Path) -> str:
    p = tmp / "bad.onnx"
    p.write_text("this is not a model\n")
    return str(p)


def _matmul(tmp: Path) -> str:
    """x float32[4, 4] @ w[4, 4]: a model whose input shape the weights fix."""
    from onnx_factory import make_matmul_model

    return str(make_matmul_model(tmp, size=4, layers=1))


def _opset_99(tmp: Path) -> str:
    """A model stamped with an opset no engine supports: ONNX Runtime's refusal is 700+
    characters with a C++ signature inside."""
    import onnx

    model = onnx.load(_matmul(tmp))
    model.opset_import[0].version = 99
    onnx.save(model, str(tmp / "op99.onnx"))
    return str(tmp / "op99.onnx")


def _data(tmp: Path, content: bytes, name: str = "d.npz") -> str:
    (tmp / name).write_bytes(content)
    return str(tmp / name)


BAD_INPUT = [
    (lambda t: ["missing.onnx"], 2, "not found"),
    (lambda t: [_not_onnx(t)], 2, "not"),
    (lambda t: ["squeezenet", "-b", "0"], 2, "-b"),
    (lambda t: ["squeezenet", "-b", "-1"], 2, "-b"),
    (lambda t: ["squeezenet", "-ncores", "0"], 2, "-ncores"),
    (lambda t: ["squeezenet", "-ncores", "-1"], 2, "-ncores"),
    (lambda t: ["squeezenet", "-ncores", "999"], 2, "999"),
    (lambda t: ["squeezenet", "-nstreams", "0"], 2, "-nstreams"),
    (lambda t: ["squeezenet", "-nstreams", "-1"], 2, "-nstreams"),
    (lambda t: ["squeezenet", "-nstreams", "999"], 2, "999"),
    (lambda t: ["squeezenet", "-t", "0"], 2, "-t"),
    (lambda t: ["squeezenet", "-w", "-1"], 2, "-w"),
    (lambda t: ["squeezenet", "-shapes", "[1,3,224"], 2, "shapes"),
    (lambda t: ["squeezenet", "-shapes", "[1,3,224,224],[1,3]"], 2, "input"),
    (lambda t: ["squeezenet", "-shapes", "[1,3,224]"], 2, "rank"),
    (lambda t: ["squeezenet", "-s", "offline"], 2, "scenario"),
    (lambda t: ["squeezenet", "-e", "tensorflow"], 2, "unknown engine"),
    (lambda t: ["squeezenet", "-e", "deepsparse"], 2, "deepsparse"),
    (lambda t: ["squeezenet", "-x", "/nonexistent-dir/r.json"], 2, "-x"),
    (lambda t: ["squeezenet", "-x", "/proc/r.json"], 2, "-x"),
    (lambda t: ["squeezenet", "-x", str(t)], 2, "-x"),
    (lambda t: ["squeezenet", "-shapes", "[1,4,224,224]"], 1, "data_0"),
    # Limits the runner cannot honour (issue 11): usage errors that say the limit.
    (lambda t: ["squeezenet", "-w", "1e308"], 2, "at most 1e+09 s"),
    (lambda t: ["squeezenet", "-t", "1e308"], 2, "at most 1e+09 s"),
    (lambda t: ["squeezenet", "--iteration-timeout", "1e12"], 2, "at most 1e+09 s"),
    (lambda t: ["squeezenet", "-b", "99999999999999999999"], 2, "2**63 - 1"),
    (lambda t: ["squeezenet", "--seed", str(2**64)], 2, "2**64 - 1"),
    (lambda t: ["squeezenet", "-shapes", "[1,3,224,99999999999999999999]"], 2, "2**63 - 1"),
    (lambda t: ["squeezenet", "-b", "100000000"], 1, "the inputs need"),
    # Files that are not what their name says, checks made before anything is announced.
    (lambda t: ["squeezenet", "--data", _data(t, os.urandom(256))], 2, "not a valid .npz"),
    (lambda t: ["squeezenet", "--data", _data(t, b"hello\n")], 2, "not a valid .npz"),
    (lambda t: ["squeezenet", "--data", _data(t, b"hello\n", "d.npy")], 2, "not a valid .npy"),
    (lambda t: ["squeezenet", "--providers", "NoSuchExecutionProvider"], 2, "NoSuch"),
    (lambda t: [_matmul(t), "-shapes", "[4,5]"], 2, "which fixes x as [4,4]"),
    # An engine's own long refusal: one line of at most 200 characters.
    (lambda t: [_opset_99(t)], 1, "ONNX Runtime cannot load"),
]


@pytest.mark.parametrize(("make_args", "code", "needle"), BAD_INPUT)
def test_bad_input_is_one_line(tmp_path: Path, make_args: Any, code: int, needle: str) -> None:
    args = make_args(tmp_path)
    r = run_pinbench(*FAST, *args)  # the case's own -t / -w win
    assert r.returncode == code, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert all(ln.startswith("pinbench: ") for ln in lines), r.stderr  # nothing else's noise
    errors = [ln for ln in lines if ln.startswith("pinbench: error: ")]
    assert len(errors) == 1, r.stderr
    assert needle in errors[0]
    assert lines[-1] == errors[0] and len(errors[0]) <= 200
    if code == 2:  # checked before anything was announced: the error is the only line
        assert lines == errors, r.stderr
    assert r.stdout == ""


def test_unwritable_export_is_caught_before_the_run(tmp_path: Path) -> None:
    start = time.monotonic()
    r = run_pinbench("squeezenet", "-t", "30", "-x", "/nonexistent-dir/r.json")
    assert r.returncode == 2
    assert time.monotonic() - start < 25  # it did not run the 30 s benchmark first


def test_debug_shows_the_traceback() -> None:
    r = run_pinbench("missing.onnx", "--debug")
    assert r.returncode == 2 and "Traceback" in r.stderr


def test_a_reader_that_leaves_early_is_no_error() -> None:
    # `pinbench ... | head -1`: the pipe closes before the result is printed.
    with subprocess.Popen(
        [sys.executable, "-m", "pinbench", "squeezenet", *FAST, "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        proc.stdout.close()
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_an_engine_error_is_one_line_and_whole_under_debug_and_in_the_json(tmp_path: Path) -> None:
    model = _opset_99(tmp_path)
    out = tmp_path / "r.json"
    r = run_pinbench(model, *FAST, "-x", str(out))
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert len(last) <= 200 and "onnxruntime::" not in last  # no C++ signature
    error = json.loads(out.read_text())["pinbench"]["error"]
    assert last == f"pinbench: error: {error['message']}"
    assert "Opset 99" in error["detail"] and len(error["detail"]) > len(error["message"])
    r = run_pinbench(model, *FAST, "--debug")
    assert "Traceback" in r.stderr and "Opset 99" in r.stderr
    assert len(r.stderr.strip().splitlines()[-1]) <= 200


def test_no_output_replaces_an_input_or_another_output(tmp_path: Path) -> None:
    from onnx_factory import make_conv_model

    model = make_conv_model(tmp_path, external_data=True)
    import numpy as np

    data = tmp_path / "inputs.npz"
    np.savez(data, image=np.zeros((1, 3, 16, 16), np.float32))
    os.link(model, tmp_path / "link.json")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    cases = [
        (["-x", str(model)], "the model"),
        (["-x", str(tmp_path / "link.json")], "the model"),  # a hard link to it
        (["-x", str(tmp_path / ".." / tmp_path.name / model.name)], "the model"),
        (["-x", str(model) + ".data"], "external data"),
        (["-x", str(data), "--data", str(data)], "--data"),
        (["-x", str(tmp_path / "o.npz"), "--export-samples", str(tmp_path / "o.npz")], "-x"),
    ]
    for extra, needle in cases:
        r = run_pinbench(str(model), *FAST, *extra)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], r.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_kv_cache_flags_of_the_original_are_accepted(tmp_path: Path) -> None:
    data = run_json(tmp_path, "squeezenet", *FAST, "--num-kv-cache-tokens", "4")
    assert data["pinbench"]["requested"]["kv_cache"]["num_kv_cache_tokens"] == 4
