"""The JSON and the console of a run keep what they held before the package was layered.

``tests/fixtures/results/before_layers/`` holds four runs recorded with the flat package (the
commands are in each file's ``command_line``). The same commands run again must give every key
the fixtures have, in the same places, and the same configuration; keys added since are listed
here, each with the change that added it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES
from subproc import run_pinbench

BEFORE = FIXTURES / "results" / "before_layers"
# Keys added since the fixtures were recorded (a path prefix each).
ADDED = (
    "pinbench.requested",  # RunSettings beside config (the layered package)
    "pinbench.interference",  # the verdict's measured interference
    "pinbench.cpu_frequency",  # ... and the CPUs' clock
    "pinbench.result.throughput_cv",  # ... its stability over slices
    "pinbench.validity.notes",  # ... notes and unreliable percentiles apart from reasons
    "pinbench.validity.unreliable_percentiles",
    "pinbench.auto_streams.runner_up",  # ... and the noise beside a search's answer
    "pinbench.auto_streams.within_noise",
    "pinbench.auto_streams.candidates[].items_per_sec_ci",
    "pinbench.config.instances",  # the engine instances, one per NUMA node where shared
    "pinbench.streams[].instance",
    "pinbench.startup",  # the time to the first measured iteration
    # process isolation and the GIL's share
    "pinbench.config.isolation",
    "pinbench.result.gil_wait_share",
    "pinbench.streams[].gil_wait_ms",
    "pinbench.streams[].gil_wait_share",
    "pinbench.streams[].pid",
    "pinbench.failure",
    "pinbench.auto_streams.chosen_isolation",
    "pinbench.auto_streams.candidates[].isolation",
    "pinbench.auto_streams.candidates[].gil_wait_share",
    "pinbench.memory",  # RSS before and after the instances, each instance's, the peak
    "pinbench.streams[].core_type",  # a hybrid CPU's core type of each stream
    "pinbench.profile",  # --profile: the profiled pass's operators
    # how far a run got; the server's counters named for what they count
    "pinbench.phase_reached",
    "pinbench.server.arrivals_scheduled",
    "pinbench.server.arrivals_served",
    "pinbench.server.qps_achieved_reliable",
    "pinbench.server.min_queries_for_rate",
    "pinbench.result.throughput_trend",  # the drift rule's trend over the window's slices
    "pinbench.result.warmup",  # what the warmup did (-w N or -w auto)
    "pinbench.counters",  # per-stream counters over the window (--counters)
    "pinbench.energy",  # RAPL energy over the window, or why it is unknown
)
# Console lines added since, by label.
ADDED_LABELS = {
    "Throughput CV over slices",
    "Percentiles Unreliable",
    "Interference (other work on the streams' CPUs)",
    "CPU Frequency (MHz)",
    "Note",
    "Engine Instances",
    "Start-up",
    "Memory (RSS, MiB)",
    "Instance Creation",
    "Counters per inference",
    "Counters note",
    "Energy",
    "Energy note",
}
# Configuration that must be the same; the rest are measurements or describe the machine.
SAME_TOP = ("batch_size", "input_shapes", "num_cores", "scenario", "scheduler", "seconds_to_run",
            "num_streams", "fraction_of_supported_ops", "orig_model_path")  # fmt: skip
OPAQUE = ("pinbench.environment.packages",)  # keyed by what is installed
# Lists whose length is measured: a verdict with no reason now has no reasons[] keys.
MEASURED_LISTS = ("pinbench.validity.reasons[]", "pinbench.validity.notes[]")


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key's dotted path; list elements share the path ``name[]``."""
    if prefix in OPAQUE:
        return set()
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            path = f"{prefix}.{k}" if prefix else k
            out |= {path} | key_paths(v, path)
    elif isinstance(value, list):
        for v in value:
            out |= key_paths(v, f"{prefix}[]")
    return out


def run(name: str, tmp_path: Path) -> tuple[dict[str, Any], str]:
    fixture = json.loads((BEFORE / f"{name}.json").read_text())
    argv = fixture["pinbench"]["command_line"][1:]
    argv[argv.index("-x") + 1] = str(tmp_path / f"{name}.json")
    r = run_pinbench(*argv, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return json.loads((tmp_path / f"{name}.json").read_text()), r.stdout


def labels(console: str) -> list[str]:
    """The labels in order, each once, without "Reason": whether a verdict has reasons, and how
    many, is measured."""
    found = [line.split(": ", 1)[0] for line in console.splitlines() if ": " in line]
    return [label for label in dict.fromkeys(found) if label not in {*ADDED_LABELS, "Reason"}]


@pytest.mark.parametrize("name", ["async", "server", "auto", "sync"])
def test_same_keys_same_configuration_same_console(name: str, tmp_path: Path) -> None:
    before = json.loads((BEFORE / f"{name}.json").read_text())
    now, console = run(name, tmp_path)
    old_keys, new_keys = key_paths(before), key_paths(now)
    assert {k for k in old_keys - new_keys if not k.startswith(MEASURED_LISTS)} == set()
    assert {k for k in new_keys - old_keys if not k.startswith(ADDED)} == set()
    measured = {"num_streams"} if name == "auto" else set()  # the probes chose it
    for key in set(SAME_TOP) - measured:
        assert now[key] == before[key], key
    old_config, new_config = before["pinbench"]["config"], now["pinbench"]["config"]
    for key in set(old_config) - {"num_streams_reason", "engine"} - measured:
        assert new_config[key] == old_config[key], key

    # The reason's words, without the figures the probes measured.
    def words(text: str) -> str:
        return re.sub(r"[0-9.]+", "#", text)

    assert words(new_config["num_streams_reason"]) == words(old_config["num_streams_reason"])
    old_engine, new_engine = old_config["engine"], new_config["engine"]
    # How many instances (sessions) ran changed on purpose: one-core streams share one per
    # NUMA node since then (pinbench.config.instances says which and why).
    same = set(old_engine) - {"version", "instances"} - ({"options"} if measured else set())
    drop = ("sessions",)

    def kept(engine: dict[str, Any]) -> dict[str, Any]:
        options = {k: v for k, v in engine.get("options", {}).items() if k not in drop}
        return {k: options if k == "options" else engine[k] for k in same}

    assert kept(new_engine) == kept(old_engine)
    if "server" in before["pinbench"]:
        for key in ("qps_requested", "arrivals", "arrivals_seed", "drain_seconds"):
            assert now["pinbench"]["server"][key] == before["pinbench"]["server"][key]
    now_labels = [x for x in labels(console) if x not in ADDED_LABELS]
    assert now_labels == labels((BEFORE / f"{name}.txt").read_text())


def test_the_comparison_sees_a_missing_key() -> None:
    before = json.loads((BEFORE / "async.json").read_text())
    changed = json.loads(json.dumps(before))
    del changed["pinbench"]["streams"][0]["latency_ms"]["median_ci"]
    changed["pinbench"]["extra"] = 1
    assert key_paths(before) - key_paths(changed) == set()  # stream 1 still has it
    for s in changed["pinbench"]["streams"]:
        s["latency_ms"].pop("median_ci", None)
    assert key_paths(before) - key_paths(changed) == {"pinbench.streams[].latency_ms.median_ci"}
    assert key_paths(changed) - key_paths(before) == {"pinbench.extra"}
