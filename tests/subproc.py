"""Runs Python snippets in a child process with a timeout: for anything that could hang or abort."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


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
