from __future__ import annotations

import importlib.util
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(Path(__file__).parent))

# The path of one machine's sysfs tree by its name in make_sysfs.py (``sysfs("2s_8c_2t")``).
SysfsTree = Callable[[str], str]


@pytest.fixture
def allowed_cpus() -> list[int]:
    """The CPUs this test process may run on (the real machine)."""
    return sorted(os.sched_getaffinity(0))


@pytest.fixture(scope="session")
def sysfs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every fixture machine's sysfs tree, written once per session by make_sysfs.py."""
    make_sysfs = sys.modules.get("make_sysfs")  # test_properties imports it too
    if make_sysfs is None:
        # Loaded by path rather than by putting fixtures/ (the user engines' modules) on sys.path
        # for every test from here.
        spec = importlib.util.spec_from_file_location("make_sysfs", FIXTURES / "make_sysfs.py")
        assert spec is not None and spec.loader is not None
        make_sysfs = sys.modules["make_sysfs"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(make_sysfs)  # registered first: its dataclasses look it up
    root = tmp_path_factory.mktemp("sysfs")
    make_sysfs.write_all(root)
    return root


@pytest.fixture
def sysfs(sysfs_root: Path) -> SysfsTree:
    """The tree of a machine by name; an unknown name fails rather than reading the real /sys."""

    def tree(name: str) -> str:
        path = sysfs_root / name
        assert path.is_dir(), f"no sysfs fixture machine {name!r} in make_sysfs.py"
        return str(path)

    return tree


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """sweep's main() sets up the pinbench logger on the (captured) stderr: put it back."""
    logger = logging.getLogger("pinbench")
    handlers, level, propagate = logger.handlers[:], logger.level, logger.propagate
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate
