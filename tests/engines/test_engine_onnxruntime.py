"""The ONNX Runtime engine through the Python API and the CLI, on real and generated models."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

import pinbench
from pinbench.base.errors import MORE, gist
from pinbench.engines.base import EngineOptions
from pinbench.engines.onnxruntime import OnnxRuntimeEngine, short_error
from pinbench.model.load import load_model

import onnx_factory as factory
from expected import DEEPSPARSE_KEYS
from subproc import run_pinbench

NCORES = len(os.sched_getaffinity(0))
FAST: dict[str, Any] = {"time": 0.2, "warmup_time": 0.05}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_pinbench(*args, "-t", "0.2", "-w", "0.05")


def tasks() -> set[int]:
    return {int(t) for t in os.listdir("/proc/self/task")}


def task_cpus(tid: int) -> str:
    status = Path(f"/proc/self/task/{tid}/status").read_text()
    return status.split("Cpus_allowed_list:")[1].split()[0]


NODES = len(pinbench.topology().nodes)


@pytest.mark.parametrize(
    ("scenario", "instances"),
    [("sync", "auto"), ("async", "auto"), ("async", "stream"), ("elastic", "auto")],
)
def test_affinity_inside_each_stream_and_session_count(
    scenario: str, instances: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[int, set[int]] = {}
    sessions: list[int] = []
    real_bind = OnnxRuntimeEngine.bind
    real_create = OnnxRuntimeEngine.create_instance

    def create(self: OnnxRuntimeEngine, threads: int, *, spinning: bool) -> Any:
        sessions.append(threads)
        return real_create(self, threads, spinning=spinning)

    def bind(self: OnnxRuntimeEngine, instance: Any, inputs: dict[str, np.ndarray]) -> Any:
        step = real_bind(self, instance, inputs)

        def traced() -> object:
            import threading

            seen[threading.get_native_id()] = os.sched_getaffinity(0)
            return step()

        return traced

    monkeypatch.setattr(OnnxRuntimeEngine, "create_instance", create)
    monkeypatch.setattr(OnnxRuntimeEngine, "bind", bind)
    streams = None if scenario == "sync" else NCORES
    r = pinbench.benchmark(
        "squeezenet", scenario=scenario, num_streams=streams, instances=instances, **FAST
    )
    m = r.measurement
    assert len(m.streams) == (1 if scenario == "sync" else NCORES)
    for s in m.streams:
        assert seen[s.thread_id] == set(s.planned_cpus) == set(s.cpus)
    allowed = set(os.sched_getaffinity(0))
    if scenario == "async":
        # auto: the one-core streams of each NUMA node share one session.
        assert sessions == [1] * (NCORES if instances == "stream" else NODES)
        assert set().union(*seen.values()) == allowed
        assert sum(len(c) for c in seen.values()) == NCORES  # disjoint
    else:
        assert sessions == [NCORES]  # one session over all cores
        assert all(c == allowed for c in seen.values())
    assert r.config.engine_instances == len(sessions)


def test_session_threads_inherit_the_stream_cpu_set() -> None:
    # intra_op_num_threads is set explicitly, so ONNX Runtime does not pin its pool itself:
    # its worker threads inherit the creating (pinned) thread's mask.
    cpu = sorted(os.sched_getaffinity(0))[0]
    found: dict[str, Any] = {}
    with load_model("squeezenet") as model:
        engine = OnnxRuntimeEngine(model, EngineOptions())

        def make_step(i: int) -> Callable[[], object]:
            before = tasks()
            session = engine.create_instance(2, spinning=False)
            found["new"] = {t: task_cpus(t) for t in tasks() - before}
            found["session"] = session
            return lambda: None

        pinbench.measure(make_step, cpus=[[cpu]], warmup=0, duration=0.01)
    assert found["new"], "ONNX Runtime started no intra-op thread"
    assert set(found["new"].values()) == {str(cpu)}


def test_every_dtype_runs(tmp_path: Path) -> None:
    model = factory.make_all_dtypes_model(tmp_path)
    for scenario in ("sync", "async"):
        r = cli(str(model), "-s", scenario, "-q")
        assert r.returncode == 0, r.stderr


def test_dynamic_dims_defaults_and_shapes_by_name(tmp_path: Path) -> None:
    model = factory.make_dynamic_model(tmp_path)
    out = tmp_path / "r.json"
    r = cli(str(model), "-b", "2", "-x", str(out))
    assert r.returncode == 0, r.stderr
    shapes = json.loads(out.read_text())["pinbench"]["config"]["input_shapes"]
    assert shapes["x"] == shapes["y"]  # the shared dim names agree
    assert shapes["x"][0] == 2 and shapes["z"][0] == 2
    r = cli(str(model), "-shapes", "x:[3,7,4],y:[3,7,4],z:[3,5]", "-x", str(out))
    assert r.returncode == 0, r.stderr
    shapes = json.loads(out.read_text())["pinbench"]["config"]["input_shapes"]
    assert shapes == {"x": [3, 7, 4], "y": [3, 7, 4], "z": [3, 5]}


def test_transformer_with_int64_inputs_and_seq_len(tmp_path: Path) -> None:
    model = factory.make_transformer_model(tmp_path)
    out = tmp_path / "r.json"
    r = cli(str(model), "-seq_len", "64", "-x", str(out))
    assert r.returncode == 0, r.stderr
    shapes = json.loads(out.read_text())["pinbench"]["config"]["input_shapes"]
    assert all(s == [1, 64] for s in shapes.values())


def test_decoder_with_kv_cache_dims_runs(tmp_path: Path) -> None:
    r = cli(str(factory.make_decoder_model(tmp_path)), "-s", "sync")
    assert r.returncode == 0, r.stderr


def test_external_data_model_with_batch_override_leaves_files_alone(tmp_path: Path) -> None:
    model = factory.make_conv_model(tmp_path, external_data=True)
    files = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    assert len(files) == 2  # the model and its .data
    r = cli(str(model), "-b", "3")
    assert r.returncode == 0, r.stderr
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()} == files


def test_folder_holding_model_onnx(tmp_path: Path) -> None:
    factory.make_dynamic_model(tmp_path)
    r = cli(str(tmp_path), "-q")
    assert r.returncode == 0, r.stderr


def test_data_file_inputs(tmp_path: Path) -> None:
    model = factory.make_dynamic_model(tmp_path)
    data = tmp_path / "in.npz"
    rng = np.random.default_rng(1)
    np.savez(
        data,
        x=rng.random((2, 5, 4), dtype=np.float32),
        y=rng.random((2, 5, 4), dtype=np.float32),
        z=rng.random((2, 5), dtype=np.float32),
    )
    out = tmp_path / "r.json"
    r = cli(str(model), "--data", str(data), "-x", str(out))
    assert r.returncode == 0, r.stderr
    pb = json.loads(out.read_text())["pinbench"]["config"]
    assert pb["inputs"] == f"from {data}"
    assert pb["input_shapes"]["x"] == [2, 5, 4]


def test_unknown_provider_is_a_usage_error() -> None:
    r = cli("squeezenet", "--providers", "NoSuchExecutionProvider")
    assert r.returncode == 2
    assert "NoSuchExecutionProvider" in r.stderr and "Traceback" not in r.stderr


def test_benchmark_model_returns_the_original_dict() -> None:
    d = pinbench.benchmark_model("squeezenet", time=0.2, warmup_time=0.05, quiet=True)
    assert set(d) == set(DEEPSPARSE_KEYS)
    assert d["benchmark_result"]["iterations"] > 0
    assert "pinbench" not in d


# ONNX Runtime 1.x's refusal of a StringNormalizer whose locale the machine lacks, as reported.
LOCALE_ERROR = (
    "[ONNXRuntimeError] : 1 : FAIL : Exception during initialization: "
    "/onnxruntime_src/onnxruntime/core/providers/cpu/text/string_normalizer.cc:235 "
    "onnxruntime::StringNormalizer::Locale::Locale(const std::string&)::<lambda()> "
    "Failed to construct locale with name:en_US.UTF-8:locale::facet::_S_create_c_locale name "
    "not valid:Please, install necessary language-pack-XX and configure locales"
)


def test_a_shortened_engine_error_keeps_its_cause() -> None:
    text = short_error(RuntimeError(LOCALE_ERROR))
    assert gist(text) == (
        "Failed to construct locale with name: en_US.UTF-8: name not valid: "
        "Please, install necessary language-pack-XX and configure locales"
    )
    line = gist(text, 100)
    assert line == "Failed to construct locale with name: en_US.UTF-8: name not valid " + MORE
    assert gist(line, 60) == "Failed to construct locale… " + MORE  # a gist of a gist says so


def test_a_model_that_fails_to_load_says_why(tmp_path: Path) -> None:
    node = onnx.helper.make_node(
        "StringNormalizer", ["x"], ["y"], case_change_action="LOWER", locale="xx_XX.UTF-8"
    )
    graph = onnx.helper.make_graph(
        [node],
        "locale",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.STRING, [1, 2])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.STRING, [1, None])],
    )
    model = factory.save_model(
        onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 13)]),
        tmp_path / "locale.onnx",
    )

    def cli_in_its_folder(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "pinbench", model.name, "-t", "0.2", "-w", "0", *args]
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path
        )

    r = cli_in_its_folder()
    assert r.returncode == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("pinbench: error: ") and len(last) <= 200, last
    assert "Failed to construct locale with name: xx_XX.UTF-8" in last, last
    assert "::" not in last and "(const" not in last, last
    assert last.endswith(MORE) or "language-pack" in last, last
    r = cli_in_its_folder("--debug")
    assert "language-pack" in r.stderr  # the whole text
