"""The OpenVINO engine: the scenario table on real models, precision, threads, errors, telemetry."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import pinbench
from pinbench.base.system import parse_cpu_list
from pinbench.engines.base import EngineOptions
from pinbench.model.load import load_model
from pinbench.run.layout import plan_layout

import onnx_factory as factory
from engine_checks import FAST, NCORES, SCENARIOS, check_scenario, transformer_model
from subproc import run_pinbench

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("openvino") is None, reason="openvino is not installed"
)


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_pinbench(*args, "-e", "openvino", "-t", "0.2", "-w", "0.05", env=env)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenarios_on_squeezenet(scenario: str) -> None:
    r = check_scenario("openvino", scenario, "squeezenet")
    options = r.config.engine_options
    assert options["compiled_models"] == r.config.engine_instances
    assert options["enable_cpu_pinning"] is False  # pinbench pins; OpenVINO must not re-pin
    if scenario == "async":  # one compiled model per stream, threads = the stream's cores
        assert options["num_streams"] == 1 and options["inference_num_threads"] == 1
    elif scenario == "elastic":  # one compiled model whose own streams serve the streams
        assert options["num_streams"] == NCORES and options["inference_num_threads"] == NCORES
    else:
        assert options["num_streams"] == 1 and options["inference_num_threads"] == NCORES


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenarios_on_a_transformer_with_int64_inputs(scenario: str, tmp_path: Path) -> None:
    model = transformer_model(tmp_path)
    r = check_scenario("openvino", scenario, str(model), sequence_length=64)
    assert all(s == [1, 64] for s in r.config.resolved_input_shapes.values())
    assert r.config.engine_options["static_shapes"] is True  # free dims fixed before compiling


def test_server_scenario_compiles_one_model_per_stream() -> None:
    r = pinbench.benchmark(
        "squeezenet", engine="openvino", scenario="server", num_streams=NCORES, qps=20, **FAST
    )
    assert r.config.engine_instances == NCORES
    assert r.config.engine_options["num_streams"] == 1


def test_precision_is_f32_unless_asked_and_what_ran_is_recorded() -> None:
    r = pinbench.benchmark("squeezenet", engine="openvino", scenario="sync", **FAST)
    options = r.config.engine_options
    assert options["precision_requested"] == "f32"
    assert options["inference_precision"] == "f32"
    assert set(options["layer_precisions"]) <= {"f32", "i32", "i64", "u8", "boolean"}
    r = pinbench.benchmark(
        "squeezenet", engine="openvino", scenario="sync", precision="bf16", **FAST
    )
    options = r.config.engine_options
    assert options["precision_requested"] == "bf16"
    # What the CPU plugin made of it: bf16 where the CPU has it, f32 where it has not.
    assert options["inference_precision"] in ("bf16", "f32")


def test_compiled_model_threads_stay_on_the_stream_cpus() -> None:
    # ENABLE_CPU_PINNING off: OpenVINO's threads (and the calling thread) keep the stream's CPUs.
    cpu = sorted(os.sched_getaffinity(0))[-1]
    found: dict[str, Any] = {}

    def tasks() -> set[int]:
        return {int(t) for t in os.listdir("/proc/self/task")}

    def task_cpus(tid: int) -> set[int]:
        status = Path(f"/proc/self/task/{tid}/status").read_text()
        return set(parse_cpu_list(status.split("Cpus_allowed_list:")[1].split()[0]))

    with load_model("squeezenet") as model:
        from pinbench.engines.openvino import OpenVinoEngine

        engine = OpenVinoEngine(model, EngineOptions())
        layout = plan_layout(
            "async", pinbench.topology(), num_cores=None, num_streams=1, pinning="core"
        )
        engine.prepare(layout, batch_size=1, input_shapes={"data_0": [1, 3, 224, 224]})

        def make_step(i: int) -> Callable[[], object]:
            import numpy as np

            before = tasks()
            compiled = engine.create_instance(1, spinning=False)
            step = engine.bind(compiled, {"data_0": np.zeros((1, 3, 224, 224), np.float32)})
            found["new"] = {t: task_cpus(t) for t in tasks() - before}
            found["self"] = os.sched_getaffinity(0)
            found["compiled"] = compiled
            return step

        pinbench.measure(make_step, cpus=[[cpu]], warmup=0, duration=0.01)
    assert found["self"] == {cpu}
    assert all(cpus == {cpu} for cpus in found["new"].values()), found["new"]


def test_cli_json_records_the_engine(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = cli("squeezenet", "-s", "elastic", "-nstreams", "2", "-x", str(out))
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert d["engine"].startswith("openvino ")
    assert d["scheduler"] == "None" and d["fraction_of_supported_ops"] is None
    engine = d["pinbench"]["config"]["engine"]
    assert engine["name"] == "openvino" and engine["instances"] == 1
    assert engine["options"]["performance_hint"] == "THROUGHPUT"


def test_string_inputs_are_a_usage_error(tmp_path: Path) -> None:
    model = factory.make_all_dtypes_model(tmp_path, dtypes={factory.TensorProto.STRING: "object"})
    r = cli(str(model))
    assert r.returncode == 2, r.stderr
    assert "string inputs" in r.stderr and "Traceback" not in r.stderr


def test_rejected_inputs_are_one_line_run_errors(tmp_path: Path) -> None:
    # x [1,12] -> Reshape to [1,3,4]: ONNX shape inference lets [2,12] through (it does not
    # check a constant target shape), OpenVINO refuses it.
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    shape = numpy_helper.from_array(np.array([1, 3, 4], np.int64), "shape")
    graph = factory.make_model(
        [helper.make_node("Reshape", ["x", "shape"], ["y"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4])],
        [shape],
    )
    model = factory.save_model(graph, tmp_path / "reshape.onnx")
    r = cli(str(model), "-shapes", "[2,12]")
    assert r.returncode == 1, r.stderr
    assert "OpenVINO" in r.stderr and "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert len(last) <= 200 and ".cpp:" not in last  # no source locations


def test_bad_precision_is_a_usage_error() -> None:
    r = cli("squeezenet", "--precision", "f64")
    assert r.returncode == 2 and "--precision" in r.stderr


def test_importing_openvino_sends_no_telemetry(tmp_path: Path) -> None:
    # The telemetry client writes its id under $HOME/intel before it sends anything.
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["HOME"] = str(tmp_path)
    r = cli("squeezenet", "-q", env=env)
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "intel").exists()


def test_the_step_keeps_its_inputs_alive() -> None:
    # The infer request reads the arrays in place and holds no reference to them: the step must,
    # or the inputs are freed under it once the stream's factory returns.
    import numpy as np

    with load_model("squeezenet") as model:
        from pinbench.engines.openvino import OpenVinoEngine

        engine = OpenVinoEngine(model, EngineOptions())
        layout = plan_layout("sync", pinbench.topology(), num_cores=None, num_streams=None,
                             pinning="none")  # fmt: skip
        engine.prepare(layout, batch_size=1, input_shapes={"data_0": [1, 3, 224, 224]})
        array = np.random.default_rng(0).random((1, 3, 224, 224), dtype=np.float32)
        step = engine.bind(engine.create_instance(1, spinning=False), {"data_0": array})
        expected = [np.array(o) for o in step().values()]  # type: ignore[attr-defined]
        refs = sys.getrefcount(array)
        del array
        assert refs > 2  # the step holds it (beyond this frame and getrefcount's argument)
        got = [np.array(o) for o in step().values()]  # type: ignore[attr-defined]
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)
