from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SYSFS = FIXTURES / "sysfs"
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def allowed_cpus() -> list[int]:
    """The CPUs this test process may run on (the real machine)."""
    return sorted(os.sched_getaffinity(0))


def sysfs(name: str) -> str:
    return str(SYSFS / name)
