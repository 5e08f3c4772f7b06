"""--plot: a PNG of a real run is written, checked before the run, and costs --help nothing."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pinbench.base.errors import UsageError
from pinbench.report.plot import check_plot_path

from made_results import squeezenet_async

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_plot_file_is_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from pinbench.report.plot import plot_result

    path = tmp_path / "run.png"
    plot_result(squeezenet_async(), path)
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 20_000  # three panels, not a blank canvas
    assert [p.name for p in tmp_path.iterdir()] == ["run.png"]  # no temporary file left


def test_plot_path_is_checked_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UsageError, match=r"\.png"):
        check_plot_path(tmp_path / "run.jpg")
    with pytest.raises(UsageError, match="--plot"):
        check_plot_path(tmp_path / "missing" / "run.png")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name)
    )
    with pytest.raises(UsageError, match=r"pinbench\[plot\]"):
        check_plot_path(tmp_path / "run.png")


def test_cli_plot_and_samples(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    args = ["squeezenet", "-t", "0.3", "-w", "0.05", "-q", "-x", "r.json"]
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", *args, "--plot", "p.png", "--export-samples", "s.csv"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "p.png").read_bytes().startswith(PNG_MAGIC)
    pb = json.loads((tmp_path / "r.json").read_text())["pinbench"]
    assert pb["samples"] == {"path": "s.csv", "format": "csv"}
    rows = (tmp_path / "s.csv").read_text().splitlines()
    assert len(rows) == 1 + pb["result"]["iterations"]


def test_bad_plot_name_is_a_usage_error_before_the_run(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", "squeezenet", "-t", "30", "--plot", "p.gif"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith("pinbench: error: --plot p.gif")


def test_help_imports_neither_numpy_nor_matplotlib() -> None:
    code = (
        "import sys, pinbench.cli as c\n"
        "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print([m for m in ('numpy', 'matplotlib') if m in sys.modules])\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip().splitlines()[-1] == "[]", r.stdout + r.stderr
