"""The DeepSparse engine: one engine shared per run, its scheduler per scenario, the original's
JSON keys.

Needs ``deepsparse==1.8.0`` (Python <= 3.11): ``pip install ".[deepsparse,test]"`` and
``python -m pytest -m deepsparse``. Skipped where deepsparse is not installed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest

import pinbench
from pinbench.result.schema.run import deepsparse_document

import onnx_factory as factory
from engine_checks import FAST, NCORES, SCENARIOS, check_scenario, transformer_model
from subproc import run_pinbench

pytestmark = [
    pytest.mark.deepsparse,
    pytest.mark.skipif(
        importlib.util.find_spec("deepsparse") is None,
        reason="deepsparse is not installed (pip install 'pinbench[deepsparse]', Python <= 3.11)",
    ),
]

SCHEDULER = {"sync": "Scheduler.default", "async": "Scheduler.multi_stream"}
SCHEDULER["elastic"] = "Scheduler.elastic"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_pinbench(*args, "-e", "deepsparse", "-t", "0.2", "-w", "0.05", timeout=180)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenarios_on_squeezenet(scenario: str) -> None:
    r = check_scenario("deepsparse", scenario, "squeezenet")
    d = deepsparse_document(r)
    # The scheduler of the one shared engine, written as deepsparse.benchmark writes it.
    assert d["scheduler"] == SCHEDULER[scenario]
    assert d["fraction_of_supported_ops"] == 1.0
    assert d["engine"].startswith("deepsparse.engine.Engine:")
    options = r.config.engine_options
    assert options["num_cores"] == NCORES
    assert options["num_streams"] == (1 if scenario == "sync" else NCORES)
    assert options["engines"] == 1


def test_server_scenario_shares_one_multi_stream_engine() -> None:
    r = pinbench.benchmark(
        "squeezenet", engine="deepsparse", scenario="server", num_streams=NCORES, qps=20, **FAST
    )
    assert r.config.engine_instances == 1
    assert r.config.engine_options["scheduler"] == "Scheduler.multi_stream"
    assert r.config.engine_options["num_streams"] == NCORES


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenarios_on_a_transformer_with_int64_inputs(scenario: str, tmp_path: Path) -> None:
    model = transformer_model(tmp_path)
    r = check_scenario("deepsparse", scenario, str(model), sequence_length=64)
    assert all(s == [1, 64] for s in r.config.resolved_input_shapes.values())
    fraction = deepsparse_document(r)["fraction_of_supported_ops"]
    assert isinstance(fraction, float) and 0.0 <= fraction <= 1.0


def test_cores_batch_and_shapes_pass_through_and_the_model_file_is_untouched(
    tmp_path: Path,
) -> None:
    model = factory.make_conv_model(tmp_path, batch="batch")
    before = hashlib.sha256(model.read_bytes()).hexdigest()
    out = tmp_path / "r.json"
    r = cli(str(model), "-b", "2", "-ncores", "1", "-s", "sync", "-x", str(out))
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert d["batch_size"] == 2 and d["num_cores"] == 1
    options = d["pinbench"]["config"]["engine"]["options"]
    assert options["batch_size"] == 2 and options["num_cores"] == 1
    assert d["pinbench"]["config"]["input_shapes"] == {"image": [2, 3, 16, 16]}
    assert hashlib.sha256(model.read_bytes()).hexdigest() == before


def test_analytics_are_off_and_pinning_is_passed_on() -> None:
    from pinbench.engines.deepsparse import import_deepsparse

    deepsparse = import_deepsparse()
    assert os.environ["NM_DISABLE_ANALYTICS"] == "1"
    from deepsparse.analytics import deepsparse_analytics

    assert deepsparse_analytics._disabled
    r = pinbench.benchmark(
        "squeezenet", engine="deepsparse", scenario="sync", thread_pinning="none", **FAST
    )
    assert r.config.engine_options["thread_pinning_env"] == {
        "NM_BIND_THREADS_TO_CORES": "0",
        "NM_BIND_THREADS_TO_SOCKETS": "0",
    }
    assert deepsparse.__version__ == r.config.engine_version


def test_unsupported_input_type_is_a_one_line_run_error(tmp_path: Path) -> None:
    model = factory.make_all_dtypes_model(tmp_path, dtypes={factory.TensorProto.FLOAT16: "float16"})
    r = cli(str(model), "-s", "sync")
    assert r.returncode == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("pinbench: error:") and "DeepSparse" in last
    assert "Traceback" not in r.stderr


def test_engines_lists_deepsparse_as_available() -> None:
    r = run_pinbench("--engines")
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if x.startswith("deepsparse "))
    assert "1.8.0" in line and "available" in line
