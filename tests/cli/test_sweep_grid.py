"""pinbench sweep over models x engines x core counts: the CSV with deepsparse.benchmark_sweep's
columns (one file, or one per model), a point that fails as a row of its own, the grid checked
before anything runs, and an interrupted sweep that still writes what it measured."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from onnx import TensorProto

from pinbench.base.errors import UsageError
from pinbench.cli.sweep import main as sweep_main
from pinbench.report.csvfile import ORIGINAL_COLUMNS
from pinbench.settings import RunSettings, SweepSettings

from conftest import FIXTURES
from onnx_factory import make_conv_model, make_identity_model
from subproc import run_pinbench

NCORES = len(os.sched_getaffinity(0))
two_cores = pytest.mark.skipif(NCORES < 2, reason="the grid runs on 1 and 2 cores")
PARALLEL = f"{FIXTURES / 'sleep_engine.py'}:ParallelSleeper"  # 3 ms per batch of 1


def sweep(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return run_pinbench("sweep", *args, timeout=timeout)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0][: len(ORIGINAL_COLUMNS)]) == ORIGINAL_COLUMNS
    return [dict(zip(rows[0], r)) for r in rows[1:]]


@two_cores
def test_models_engines_cores_grid_with_a_failing_model(tmp_path: Path) -> None:
    pytest.importorskip("openvino")
    a = make_identity_model(tmp_path, [("x", TensorProto.FLOAT, [1, 4])], name="a.onnx")
    b = make_conv_model(tmp_path, name="b.onnx")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not a model")
    out, table, folder = tmp_path / "s.json", tmp_path / "all.csv", tmp_path / "per-model"
    r = sweep(str(a), str(b), str(broken), "--engines", "onnxruntime,openvino",
              "--cores", "1,2", "--streams", "1", "-t", "0.1", "-w", "0", "-x", str(out),
              "--csv", str(table), "--csv-dir", str(folder))  # fmt: skip
    # The sweep went on past the model that does not load, and says so at the end.
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        "pinbench sweep: error: 4 of 12 configurations failed (see the table)"
    )
    assert "sweep 12/12: " in r.stderr and "Traceback" not in r.stderr

    rows = read_csv(table)
    good = [row for row in rows if row["Verdict"] != "failed"]
    assert len(rows) == 12 and len(good) == 8
    assert {(row["Model"], row["Engine"], row["Num Cores"]) for row in good} == {
        (str(m), e, c) for m in (a, b) for e in ("onnxruntime", "openvino") for c in ("1", "2")
    }
    for row in good:
        assert float(row["Items per second"]) > 0 and row["Error"] == ""
        assert float(row["Median Latency"]) > 0 and float(row["Std Latency"]) >= 0
        assert row["Scenario"] == "async" and row["Num Streams"] == "1" and row["Batch Size"] == "1"
        assert row["Command"].startswith(f"pinbench {row['Model']} -e {row['Engine']} -b 1")
    assert {row["Input Shape"] for row in good} == {"x:[1,4]", "image:[1,3,16,16]"}
    failed = [row for row in rows if row["Verdict"] == "failed"]
    assert {row["Model"] for row in failed} == {str(broken)} and len(failed) == 4
    assert all(
        "not an ONNX model" in row["Error"] and row["Items per second"] == "" for row in failed
    )
    assert all("\n" not in row["Error"] and len(row["Error"]) <= 200 for row in failed)

    per_model = sorted(folder.glob("benchmark_*.csv"))  # as deepsparse.benchmark_sweep named them
    assert [p.name.split("_")[1] for p in per_model] == ["a", "b", "broken"]
    assert [len(read_csv(p)) for p in per_model] == [4, 4, 4]

    data = json.loads(out.read_text())
    assert data["schema_version"] == 2 and data["points_failed"] == 4
    assert data["grid"]["engines"] == ["onnxruntime", "openvino"] and data["grid"]["num_cores"] == [
        1,
        2,
    ]
    best = [m["best"] for m in data["models"]]
    assert best[0] in range(4) and best[1] in range(4, 8) and best[2] is None
    assert data["results"][8] is None and data["points"][8]["error"] == failed[0]["Error"]
    lines = r.stdout.splitlines()
    assert lines[0] == "Sweep: 3 models, async, 12 configurations, 0.1 s each"
    assert sum(line.startswith("Model: ") for line in lines) == 3
    assert lines[-1].startswith(f"Failed: {broken}, 4 configurations: model file")


def test_the_grid_is_checked_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], keep_logging: None
) -> None:
    model = make_identity_model(tmp_path, [("x", TensorProto.FLOAT, [1, 4])])
    out = tmp_path / "s.json"
    r = sweep(str(model), str(tmp_path / "missing.onnx"), "-t", "0.1", "-w", "0")
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert (
        r.stderr == f"pinbench sweep: error: model file '{tmp_path / 'missing.onnx'}' not found\n"
    )
    for args, needle in (
        ([str(model), "--engines", "onnxruntime,nosuchengine"], "nosuchengine"),
        ([str(model), "--cores", f"{NCORES + 1}"], f"{NCORES + 1}"),
        ([str(model), "--cores", "1,many"], "--cores"),
        ([str(model), "-s", "sync,server"], "--find-qps"),
        ([str(model), "-x", str(model)], "is a model of the sweep"),
        ([str(model), "-x", str(out), "--csv", str(out)], "writes there too"),
    ):
        try:
            code = sweep_main([*args, "-t", "0.1", "-w", "0"])
        except SystemExit as e:  # argparse's own errors
            code = int(e.code or 0)
        stdout, stderr = capsys.readouterr()
        assert code == 2 and stdout == "", (args, stderr)
        assert stderr.count("\n") == 1 and needle in stderr, (args, stderr)
    assert model.read_bytes().startswith(b"\x08")  # the model is still a model
    assert not out.exists()


def test_settings_fill_and_check_the_axes() -> None:
    base = RunSettings.from_kwargs("squeezenet", scenario="sync", num_cores=2)
    s = SweepSettings(base, models=("a", "b", "a"), scenarios=("sync", "multistream")).validate()
    assert s.models == ("a", "b") and s.scenarios == ("sync", "async")
    assert s.cores == (2,) and s.base.layout.num_cores is None and s.engines == ("onnxruntime",)
    assert s.validate() == s  # validated settings validate again unchanged
    both = SweepSettings(base, cores=(1, "MAX", 1))
    with pytest.raises(UsageError, match="give the cores once"):
        both.validate()
    s = SweepSettings(RunSettings.from_kwargs("m"), cores=(1, "MAX", 1)).validate()
    assert s.cores == (1, "max")
    with pytest.raises(UsageError, match="runs one stream"):
        SweepSettings(base, streams=(1, 2)).validate()
    # sync among other scenarios runs its one stream and lets the others take --streams
    SweepSettings(base, streams=(1, 2), scenarios=("sync", "async")).validate()


def test_a_folder_stands_for_its_models(tmp_path: Path) -> None:
    from pinbench.search.sweep_grid import expand_models

    make_identity_model(tmp_path / "zoo", [("x", TensorProto.FLOAT, [1, 2])], name="b.onnx")
    make_identity_model(tmp_path / "zoo" / "sub", [("x", TensorProto.FLOAT, [1, 2])], name="a.onnx")
    held = make_identity_model(tmp_path / "held", [("x", TensorProto.FLOAT, [1, 2])])
    found = expand_models([str(tmp_path / "zoo"), str(held.parent), "squeezenet"])
    assert found == (str(tmp_path / "zoo" / "b.onnx"), str(tmp_path / "zoo" / "sub" / "a.onnx"),
                     str(held.parent), "squeezenet")  # fmt: skip
    (tmp_path / "none").mkdir()
    with pytest.raises(UsageError, match=r"holds no \.onnx file"):
        expand_models([str(tmp_path / "none")])


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_an_interrupted_sweep_writes_what_it_measured(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    model = make_identity_model(tmp_path, [("x", TensorProto.FLOAT, [1, 4])])
    out, table = tmp_path / "s.json", tmp_path / "s.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pinbench", "sweep", str(model), "-e", PARALLEL, "--streams", "1",
         "--batch", "1,2,3,4", "-t", "0.3", "-w", "0", "-x", str(out), "--csv", str(table)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    seen = []
    guard = time.monotonic() + 120  # against a hang only; nothing here is timed
    for line in proc.stderr:  # the first point has finished: its progress line is out
        seen.append(line)
        if "sweep 1/4: " in line or time.monotonic() > guard:
            break
    proc.send_signal(sig)
    stdout, rest = proc.communicate(timeout=120)
    stderr = "".join(seen) + rest
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    assert (
        stderr.strip().splitlines()[-1].startswith("pinbench sweep: error: interrupted after ")
        and "those measured are written" in stderr
    )
    data = json.loads(out.read_text())
    assert data["interrupted"] is True and data["points_planned"] == 4
    assert data["interrupt"] == ("Terminated" if sig == signal.SIGTERM else "KeyboardInterrupt")
    done = data["points"]
    assert 1 <= len(done) < 4 and done[0]["interrupted"] is False and done[0]["iterations"] > 0
    rows = read_csv(table)
    assert len(rows) == len(done) and rows[0]["Verdict"] in ("valid", "invalid")
    assert f"Interrupted: after {len(done)} of 4 configurations" in stdout
