"""Your own engine: file.py:Class, module:Class, entry points, a class given to benchmark(), and
``pinbench --engines``; the user's classes are in tests/fixtures/user_engine.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pinbench
from pinbench.base.errors import UsageError
from pinbench.engines import engine_class, list_engines

from conftest import FIXTURES
from engine_checks import NCORES, SCENARIOS, check_scenario, transformer_model
from subproc import run_pinbench

ENGINE_FILE = FIXTURES / "user_engine.py"
FAST_CLI = ("-s", "sync", "-t", "0.2", "-w", "0.05", "-q")


def cli(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return run_pinbench(*args, "-t", "0.2", "-w", "0.05", **kwargs)


@pytest.fixture
def user_engine() -> object:
    """The fixture module, imported through ``-e file.py:Class`` as pinbench imports it."""
    engine_class(f"{ENGINE_FILE}:NumpyEngine")
    module = sys.modules["pinbench_user_engine_user_engine"]
    module.CREATED.clear()
    return module


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("cls", ["NumpyEngine", "SubclassEngine"])
def test_scenarios_on_real_models(
    scenario: str, cls: str, user_engine: object, tmp_path: Path
) -> None:
    spec = f"{ENGINE_FILE}:{cls}"
    check_scenario(spec, scenario, "squeezenet")
    check_scenario(spec, scenario, str(transformer_model(tmp_path)), sequence_length=16)
    created = user_engine.CREATED  # type: ignore[attr-defined]
    # Each instance was built on its stream's pinned thread, with that stream's cores.
    if scenario == "async":
        assert sorted(c for c, _ in created) == [1] * (2 * NCORES)
        assert all(len(cpus) == 1 for _, cpus in created)
    else:
        assert [c for c, _ in created] == [NCORES, NCORES]


def test_original_form_from_a_file_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = cli("squeezenet", "-e", f"{ENGINE_FILE}:NumpyEngine", "-x", str(out))
    assert r.returncode == 0, r.stderr
    assert "Throughput (items/sec):" in r.stdout
    d = json.loads(out.read_text())
    engine = d["pinbench"]["config"]["engine"]
    assert engine["name"] == f"{ENGINE_FILE}:NumpyEngine"
    assert engine["version"] == "0.1"  # the module's __version__
    assert engine["instances"] == NCORES  # async: one per stream
    assert engine["options"]["inputs"] == "pinbench"
    assert d["scheduler"] == "None" and d["fraction_of_supported_ops"] is None


def test_generate_random_inputs_is_used_when_the_class_has_it(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = cli("squeezenet", "-e", f"{ENGINE_FILE}:GeneratingEngine", "-s", "sync", "-x", str(out))
    assert r.returncode == 0, r.stderr
    options = json.loads(out.read_text())["pinbench"]["config"]["engine"]["options"]
    assert options["inputs"] == "generate_random_inputs()"


def test_module_form_from_the_current_folder_with_the_console_script() -> None:
    # A console script does not put the current folder on sys.path; pinbench searches it.
    code = "import sys; from pinbench.cli import main; sys.exit(main(sys.argv[1:]))"
    r = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            code,
            "squeezenet",
            "-e",
            "user_engine:SubclassEngine",
            *FAST_CLI,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=FIXTURES,
    )
    assert r.returncode == 0, r.stderr


def test_a_class_given_to_benchmark(user_engine: object) -> None:
    cls = user_engine.NumpyEngine  # type: ignore[attr-defined]
    r = pinbench.benchmark("squeezenet", engine=cls, scenario="sync", time=0.2, warmup_time=0.05)
    assert r.iterations > 0 and r.config.engine_name == "NumpyEngine"


def test_entry_point_engines_are_found_and_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "fixture_engines-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fixture-engines\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[pinbench.engines]\n"
        "fixture-engine = user_engine:SubclassEngine\n"
        "broken-engine = user_engine_nowhere:Engine\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(FIXTURES))
    assert engine_class("fixture-engine").name == "subclass-engine"
    statuses = {s.name: s for s in list_engines()}
    assert statuses["fixture-engine"].available
    assert statuses["fixture-engine"].version == "2.0"
    assert statuses["fixture-engine"].source == "user_engine:SubclassEngine"
    assert not statuses["broken-engine"].available
    assert "cannot be imported" in statuses["broken-engine"].why
    with pytest.raises(UsageError, match="broken-engine"):
        engine_class("broken-engine")
    # The CLI sees it too.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(FIXTURES)])}
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", "squeezenet", "-e", "fixture-engine", *FAST_CLI],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert r.returncode == 0, r.stderr


def test_engines_lists_every_engine() -> None:
    r = run_pinbench("--engines")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["engine", "version", "status"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert {"onnxruntime", "openvino", "deepsparse"} <= set(rows)
    assert "available" in rows["onnxruntime"]
    for name in ("openvino", "deepsparse"):  # available, or why not and how to mend it
        assert "available" in rows[name] or f"pinbench[{name}]" in rows[name]


@pytest.mark.parametrize(
    ("engine", "code", "message"),
    [
        (f"{ENGINE_FILE}:NotAnEngine", 2, "neither a pinbench Engine subclass"),
        (f"{ENGINE_FILE}:AbstractEngine", 2, "does not implement bind, create_instance"),
        (f"{ENGINE_FILE}:Missing", 2, "defines no 'Missing'"),
        ("no/such/file.py:Engine", 2, "no such file"),
        ("no_such_module_anywhere:Engine", 2, "cannot import module"),
        ("no-such-engine", 2, "unknown engine"),
        (f"{ENGINE_FILE}:FailingEngine", 1, "this engine refuses every input"),
    ],
)
def test_bad_engines_are_one_line_errors(engine: str, code: int, message: str) -> None:
    r = cli("squeezenet", "-e", engine, "-q")
    assert r.returncode == code, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
