"""Runs Python snippets in a child process with a timeout: for anything that could hang or abort."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any


def run_python(
    code: str, timeout: float = 60.0, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )


def run_pinbench(
    *args: str, timeout: float = 120.0, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """The real ``pinbench`` command (``python -m pinbench``) in a child process; ``kwargs`` go
    to ``subprocess.run`` (``env``, ``cwd``)."""
    return subprocess.run(
        [sys.executable, "-m", "pinbench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )


def run_pinbench_json(tmp_path: Path, *args: str, timeout: float = 120.0) -> dict[str, Any]:
    """``pinbench ARGS -x tmp_path/r.json``, which must exit 0; the JSON it wrote."""
    out = tmp_path / "r.json"
    r = run_pinbench(*args, "-x", str(out), timeout=timeout)
    assert r.returncode == 0, r.stderr
    data: dict[str, Any] = json.loads(out.read_text())
    return data
