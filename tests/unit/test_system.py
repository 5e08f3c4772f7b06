"""Environment capture against fake /proc and /sys trees, and once against the real machine."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest

import pinbench
from pinbench.base.system import Environment, parse_cpu_list, warnings_for
from pinbench.run.environment import capture_environment

from conftest import SysfsTree

if TYPE_CHECKING:
    from pathlib import Path

X86_FLAGS = (
    "fpu sse sse2 ht avx fma avx2 avx512f avx512dq avx512_vnni avx512_bf16 avx_vnni "
    "amx_bf16 amx_tile amx_int8 hypervisor"
)


def write(root: Path, relative: str, text: str) -> None:
    """Write ``text`` at ``root/relative``, creating the folders."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def x86_cpuinfo(cpus: list[tuple[int, int, int]], flags: str = X86_FLAGS) -> str:
    """cpuinfo blocks for (processor, physical id, core id) triples."""
    blocks = [
        textwrap.dedent(
            f"""\
            processor\t: {cpu}
            vendor_id\t: GenuineIntel
            model name\t: Intel(R) Xeon(R) Platinum 8480+
            physical id\t: {package}
            core id\t\t: {core}
            flags\t\t: {flags}
            """
        )
        for cpu, package, core in cpus
    ]
    return "\n".join(blocks) + "\n"


@pytest.fixture
def two_sockets(tmp_path: Path) -> tuple[Path, Path]:
    """2 sockets x 2 cores x 2 threads (CPUs 0-7), 2 NUMA nodes, powersave, process on 0-3.

    CPU ids: socket 0 has cores {0,4} and {1,5}; socket 1 has {2,6} and {3,7}.
    """
    sys_root, proc = tmp_path / "sys", tmp_path / "proc"
    layout = [(cpu, (cpu % 4) // 2, cpu % 2) for cpu in range(8)]
    write(proc, "cpuinfo", x86_cpuinfo(layout))
    write(proc, "self/status", "Name:\tpython\nCpus_allowed:\t0f\nCpus_allowed_list:\t0-3\n")
    write(proc, "loadavg", "6.50 3.25 1.00 7/900 12345\n")
    write(proc, "sys/kernel/osrelease", "6.8.0-test\n")
    write(proc, "self/cgroup", "0::/bench.slice\n")
    cpu_dir = "devices/system/cpu"
    write(sys_root, f"{cpu_dir}/online", "0-7\n")
    write(sys_root, f"{cpu_dir}/smt/active", "1\n")
    for cpu, package, _ in layout:
        siblings = f"{cpu % 4},{cpu % 4 + 4}"
        write(sys_root, f"{cpu_dir}/cpu{cpu}/topology/physical_package_id", f"{package}\n")
        write(sys_root, f"{cpu_dir}/cpu{cpu}/topology/core_cpus_list", siblings + "\n")
        write(sys_root, f"{cpu_dir}/cpu{cpu}/cpufreq/scaling_governor", "powersave\n")
    write(sys_root, "devices/system/node/online", "0-1\n")
    write(sys_root, "fs/cgroup/bench.slice/cpu.max", "200000 100000\n")
    return sys_root, proc


def test_two_sockets(two_sockets: tuple[Path, Path]) -> None:
    sys_root, proc = two_sockets
    env = capture_environment(sysfs_root=str(sys_root), proc_root=str(proc))
    assert env.cpu_model == "Intel(R) Xeon(R) Platinum 8480+"
    assert env.isa == [
        "avx",
        "avx2",
        "fma",
        "avx512f",
        "avx512_vnni",
        "avx_vnni",
        "avx512_bf16",
        "amx_tile",
        "amx_bf16",
        "amx_int8",
    ]
    assert (env.sockets, env.physical_cores, env.logical_cpus, env.numa_nodes) == (2, 4, 8, 2)
    assert env.allowed_cpus == [0, 1, 2, 3]
    assert env.governor == "powersave"
    assert env.kernel == "6.8.0-test"
    assert env.load_average == (6.5, 3.25, 1.0)
    assert env.smt_active is True
    assert env.cpu_quota == 2.0


def test_two_sockets_warnings(two_sockets: tuple[Path, Path]) -> None:
    sys_root, proc = two_sockets
    warnings = warnings_for(capture_environment(sysfs_root=str(sys_root), proc_root=str(proc)))
    assert any("governor is 'powersave'" in w for w in warnings)
    assert any("load average is 6.50 for 4 allowed CPU(s)" in w for w in warnings)
    assert any("quota is 2 CPU(s) for 4 allowed" in w for w in warnings)
    assert any("may use 4 of 8 CPUs" in w for w in warnings)
    assert any("SMT is on" in w for w in warnings)
    assert all("\n" not in w for w in warnings)


def test_mixed_governor_and_topology_from_cpuinfo(tmp_path: Path) -> None:
    """No topology in sysfs: cores and sockets come from cpuinfo; SMT from sibling counts."""
    sys_root, proc = tmp_path / "sys", tmp_path / "proc"
    write(proc, "cpuinfo", x86_cpuinfo([(0, 0, 0), (1, 0, 0), (2, 0, 1), (3, 0, 1)]))
    write(proc, "self/status", "Cpus_allowed_list:\t0-3\n")
    for cpu, governor in enumerate(["performance", "performance", "powersave", "performance"]):
        write(sys_root, f"devices/system/cpu/cpu{cpu}/cpufreq/scaling_governor", governor)
    env = capture_environment(sysfs_root=str(sys_root), proc_root=str(proc))
    assert (env.sockets, env.physical_cores, env.logical_cpus) == (1, 2, 4)
    assert env.governor == "mixed"
    assert env.smt_active is True
    assert any("differ between CPUs" in w for w in warnings_for(env))


def test_the_cpu_counts_are_the_native_topology_readers(tmp_path: Path) -> None:
    """The record counts what the stream planner reads (sysfs, natively); /proc/cpuinfo only
    where sysfs cannot be read."""
    sys_root, proc = tmp_path / "sys", tmp_path / "proc"
    write(proc, "cpuinfo", x86_cpuinfo([(0, 0, 0), (1, 0, 1), (2, 0, 2), (3, 0, 3)]))
    write(sys_root, "devices/system/cpu/online", "0-3\n")
    for cpu in range(4):
        write(
            sys_root,
            f"devices/system/cpu/cpu{cpu}/topology/core_cpus_list",
            f"{cpu % 2},{cpu % 2 + 2}",
        )
    env = capture_environment(sysfs_root=str(sys_root), proc_root=str(proc))
    topo = pinbench.topology(str(sys_root))
    assert env.physical_cores == len(topo.cores) == 2 and env.smt_active is True
    env = capture_environment(sysfs_root=str(tmp_path / "none"), proc_root=str(proc))
    assert env.physical_cores == 4 and env.smt_active is False  # cpuinfo's four cores


def test_the_record_counts_the_whole_machine_not_the_cgroups_share(sysfs: SysfsTree) -> None:
    """A cpuset cgroup limits what the planner may use (8 of 16 cores), not what the machine
    has."""
    root = sysfs("cgroup_2s")
    env = capture_environment(sysfs_root=root, proc_root=root)
    assert (env.physical_cores, env.logical_cpus) == (16, 32)
    assert len(pinbench.topology(root).cores) == 8


def test_governor_of_allowed_cpus_only(two_sockets: tuple[Path, Path]) -> None:
    sys_root, proc = two_sockets
    for cpu in range(4, 8):
        write(sys_root, f"devices/system/cpu/cpu{cpu}/cpufreq/scaling_governor", "performance")
    env = capture_environment(sysfs_root=str(sys_root), proc_root=str(proc))
    assert env.governor == "powersave"


def test_old_kernel_vnni_spelling_and_common_flags(tmp_path: Path) -> None:
    """A flag missing on one CPU is not reported; "avx512vnni" is kept as spelled."""
    proc = tmp_path / "proc"
    first = x86_cpuinfo([(0, 0, 0)], flags="avx avx2 avx512f avx512vnni amx_tile")
    second = x86_cpuinfo([(1, 0, 1)], flags="avx avx2 avx512f avx512vnni")
    write(proc, "cpuinfo", first + second)
    env = capture_environment(sysfs_root=str(tmp_path / "sys"), proc_root=str(proc))
    assert env.isa == ["avx", "avx2", "avx512f", "avx512vnni"]


def test_arm(tmp_path: Path) -> None:
    sys_root, proc = tmp_path / "sys", tmp_path / "proc"
    block = textwrap.dedent(
        """\
        processor\t: {cpu}
        BogoMIPS\t: 50.00
        Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics asimddp sve i8mm bf16
        CPU implementer\t: 0x41
        CPU architecture: 8
        CPU variant\t: 0x1
        CPU part\t: 0xd40
        CPU revision\t: 1
        """
    )
    write(proc, "cpuinfo", "\n".join(block.format(cpu=cpu) for cpu in range(4)))
    write(proc, "self/status", "Cpus_allowed_list:\t0-3\n")
    write(proc, "loadavg", "0.00 0.01 0.05 1/100 42\n")
    write(sys_root, "devices/system/cpu/online", "0-3\n")
    for cpu in range(4):
        write(sys_root, f"devices/system/cpu/cpu{cpu}/topology/physical_package_id", "0")
        write(sys_root, f"devices/system/cpu/cpu{cpu}/topology/thread_siblings_list", str(cpu))
    env = capture_environment(sysfs_root=str(sys_root), proc_root=str(proc))
    assert env.cpu_model == "Arm Neoverse-V1"
    assert env.isa == ["asimd", "asimddp", "i8mm", "bf16", "sve"]
    assert (env.sockets, env.physical_cores, env.logical_cpus, env.numa_nodes) == (1, 4, 4, 1)
    assert env.governor is None
    assert env.smt_active is False
    assert env.cpu_quota is None
    assert warnings_for(env) == []


def test_unknown_arm_part(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    write(proc, "cpuinfo", "processor\t: 0\nCPU implementer\t: 0x99\nCPU part\t: 0x123\n")
    env = capture_environment(sysfs_root=str(tmp_path / "sys"), proc_root=str(proc))
    assert env.cpu_model == "implementer 0x99 part 0x123"


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    sys_root, proc = tmp_path / "sys", tmp_path / "proc"
    write(proc, "self/cgroup", "4:memory:/x\n2:cpu,cpuacct:/docker/abc\n")
    write(sys_root, "fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "150000\n")
    write(sys_root, "fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n")
    env = capture_environment(sysfs_root=str(sys_root), proc_root=str(proc))
    assert env.cpu_quota == 1.5


@pytest.mark.parametrize("text", ["max 100000\n", "-1 100000\n"])
def test_cgroup_unlimited(tmp_path: Path, text: str) -> None:
    write(tmp_path / "sys", "fs/cgroup/cpu.max", text)
    env = capture_environment(sysfs_root=str(tmp_path / "sys"), proc_root=str(tmp_path / "proc"))
    assert env.cpu_quota is None


def test_empty_roots_do_not_raise(tmp_path: Path) -> None:
    env = capture_environment(sysfs_root=str(tmp_path / "none"), proc_root=str(tmp_path / "none"))
    assert env.cpu_model == "unknown"
    assert env.isa == []
    assert env.sockets == 1
    assert env.numa_nodes == 1
    assert env.logical_cpus >= 1
    assert env.allowed_cpus
    assert env.governor is None
    assert env.pinbench_version
    json.dumps(env.to_dict())


def test_malformed_files(tmp_path: Path) -> None:
    sys_root, proc = tmp_path / "sys", tmp_path / "proc"
    write(proc, "cpuinfo", "garbage without colons\n\n\n")
    write(proc, "self/status", "Cpus_allowed_list:\tnonsense\n")
    write(proc, "loadavg", "x y\n")
    write(sys_root, "devices/system/cpu/online", "3-1\n")
    write(sys_root, "fs/cgroup/cpu.max", "\n")
    env = capture_environment(sysfs_root=str(sys_root), proc_root=str(proc))
    assert env.cpu_model == "unknown"
    assert env.allowed_cpus
    assert len(env.load_average) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("0", [0]),
        ("0-3", [0, 1, 2, 3]),
        ("0-1,8,10-11\n", [0, 1, 8, 10, 11]),
        ("3,1,1", [1, 3]),
    ],
)
def test_parse_cpu_list(text: str, expected: list[int]) -> None:
    assert parse_cpu_list(text) == expected


@pytest.mark.parametrize("text", ["a", "3-1", "1-"])
def test_parse_cpu_list_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_cpu_list(text)


def quiet_environment(**changes: object) -> Environment:
    """An environment that deserves no warning, with ``changes`` applied."""
    base = Environment(
        cpu_model="x",
        isa=[],
        sockets=1,
        physical_cores=4,
        logical_cpus=4,
        numa_nodes=1,
        allowed_cpus=[0, 1, 2, 3],
        governor="performance",
        kernel="k",
        os="o",
        python="p",
        pinbench_version="0",
        packages={},
        load_average=(0.5, 0.5, 0.5),
        smt_active=False,
    )
    return dataclasses.replace(base, **changes)


def test_no_warnings_on_a_quiet_machine() -> None:
    assert warnings_for(quiet_environment()) == []


@pytest.mark.parametrize(("load", "warned"), [(1.0, False), (1.01, True), (0.9, False)])
def test_load_threshold_small_machine(load: float, warned: bool) -> None:
    warnings = warnings_for(quiet_environment(load_average=(load, 0.0, 0.0)))
    assert bool(warnings) is warned


def test_load_threshold_scales_with_allowed_cpus() -> None:
    cpus = list(range(64))
    env = quiet_environment(allowed_cpus=cpus, logical_cpus=64, load_average=(10.0, 0.0, 0.0))
    assert warnings_for(env) == []
    env = quiet_environment(allowed_cpus=cpus, logical_cpus=64, load_average=(17.0, 0.0, 0.0))
    assert len(warnings_for(env)) == 1


def test_to_dict_round_trips_through_json() -> None:
    env = quiet_environment(packages={"numpy": "2.0"})
    data = json.loads(json.dumps(env.to_dict()))
    assert data["load_average"] == [0.5, 0.5, 0.5]
    assert data["packages"] == {"numpy": "2.0"}
    assert list(data) == list(env.to_dict())


def test_real_machine() -> None:
    env = capture_environment()
    assert env.logical_cpus >= 1
    assert 1 <= env.physical_cores <= env.logical_cpus
    assert 1 <= env.sockets <= env.physical_cores
    assert env.numa_nodes >= 1
    assert env.allowed_cpus
    assert env.kernel
    assert env.python
    assert "numpy" in env.packages
    assert all(isinstance(w, str) and w for w in warnings_for(env))
    json.dumps(env.to_dict())


def test_import_is_light() -> None:
    code = (
        "import sys, pinbench.base.system; "
        "heavy = {'onnx', 'onnxruntime', 'openvino', 'deepsparse'} & set(sys.modules); "
        "print(sorted(heavy)); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
