"""The code stays lint-clean, typed, and the extension's stub matches the extension."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is in the test extra")
def test_ruff_check() -> None:
    r = run("ruff", "check", "python", "tests", "benchmarks")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is in the test extra")
def test_ruff_format() -> None:
    r = run("ruff", "format", "--check", "python", "tests", "benchmarks")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_strict() -> None:
    pytest.importorskip("mypy")
    r = run(sys.executable, "-m", "mypy")
    assert r.returncode == 0, r.stdout + r.stderr


def test_core_stub_matches_the_extension() -> None:
    pytest.importorskip("mypy")
    r = run(
        sys.executable,
        "-m",
        "mypy.stubtest",
        "pinbench._core",
        "--allowlist",
        "tests/stubtest_allowlist.txt",
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys, pinbench.cli.benchmark as c\n"
        "try:\n    c.build_parser().parse_args(['--help'])\nexcept SystemExit:\n    pass\n"
        "mods = ('numpy', 'onnx', 'onnxruntime', 'pinbench._core')\n"
        "heavy = [m for m in mods if m in sys.modules]\n"
        "print(heavy)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert r.stdout.strip().splitlines()[-1] == "[]", r.stdout + r.stderr
