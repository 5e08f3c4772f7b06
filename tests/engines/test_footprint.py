"""What a run costs around its number: the process's memory (RSS before and after the engine
instances, each instance's creation, the peak) and the times of resolving and loading the
model, creating each instance and each stream's first inferences."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pinbench
from pinbench.base.process import read_memory, read_pss
from pinbench.model.resolve import resolve_model_path
from pinbench.report.run_lines import result_lines

from conftest import FIXTURES

MIB = 1024 * 1024


def cli(tmp_path: Path, *flags: str) -> tuple[dict[str, Any], str]:
    out = tmp_path / "r.json"
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", "squeezenet", "-t", "0.2", "-w", "0", "-x", str(out),
         *flags],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text())["pinbench"], r.stdout


def test_reading_this_process_memory(tmp_path: Path) -> None:
    now = read_memory()
    assert now.rss_bytes is not None and now.peak_bytes is not None
    assert 10 * MIB < now.rss_bytes <= now.peak_bytes
    held = bytearray(64 * MIB)  # touched: resident
    after = read_memory()
    assert after.peak_bytes is not None and after.peak_bytes >= now.rss_bytes + 60 * MIB
    del held
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "status").write_text("Name:\tx\nVmHWM:\t 2000000 kB\nVmRSS:\t 1024 kB\n")
    fixture = read_memory(str(tmp_path))
    assert fixture.rss_bytes == 1024 * 1024 and fixture.peak_bytes == 2_000_000 * 1024
    assert read_memory(str(tmp_path / "none")).rss_bytes is None  # the peak still from getrusage


def test_cli_memory_and_times_are_plausible_and_consistent(tmp_path: Path) -> None:
    d, console = cli(tmp_path)
    mem, start = d["memory"], d["startup"]
    weights = resolve_model_path("squeezenet").stat().st_size
    before, after, peak = mem["rss_before_instances"], mem["rss_after_instances"], mem["peak_rss"]
    assert 10 * MIB < before < after <= peak
    assert mem["instances_growth"] == after - before >= weights // 2  # the weights, at least
    (instance,) = mem["instances"]  # two one-core streams share one session on this machine
    assert instance["growth"] == instance["rss_after"] - instance["rss_before"] > 0
    assert instance["overlapped"] is False  # the other stream waited for it
    assert instance["built_by_stream"] in (0, 1)
    # The times: resolve and model apart, the instance's creation inside the instances part.
    parts = start["parts_seconds"]
    assert parts["resolve"] >= 0 and parts["model"] > 0
    (built,) = start["instances"]
    assert 0 < built["seconds"] <= parts["instances"]
    assert [s["index"] for s in start["streams"]] == [0, 1] == [s["index"] for s in d["streams"]]
    for s in start["streams"]:
        assert 0 < s["bind_seconds"] <= s["seconds"] <= parts["instances"]
        assert len(s["first_inferences_ms"]) == 2  # ONNX Runtime's bind() runs the step twice
        assert all(0 < ms < 1e3 * s["bind_seconds"] for ms in s["first_inferences_ms"])
    assert "Memory (RSS, MiB): " in console and "instance 0 built +" in console
    assert "Instance Creation: " in console and "First Inference (ms): " in console


def test_cli_one_instance_per_stream_has_a_figure_each(tmp_path: Path) -> None:
    d, console = cli(tmp_path, "--instances", "stream")
    mem, start = d["memory"], d["startup"]
    assert (
        [i["index"] for i in mem["instances"]] == [0, 1] == [i["index"] for i in start["instances"]]
    )
    for i in mem["instances"]:
        assert isinstance(i["overlapped"], bool) and i["growth"] is not None
    assert {i["built_by_stream"] for i in start["instances"]} == {0, 1}
    assert "2 instances and 2 streams" in console


def test_openvino_compile_counts_as_instance_creation() -> None:
    pytest.importorskip("openvino")
    r = pinbench.benchmark("squeezenet", engine="openvino", time=0.2, warmup_time=0)
    assert r.startup is not None and r.memory is not None
    assert len(r.startup.instances) == r.config.engine_instances == 2  # compiled per stream
    assert all(i.seconds > 0 for i in r.startup.instances)
    assert all(len(s.first_inferences_ms) == 1 for s in r.startup.streams)


def test_an_engine_that_times_nothing_says_so() -> None:
    sys.path.insert(0, str(FIXTURES))
    from user_engine import SubclassEngine  # its bind() runs the step without check_step

    r = pinbench.benchmark("squeezenet", engine=SubclassEngine, time=0.2, warmup_time=0)
    assert r.startup is not None
    assert [s.first_inferences_ms for s in r.startup.streams] == [(), ()]
    lines = result_lines(r)
    assert any("First Inference (ms): not timed by the engine" in line for line in lines)


def test_process_isolation_counts_each_workers_memory(tmp_path: Path) -> None:
    """--isolation process: the supervisor holds no instance; each worker's PSS (shared pages
    split between the processes mapping them) per stream, and their total, in JSON and console."""
    doc, stdout = cli(tmp_path, "--isolation", "process", "-nstreams", "2")
    mem, streams = doc["memory"], doc["streams"]
    workers = mem["workers"]
    assert [w["stream"] for w in workers] == [0, 1]
    assert [w["pid"] for w in workers] == [s["pid"] for s in streams]
    for w in workers:
        assert 10 * MIB < w["pss"] <= w["rss"] <= w["peak_rss"], w
    assert mem["workers_pss_total"] == sum(w["pss"] for w in workers)
    line = next(ln for ln in stdout.splitlines() if ln.startswith("Memory (RSS, MiB): "))
    each = " + ".join(f"{w['pss'] / MIB:.1f}" for w in workers)
    assert f"Workers (PSS, MiB): {each} = {mem['workers_pss_total'] / MIB:.1f}" in line


def test_thread_streams_have_no_workers(tmp_path: Path) -> None:
    doc, stdout = cli(tmp_path, "-nstreams", "1")
    assert doc["memory"]["workers"] == [] and doc["memory"]["workers_pss_total"] is None
    assert "Workers" not in stdout


def test_reading_the_pss(tmp_path: Path) -> None:
    pss = read_pss()
    now = read_memory().rss_bytes
    assert pss is not None and now is not None and 0 < pss <= now
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "smaps_rollup").write_text("Rss:  2048 kB\nPss:  1536 kB\n")
    assert read_pss(str(tmp_path)) == 1536 * 1024
    assert read_pss(str(tmp_path / "missing")) is None
