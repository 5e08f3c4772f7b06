"""Every Python example in README.md and docs/ runs, as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from subproc import run_python

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = [
    (f"{page.stem}{i}", code)
    for page in PAGES
    for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S))
]


def test_readme_has_examples() -> None:
    assert any(name.startswith("README") for name, _ in EXAMPLES)
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("code", [c for _, c in EXAMPLES], ids=[n for n, _ in EXAMPLES])
def test_readme_example_runs(code: str) -> None:
    r = run_python(code, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()
