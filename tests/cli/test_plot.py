"""--plot: a PNG of a real run is written, checked before the run, and costs --help nothing."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pinbench.base.errors import UsageError
from pinbench.base.files import guard_outputs
from pinbench.report.outputs import plot_output

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


def check_plot_path(path: Path) -> None:
    guard_outputs([plot_output(path)])


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


def test_histogram_bins_follow_the_sample_count() -> None:
    np = pytest.importorskip("numpy")
    from pinbench.report.plot import histogram_bins

    rng = np.random.default_rng(0)
    few, many = rng.normal(10, 1, 50), rng.normal(10, 1, 100_000)
    assert 10 <= len(histogram_bins(few)) - 1 < len(histogram_bins(many)) - 1 <= 120
    assert histogram_bins(np.full(20, 3.0)) == 10  # every latency the same


def test_unreliable_percentiles_are_drawn_as_such() -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from pinbench.report.plot import _histogram

    r = squeezenet_async()  # 0.3 s: far fewer than the 10,000 iterations p99.9 needs
    ax = Figure().add_subplot()
    _histogram(ax, r)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    p999 = next(x for x in labels if x.startswith("p99.9 "))
    assert "unreliable" in p999
    p50 = next(x for x in labels if x.startswith("p50 "))
    assert ("unreliable" in p50) == r.validity.unreliable_at(50.0)
    styles = {line.get_label(): (line.get_color(), line.get_linestyle()) for line in ax.lines}
    assert len({v for k, v in styles.items() if k.startswith("p")}) == len(
        [k for k in styles if k.startswith("p")]
    )  # every percentile line told apart
