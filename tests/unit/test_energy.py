"""Energy through RAPL's powercap tree, on trees made in each test: two packages with DRAM
subdomains, a counter that wraps during the window, a counter only root may read, no powercap;
and the energy figures over a real window read by the window sampler."""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

import pinbench
from pinbench.base.energy import Rapl, energy_delta_uj
from pinbench.result.energy import average_watts, energy_over
from pinbench.run.sampler import WindowSampler

from subproc import run_python

MAX_UJ = 262143328850


def make_powercap(root: Path, packages: int = 2, start_uj: int = 1_000_000) -> Path:
    """``intel-rapl:N`` (package-N) and ``intel-rapl:N:0`` (dram) for each package."""
    for n in range(packages):
        for zone, name in ((f"intel-rapl:{n}", f"package-{n}"), (f"intel-rapl:{n}:0", "dram")):
            d = root / zone
            d.mkdir(parents=True)
            (d / "name").write_text(f"{name}\n")
            (d / "max_energy_range_uj").write_text(f"{MAX_UJ}\n")
            (d / "energy_uj").write_text(f"{start_uj}\n")
    return root


def set_uj(root: Path, zone: str, uj: int) -> None:
    """Replaced whole, as sysfs answers a read: never a half-written file."""
    part = root / zone / "energy_uj.partial"
    part.write_text(f"{uj}\n")
    part.replace(root / zone / "energy_uj")


def test_two_packages_with_dram(tmp_path: Path) -> None:
    rapl = Rapl.discover(str(make_powercap(tmp_path)))
    assert rapl.problem is None
    assert [d.name for d in rapl.domains] == ["package-0", "dram", "package-1", "dram"]
    assert all(d.counted_in_total and d.max_range_uj == MAX_UJ for d in rapl.domains)
    first = rapl.read()
    for k, d in enumerate(rapl.domains):
        set_uj(tmp_path, d.zone, 1_000_000 + (k + 1) * 1_000_000)  # 1, 2, 3, 4 J
    second = rapl.read()
    watts, seconds = average_watts(rapl.domains, [first, second])
    assert seconds > 0
    assert [w * seconds for w in watts] == pytest.approx([1.0, 2.0, 3.0, 4.0])  # type: ignore[operator]


def test_a_wrap_during_the_window_is_undone(tmp_path: Path) -> None:
    assert energy_delta_uj(MAX_UJ - 500_000, 1_500_000, MAX_UJ) == 2_000_001
    root = make_powercap(tmp_path, packages=1, start_uj=MAX_UJ - 500_000)
    rapl = Rapl.discover(str(root))
    before = rapl.read()
    set_uj(root, "intel-rapl:0", 1_500_000)  # past the top: wrapped once
    set_uj(root, "intel-rapl:0:0", MAX_UJ - 400_000)
    middle = rapl.read()
    set_uj(root, "intel-rapl:0", 2_500_000)
    set_uj(root, "intel-rapl:0:0", MAX_UJ - 300_000)
    after = rapl.read()
    window = (before.t_ns, after.t_ns)
    e = energy_over(rapl.domains, [before, middle, after], window, inferences=1000, tokens=100)
    seconds = (after.t_ns - before.t_ns) / 1e9
    package, dram = e.domains
    assert package.joules == pytest.approx(3.000001) and dram.joules == pytest.approx(0.2)
    assert e.watts == pytest.approx(3.200001 / seconds)
    assert e.joules_per_inference == pytest.approx(3.200001 / 1000)
    assert e.joules_per_token == pytest.approx(3.200001 / 100)
    assert e.to_dict()["joules"] == pytest.approx(3.200001) and e.net_joules is None


def test_the_idle_baseline_is_subtracted(tmp_path: Path) -> None:
    root = make_powercap(tmp_path, packages=1)
    rapl = Rapl.discover(str(root))
    idle = [rapl.read()]
    set_uj(root, "intel-rapl:0", 1_100_000)
    idle.append(rapl.read())
    start = rapl.read()
    set_uj(root, "intel-rapl:0", 3_100_000)
    end = rapl.read()
    e = energy_over(rapl.domains, [start, end], (start.t_ns, end.t_ns), inferences=10,
                    baseline=idle)  # fmt: skip
    idle_w = 0.1 / ((idle[1].t_ns - idle[0].t_ns) / 1e9)
    assert e.baseline_watts == pytest.approx(idle_w)
    window_s = (end.t_ns - start.t_ns) / 1e9
    assert e.net_joules == pytest.approx(max(0.0, 2.0 - idle_w * window_s))
    assert e.to_dict()["net_joules_per_inference"] == pytest.approx(e.net_joules / 10)  # type: ignore[operator]


def test_no_powercap_is_a_note(tmp_path: Path) -> None:
    rapl = Rapl.discover(str(tmp_path))
    assert rapl.domains == () and rapl.problem is not None and "no RAPL" in rapl.problem
    e = energy_over(rapl.domains, [], None, inferences=5, note=rapl.problem)
    assert not e.known and e.note == rapl.problem and e.to_dict()["joules_per_inference"] is None


def test_a_root_only_counter_names_its_file_and_the_remedy() -> None:
    # Made where another user can read it: the check runs as nobody when this is root.
    root = Path(tempfile.mkdtemp(prefix="pinbench-rapl-"))
    try:
        make_powercap(root, packages=1)
        (root / "intel-rapl:0" / "energy_uj").chmod(0o400)
        for p in [root, *root.iterdir()]:
            if p.is_dir():
                p.chmod(0o755)
        # Imported first, then (as root) run as nobody: root reads any file.
        code = f"""
            import os
            from pinbench.base.energy import Rapl
            if os.geteuid() == 0:
                os.setresuid(65534, 65534, 65534)
            r = Rapl.discover({str(root)!r})
            print([d.zone for d in r.domains])
            print(r.problem)
        """
        out = run_python(code)
        assert out.returncode == 0, out.stderr
        zones, problem = out.stdout.splitlines()
        assert zones == "['intel-rapl:0:0']"  # the readable one is still measured
        assert f"{root}/intel-rapl:0/energy_uj is readable by root only" in problem
        assert "Linux 5.10" in problem and "chmod a+r" in problem and "udev" in problem
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_sampler_reads_the_energy_around_a_real_window(tmp_path: Path) -> None:
    root = make_powercap(tmp_path, packages=1)
    rapl = Rapl.discover(str(root))
    stop = threading.Event()

    def power() -> None:  # 10 W on the package, 1 W on DRAM, written every 10 ms
        t0, uj0 = time.monotonic(), 1_000_000
        while not stop.wait(0.01):
            dt = time.monotonic() - t0
            set_uj(root, "intel-rapl:0", (uj0 + int(dt * 10e6)) % (MAX_UJ + 1))
            set_uj(root, "intel-rapl:0:0", uj0 + int(dt * 1e6))

    writer = threading.Thread(target=power)
    writer.start()
    try:
        with WindowSampler(interval=0.05, rapl=rapl) as sampler:
            m = pinbench.measure(pinbench.spin(50_000), warmup=0.05, duration=0.5)
    finally:
        stop.set()
        writer.join()
    assert len(sampler.energy) == len(sampler.readings) >= 3
    e = energy_over(rapl.domains, sampler.energy, m.window_ns, inferences=m.iterations)
    assert e.known and [d.name for d in e.domains] == ["package-0", "dram"]
    # Written from a clock of its own every 10 ms and read every 50 ms: 20% either way.
    assert e.domains[0].watts == pytest.approx(10.0, rel=0.2)
    assert e.domains[1].watts == pytest.approx(1.0, rel=0.2)
    assert e.joules_per_inference == pytest.approx(e.joules / m.iterations)
    assert e.window_s == pytest.approx(m.seconds)


def test_no_rapl_here_gives_the_note_in_the_result() -> None:
    if Rapl.discover().domains:
        pytest.skip("this machine has RAPL counters")
    r = pinbench.benchmark("squeezenet", scenario="sync", time=0.2, warmup_time=0.05)
    assert r.energy is not None and not r.energy.known
    assert r.energy.note is not None and "no RAPL" in r.energy.note
    assert sys.platform.startswith("linux")
