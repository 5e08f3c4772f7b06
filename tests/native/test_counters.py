"""Per-stream counters: software events counted for real on the stream threads (thread and process
streams), a pinned stream that never moves and one made to move, the verdict's migrated and
preemption rules, the notes read from the errno, and the hardware events on a stand-in PMU
(this machine kind has none)."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import pinbench
from pinbench import _core
from pinbench.result import validity
from pinbench.result.counters import HARDWARE_EVENTS, SOFTWARE_EVENTS, Counters, counters_of
from pinbench.result.interference import CpuGroupLoad, Interference
from pinbench.run.hardware import hardware_counters

from subproc import run_pinbench, run_pinbench_json

RUN = {"warmup": 0.05, "duration": 0.2}


@pytest.fixture
def fake_pmu() -> Iterator[Callable[[str], None]]:
    """Sets the stand-in PMU's answer; the kernel's again after the test."""
    yield _core.use_fake_pmu
    _core.use_fake_pmu(None)


def counted(m: pinbench.Measurement) -> Counters:
    c = hardware_counters(m)
    assert c is not None
    return c


def test_software_events_are_counted_on_each_pinned_stream(allowed_cpus: list[int]) -> None:
    streams = min(2, len(allowed_cpus))
    cpus = [[c] for c in allowed_cpus[:streams]]
    m = pinbench.measure(pinbench.spin(20_000), streams=streams, cpus=cpus, counters="software",
                         **RUN)  # fmt: skip
    c = counted(m)
    assert c.asked == "software" and len(c.streams) == streams
    assert set(c.opened) == set(SOFTWARE_EVENTS)  # root here: the kernel's events too
    for s in c.streams:
        assert [e.name for e in s.events] == list(SOFTWARE_EVENTS)
        assert s.value("task_clock") and s.value("task_clock") > 0  # type: ignore[operator]
        # Pinned to one CPU before the counters were opened: it never moved in its window.
        assert s.value("cpu_migrations") == 0
        assert s.per_inference("task_clock") == pytest.approx(
            s.value("task_clock") / s.iterations  # type: ignore[operator]
        )
    assert c.ipc is None and not c.notes
    assert validity.migrated(c, [s.cpus for s in m.streams]) == []


def test_counters_off_opens_nothing() -> None:
    m = pinbench.measure(pinbench.spin(20_000), counters="off", **RUN)
    assert all(s.counters == () for s in m.streams) and hardware_counters(m) is None
    with pytest.raises(pinbench.UsageError, match="counters must be one of"):
        pinbench.measure(pinbench.spin(20_000), counters="hardware", **RUN)


def hopping(cpus: list[int]) -> Callable[[int], Callable[[], None]]:
    """Steps that move their own thread to the next of ``cpus`` at every call."""

    def make_step(i: int) -> Callable[[], None]:
        calls = [0]

        def step() -> None:
            calls[0] += 1
            os.sched_setaffinity(0, {cpus[calls[0] % len(cpus)]})

        return step

    return make_step


def test_a_stream_that_moves_is_counted_and_judged(allowed_cpus: list[int]) -> None:
    if len(allowed_cpus) < 2:
        pytest.skip("needs two CPUs to move between")
    m = pinbench.measure(hopping(allowed_cpus[:2]), cpus=[[allowed_cpus[0]]], counters="software",
                         iterations=50, warmup=0)  # fmt: skip
    c = counted(m)
    moved = c.streams[0].value("cpu_migrations")
    assert moved is not None and moved >= 40  # about one a call
    reasons = validity.migrated(c, [list(s.planned_cpus) for s in m.streams])
    assert [r.rule for r in reasons] == ["migrated"] and "stream 0 " in reasons[0].message
    # A stream given several CPUs may move among them by design.
    assert validity.migrated(c, [allowed_cpus[:2]]) == []
    # The step changed its own thread's mask, as OpenVINO's executor does around each request:
    # once the sampler saw a mask change in the window, the moves are the engine's (a note).
    planned = [list(s.planned_cpus) for s in m.streams]
    quiet = Interference((), 1.0, (0, 1))
    assert validity.engine_moved_threads(c, planned, quiet) == []
    remasked = dataclasses.replace(quiet, remasked_threads=1)
    (note,) = validity.engine_moved_threads(c, planned, remasked)
    assert note.rule == "engine_moved_threads" and "stream 0 " in note.message


def test_worker_processes_send_their_counters_back(allowed_cpus: list[int]) -> None:
    from isolation_steps import noop

    streams = min(2, len(allowed_cpus))
    m = pinbench.measure(noop, streams=streams, isolation="process", counters="software",
                         cpus=[[c] for c in allowed_cpus[:streams]], **RUN)  # fmt: skip
    c = counted(m)
    assert len(c.streams) == streams
    for s in c.streams:
        assert s.iterations > 0 and s.value("task_clock") and s.value("cpu_migrations") == 0


def test_hardware_events_on_a_present_pmu(fake_pmu: Callable[[str], None]) -> None:
    fake_pmu("present")
    m = pinbench.measure(pinbench.spin(20_000), counters="auto", **RUN)
    c = counted(m)
    assert set(c.opened) == set(SOFTWARE_EVENTS) | set(HARDWARE_EVENTS) and not c.notes
    assert c.ipc == pytest.approx(2.0, rel=0.05)  # the stand-in: instructions 2 per ns, cycles 1
    assert c.per_inference("cycles") == pytest.approx(
        c.totals["cycles"] / c.iterations  # type: ignore[operator]
    )


def test_multiplexed_events_are_scaled(fake_pmu: Callable[[str], None]) -> None:
    fake_pmu("multiplexed")
    c = counted(pinbench.measure(pinbench.spin(20_000), counters="all", **RUN))
    cycles = next(e for e in c.streams[0].events if e.name == "cycles")
    assert cycles.multiplexed and cycles.running_ns * 2 in (
        cycles.enabled_ns,
        cycles.enabled_ns - 1,
    )
    assert cycles.value == pytest.approx(cycles.raw * cycles.enabled_ns / cycles.running_ns)
    assert any("multiplexed" in n and "scaled" in n for n in c.notes)


@pytest.mark.parametrize(
    ("answer", "words"),
    [("not_permitted", "not permitted by kernel.perf_event_paranoid = "),
     ("absent", "no hardware PMU")],
)  # fmt: skip
def test_missing_hardware_events_are_a_note(
    fake_pmu: Callable[[str], None], answer: str, words: str
) -> None:
    fake_pmu(answer)
    c = counted(pinbench.measure(pinbench.spin(20_000), counters="all", **RUN))
    assert set(c.opened) == set(SOFTWARE_EVENTS) and c.ipc is None
    notes = [n for n in c.notes if words in n]
    assert len(notes) == 1 and "cycles, instructions" in notes[0]


def raw(name: str, value: int, err: int = 0, hardware: bool = False) -> tuple:  # type: ignore[type-arg]
    return (name, hardware, err, False, value, 10**9, 10**9)


def test_notes_name_the_reason_from_the_errno() -> None:
    readings = [
        [raw("task_clock", 5), raw("cpu_migrations", 0, errno.EACCES),
         raw("cycles", 0, errno.ENOENT, True), raw("instructions", 0, errno.ENOSYS, True)]
    ]  # fmt: skip
    c = counters_of("all", readings, [10], [1.0], paranoid=2)
    assert c is not None and c.opened == ("task_clock",)
    assert any("cpu_migrations not permitted by kernel.perf_event_paranoid = 2: set it to 1" in n
               for n in c.notes)  # fmt: skip
    assert any("no hardware PMU" in n and "cycles" in n for n in c.notes)
    assert any("instructions could not be opened: ENOSYS" in n for n in c.notes)
    # Asked for software only: a missing PMU is nothing to say.
    soft = counters_of("software", [[raw("task_clock", 5)]], [10], [1.0])
    assert soft is not None and soft.notes == ()
    assert counters_of("off", readings, [10], [1.0]) is None


def test_preemption_joins_the_interference_evidence() -> None:
    def run(switches: int, seconds: float) -> Counters:
        c = counters_of("software", [[raw("involuntary_switches", switches)]], [100], [seconds])
        assert c is not None
        return c

    busy = run(300, 1.0)  # 300 a second on a CPU of its own
    reasons = validity.preempted(busy, [[0]])
    assert [r.rule for r in reasons] == ["interference"]
    assert "stream 0 (CPU 0) 300/s" in reasons[0].message
    assert validity.preempted(run(50, 1.0), [[0]]) == []  # under the limit
    assert validity.preempted(run(10, 0.05), [[0]]) == []  # too few to judge
    assert validity.preempted(busy, [[0, 1]]) == []  # its own pool may preempt it there
    assert validity.preempted(busy, [[0], [0]]) == []  # streams sharing a CPU preempt each other

    # Where the CPU counters measured the CPU, preemption counts only beside other work seen
    # there: the run's own threads preempt its streams too (a quiet --isolation process run).
    def load(other: float) -> Interference:
        return Interference((CpuGroupLoad((0,), (0,), 1.0, 1.0 - other, other, 1),), 1.0, (0, 1))

    assert validity.preempted(busy, [[0]], load(0.0)) == []
    (reason,) = validity.preempted(busy, [[0]], load(0.03))
    assert reason.rule == "interference"


def test_the_cli_records_what_was_asked_and_counted(tmp_path: Path) -> None:
    from onnx_factory import make_matmul_model

    model = make_matmul_model(tmp_path, size=64, layers=2)
    base = (str(model), "-t", "0.2", "-w", "0.05", "-nstreams", "1", "-ncores", "1")
    data = run_pinbench_json(tmp_path, *base, "--counters", "software")
    counters = data["pinbench"]["counters"]
    assert counters["asked"] == "software" and "cpu_migrations" in counters["opened"]
    assert counters["per_inference"]["task_clock"] > 0 and counters["ipc"] is None
    assert counters["streams"][0]["events"]["cpu_migrations"] == 0
    assert data["pinbench"]["requested"]["measure"]["counters"] == "software"
    off = run_pinbench_json(tmp_path, *base, "--counters", "off")
    assert "counters" not in off["pinbench"] and "energy" not in off["pinbench"]
    # Asked for by name, a hardware event that cannot be counted is a warning too.
    every = tmp_path / "all.json"
    r = run_pinbench(*base, "--counters", "all", "-x", str(every))
    assert r.returncode == 0, r.stderr
    missing = json.loads(every.read_text())["pinbench"]["counters"]["notes"]
    assert all(f"counters: {n}" in r.stderr for n in missing)
    quiet = run_pinbench(*base, "--counters", "auto")
    assert "counters: " not in quiet.stderr
    r = run_pinbench(*base, "--counters", "some")
    assert r.returncode == 2 and "--counters" in r.stderr and "Traceback" not in r.stderr
    r = run_pinbench(*base, "--counters", "off", "--energy-baseline", "1")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--counters off" in r.stderr


def test_ab_compares_cpu_time_per_inference(tmp_path: Path) -> None:
    from onnx import TensorProto

    from conftest import FIXTURES
    from onnx_factory import make_identity_model

    tiny = str(make_identity_model(tmp_path, [("x", TensorProto.FLOAT, [1, 4])]))
    spin = f"{FIXTURES / 'spin_engine.py'}:Spin"  # busy 1 ms a call: CPU time
    sleep = f"{FIXTURES / 'sleep_engine.py'}:ParallelSleeper"  # asleep 3 ms a call: hardly any
    out = tmp_path / "ab.json"
    r = run_pinbench("ab", tiny, "-nstreams", "1", "-t", "0.15", "-w", "0.02", "-r", "3",
                     "--a", f"-e {spin}", "--b", f"-e {sleep}", "--metric",
                     "cpu_ms_per_inference", "-x", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "metric cpu_ms_per_inference" in r.stdout and "CPU ms/inference" in r.stdout
    c = json.loads(out.read_text())["comparison"]
    assert c["ratio"] < 0.5 and c["significant"]  # B spends far less CPU per call
    off = run_pinbench("ab", tiny, "-t", "0.1", "--metric", "ipc", "--b", "--counters off")
    assert off.returncode == 2 and "B ran with --counters off" in off.stderr


def test_sweep_points_carry_their_cpu_time(tmp_path: Path) -> None:
    from onnx_factory import make_matmul_model

    model = str(make_matmul_model(tmp_path, size=64, layers=2))
    s = pinbench.run_sweep(model, batch_sizes=[1, 2], streams=[1], time=0.1, warmup_time=0)
    for p in s.points:
        assert p.hardware["cpu_ms_per_inference"] > 0 and "ipc" not in p.hardware  # no PMU here
    off = pinbench.run_sweep(model, batch_sizes=[1], streams=[1], time=0.1, warmup_time=0,
                             counters="off")  # fmt: skip
    assert off.points[0].hardware == {}
