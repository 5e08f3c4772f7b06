"""The streams' CPUs' clock frequency: read from sysfs or /proc/cpuinfo, never invented, judged."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pinbench.base.cpu_time import CpuReading
from pinbench.base.cpufreq import read_frequencies
from pinbench.result import validity
from pinbench.result.frequency import measure_frequencies
from pinbench.run.sampler import WINDOW_INTERVAL_S, WindowSampler

from conftest import SysfsTree

CPUINFO = """processor\t: 0
cpu MHz\t\t: 2800.000
flags\t\t: fpu sse avx2

processor\t: 1
cpu MHz\t\t: 2600.500
flags\t\t: fpu sse avx2
"""


def sysfs_with_cpufreq(root: Path, khz: dict[int, int]) -> Path:
    for cpu, value in khz.items():
        folder = root / "devices" / "system" / "cpu" / f"cpu{cpu}" / "cpufreq"
        folder.mkdir(parents=True)
        (folder / "scaling_cur_freq").write_text(f"{value}\n")
    return root


def test_cpufreq_first(tmp_path: Path) -> None:
    sys = sysfs_with_cpufreq(tmp_path / "sys", {0: 3_400_000, 1: 2_000_000})
    assert read_frequencies([0, 1, 2], str(sys), str(tmp_path)) == ({0: 3400.0, 1: 2000.0},
                                                                     "cpufreq")  # fmt: skip


def test_cpuinfo_when_there_is_no_cpufreq_but_not_on_a_virtual_machine(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "cpuinfo").write_text(CPUINFO)
    none = str(tmp_path / "no-sys")
    assert read_frequencies([0, 1], none, str(proc)) == ({0: 2800.0, 1: 2600.5}, "cpuinfo")
    (proc / "cpuinfo").write_text(CPUINFO.replace("avx2", "avx2 hypervisor"))
    assert read_frequencies([0, 1], none, str(proc)) == ({}, "unknown")  # a fixed figure
    assert read_frequencies([0], none, str(tmp_path / "none")) == ({}, "unknown")


def test_the_sampler_reads_the_streams_cpus_at_both_ends(tmp_path: Path) -> None:
    sys = sysfs_with_cpufreq(tmp_path / "sys", {0: 3_000_000, 1: 3_000_000})
    sampler = WindowSampler(cpus=[0, 1], sysfs_root=str(sys))
    sampler.start()
    sampler.stop()
    assert sampler.frequency_source == "cpufreq"
    assert sampler.readings[0].mhz == sampler.readings[-1].mhz == {0: 3000.0, 1: 3000.0}


def test_once_the_window_opens_the_sampler_reads_sparsely_with_the_frequencies(
    tmp_path: Path,
) -> None:
    sys = sysfs_with_cpufreq(tmp_path / "sys", {0: 3_000_000, 1: 3_000_000})
    sampler = WindowSampler(interval=0.01, cpus=[0, 1], sysfs_root=str(sys))
    with sampler:
        _wait_for(lambda: len(sampler.readings) >= 6)  # dense: the bracket before the window
        before = list(sampler.readings)
        assert any(r.mhz is None for r in before)  # the frequencies every FREQUENCY_EVERY
        sampler.window_opened()
        assert sampler.current_interval == WINDOW_INTERVAL_S  # no mask moved: sparse
        cue = len(sampler.readings)
        _wait_for(lambda: len(sampler.readings) >= cue + 4)
    # From the second reading after the cue (the first may have begun before it), and without
    # the last (stop()'s, whenever it came).
    inside = sampler.readings[cue + 1 : -1]
    gaps = [b.t_ns - a.t_ns for a, b in zip(inside, inside[1:])]
    assert gaps and min(gaps) >= WINDOW_INTERVAL_S * 1e9
    assert all(r.mhz == {0: 3000.0, 1: 3000.0} for r in inside)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_threads_still_remasked_keep_the_sampler_reading_densely_in_the_window() -> None:
    # As OpenVINO's executor does: a thread's mask widened and narrowed many times a second.
    cpus = sorted(os.sched_getaffinity(0))[:2]
    stop = threading.Event()

    def remask() -> None:
        narrow = True
        while not stop.wait(0.02):  # each mask held for a few of the sampler's readings
            os.sched_setaffinity(0, {cpus[0]} if narrow else set(cpus))
            narrow = not narrow

    t = threading.Thread(target=remask)
    sampler = WindowSampler(interval=0.01)
    with sampler:
        t.start()
        _wait_for(lambda: sum(len(h) > 1 for h in sampler.affinity.values()) >= 1)
        sampler.window_opened()
        assert sampler.current_interval == 0.01
        stop.set()
        t.join()


def _wait_for(condition: Callable[[], bool]) -> None:
    """Polls ``condition``; 30 s only guards against a hang (nothing is timed)."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the sampler stopped reading"
        time.sleep(0.005)


def reading(t_s: float, mhz: dict[int, float] | None) -> CpuReading:
    return CpuReading(int(t_s * 1e9), {0: 0}, 0, {}, mhz)


WINDOW = (10**9, 3 * 10**9)


def test_steady_clocks_give_no_reason() -> None:
    freq = measure_frequencies(
        [reading(0.5, {0: 3000, 1: 2950}), reading(1.5, None), reading(2.0, {0: 2990, 1: 2960}),
         reading(3.5, {0: 3000, 1: 2955})], WINDOW, "cpufreq",
    )  # fmt: skip
    assert freq is not None and [c.readings for c in freq.cpus] == [3, 3]
    assert freq.cpus[0].min_mhz == 2990 and freq.cpus[0].max_mhz == 3000
    assert validity.frequency(freq) == []


def test_cpus_far_apart_and_a_drop_are_reasons() -> None:
    apart = measure_frequencies(
        [reading(0.5, {0: 3000, 1: 2000}), reading(3.5, {0: 3000, 1: 2000})], WINDOW, "cpufreq"
    )
    (reason,) = validity.frequency(apart)
    assert "CPU 1 at 2000 MHz, CPU 0 at 3000 MHz" in reason.message
    dropped = measure_frequencies(
        [reading(0.5, {0: 3000}), reading(2.0, {0: 2400}), reading(3.5, {0: 2900})],
        WINDOW,
        "cpufreq",
    )
    (reason,) = validity.frequency(dropped)
    assert "dropped from 3000 to 2400 MHz" in reason.message


def test_unknown_frequencies_are_a_note_not_a_reason() -> None:
    assert measure_frequencies([reading(0.5, None), reading(3.5, None)], WINDOW, "unknown") is None
    assert validity.frequency(None) == []


def test_fixture_trees_with_cpufreq(sysfs: SysfsTree) -> None:
    assert read_frequencies([0, 3, 9], sysfs("cpufreq_4core")) == ({0: 3200.0, 3: 3200.0},
                                                                    "cpufreq")  # fmt: skip
    hybrid, source = read_frequencies(list(range(16)), sysfs("hybrid_4p8e"))
    assert source == "cpufreq" and {hybrid[c] for c in range(8)} == {2500.0}
    assert {hybrid[c] for c in range(8, 16)} == {1800.0}
    sampler = WindowSampler(cpus=[0, 8], sysfs_root=sysfs("hybrid_4p8e"))
    sampler.start()
    sampler.stop()
    assert sampler.readings[-1].mhz == {0: 2500.0, 8: 1800.0}


def test_a_hybrid_cpus_core_types_are_compared_apart() -> None:
    # Performance cores at 2.5 GHz, efficiency cores at 1.8 GHz: by design, not a fault.
    steady = [reading(0.5, {0: 2500, 2: 2490, 8: 1800}), reading(3.5, {0: 2500, 2: 2495, 8: 1790})]
    types = {0: "performance", 2: "performance", 8: "efficiency"}
    freq = measure_frequencies(steady, WINDOW, "cpufreq", types)
    assert freq is not None and [c.core_type for c in freq.cpus] == list(types.values())
    assert validity.frequency(freq) == []
    (reason,) = validity.frequency(measure_frequencies(steady, WINDOW, "cpufreq"))  # no types
    assert "CPU 8 at 1795 MHz" in reason.message
    apart = [reading(0.5, {0: 2500, 2: 2000, 8: 1800}), reading(3.5, {0: 2500, 2: 2000, 8: 1800})]
    (reason,) = validity.frequency(measure_frequencies(apart, WINDOW, "cpufreq", types))
    assert "performance CPUs ran at different clock frequencies: CPU 2 at 2000" in reason.message
