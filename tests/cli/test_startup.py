"""The start-up of a run: from the command (or the call) to the first measured iteration."""

from __future__ import annotations

import json
import math
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pinbench
from pinbench.base.process import exec_start_ns, process_start_ns
from pinbench.result.startup import STARTUP_PARTS


def test_process_start_is_before_now_on_the_monotonic_clock() -> None:
    code = (
        "import time; time.sleep(0.3); from pinbench.base.process import process_start_ns; "
        "print(time.monotonic_ns() - process_start_ns())"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) >= 0.29e9  # the sleep, at least (ticks are 10 ms)
    assert process_start_ns() <= time.monotonic_ns()
    assert process_start_ns("/nonexistent") > 0  # falls back to now


def test_api_startup_parts_add_up(tmp_path: Path) -> None:
    before = time.monotonic_ns()
    r = pinbench.benchmark("squeezenet", time=0.2, warmup_time=0.1)
    after = time.monotonic_ns()
    s = r.startup
    assert s is not None and s.origin == "call"
    names = [n for n, _ in s.parts]
    assert names == [n for n, _ in STARTUP_PARTS if n != "interpreter"]
    assert all(v >= 0 for _, v in s.parts)
    assert math.isclose(sum(v for _, v in s.parts), s.seconds_to_first_iteration, rel_tol=1e-6)
    assert dict(s.parts)["warmup"] == pytest.approx(0.1, abs=0.05)
    assert s.seconds_to_first_warmup_iteration == pytest.approx(
        s.seconds_to_first_iteration - dict(s.parts)["warmup"]
    )
    assert s.seconds_to_first_iteration < (after - before) / 1e9
    d = pinbench.json_document(r)["pinbench"]["startup"]
    assert d["from"] == "call" and list(d["parts_seconds"]) == names


def test_cli_counts_from_the_process_start(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    started = time.monotonic_ns()
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", "squeezenet", "-t", "0.2", "-w", "0", "-x", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    elapsed = (time.monotonic_ns() - started) / 1e9
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())["pinbench"]["startup"]
    assert d["from"] == "process start"
    assert list(d["parts_seconds"]) == [n for n, _ in STARTUP_PARTS]
    assert 0 < d["seconds_to_first_iteration"] < elapsed
    assert d["seconds_to_first_iteration"] == pytest.approx(sum(d["parts_seconds"].values()))
    assert "Start-up: " in r.stdout and "from the process start" in r.stdout


def test_a_shell_that_waits_before_it_execs_pinbench_is_not_counted(tmp_path: Path) -> None:
    """``sh -c 'sleep 2; exec pinbench ...'``: one process, forked 2 s before pinbench began. The
    kernel's start time is the fork's; the interpreter's share is then unknown, not 2 s."""
    out = tmp_path / "r.json"
    command = f"sleep 2; exec {shlex.quote(sys.executable)} -m pinbench squeezenet -t 0.2 -w 0"
    r = subprocess.run(
        ["sh", "-c", f"{command} -x {shlex.quote(str(out))}"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())["pinbench"]["startup"]
    assert d["from"] == "command start" and d["unknown_parts"] == ["interpreter"]
    assert "interpreter" not in d["parts_seconds"]
    assert not d["seconds_to_first_iteration"] >= 2  # the sleep is not pinbench's start-up
    assert "from the command start" in r.stdout and "interpreter unknown" in r.stdout


def write_proc(root: Path, age_s: float, active_s: float) -> None:
    """A /proc/self of a process started ``age_s`` ago that ran or waited to run ``active_s``."""
    ticks = os.sysconf("SC_CLK_TCK")
    start = (time.clock_gettime_ns(time.CLOCK_BOOTTIME) - int(age_s * 1e9)) * ticks // 10**9
    (root / "self").mkdir(parents=True)
    fields = ["S", *["0"] * 18, str(start)]  # field 22 (starttime) is the 20th after ")"
    (root / "self" / "stat").write_text(f"1 (sh) {' '.join(fields)} 0 0\n")
    (root / "self" / "schedstat").write_text(f"{int(active_s * 1e9)} 0 5\n")


def test_the_exec_is_known_only_while_the_process_was_not_blocked(tmp_path: Path) -> None:
    write_proc(tmp_path / "busy", age_s=3, active_s=2.9)  # an interpreter that started slowly
    began = exec_start_ns(str(tmp_path / "busy"))
    assert began is not None and began == pytest.approx(time.monotonic_ns() - 3e9, abs=0.2e9)
    write_proc(tmp_path / "waited", age_s=3, active_s=0.1)  # a shell that waited for a command
    assert exec_start_ns(str(tmp_path / "waited")) is None
    assert exec_start_ns(str(tmp_path / "missing")) is None
