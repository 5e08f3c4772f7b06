"""Environment capture: what the machine was, and whether its numbers can be trusted.

Everything is read from plain files under two roots (``/sys`` and ``/proc`` by default) so that
tests can point them at fixture trees; the CPUs' topology is counted by the native reader
(``pinbench.run.environment`` passes its counts in), and here only from ``/proc/cpuinfo`` where
sysfs cannot be read. Any file may be missing (containers often lack cpufreq,
non-Linux systems lack both roots): each field then falls back to a documented default, and
capture never raises. Package versions come from installed metadata; nothing heavy is imported.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path

from .cpuinfo import cpu_model, cpuinfo_blocks, isa_flags

__all__ = ["CpuCounts", "Environment", "parse_cpu_list", "read_environment", "warnings_for"]

# Distributions whose versions go into the report, when installed (importlib.metadata names).
_PACKAGES = (
    "numpy",
    "onnx",
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-openvino",
    "onnxruntime-genai",
    "openvino",
    "deepsparse",
    "deepsparse-nightly",
)

# A one-minute load average above this many runnable tasks per allowed CPU (and above 1.0) means
# other work is likely to share the cores during the run.
LOAD_PER_CPU_LIMIT = 0.25


@dataclass(frozen=True)
class CpuCounts:
    """The machine's online CPUs as a topology reader counted them: the native one (the reader
    the stream planner uses), or ``/proc/cpuinfo``'s processors where sysfs cannot be read."""

    online: tuple[int, ...]  # the online CPU ids, ascending
    sockets: int
    physical_cores: int
    numa_nodes: int  # nodes that hold CPUs
    smt: bool | None  # some core has more than one online hardware thread; None: unknown


@dataclass(frozen=True)
class Environment:
    """The machine and software a benchmark ran on; CPU numbers are ids as Linux counts them.

    ``sockets``, ``physical_cores`` and ``logical_cpus`` describe the online CPUs of the whole
    machine; ``allowed_cpus`` those this process may run on (taskset, cgroup cpusets).
    """

    cpu_model: str
    """Marketing name of the CPU ("model name" in /proc/cpuinfo), or "unknown"."""
    isa: list[str]
    """Instruction-set flags that matter for inference, present on every CPU, in a fixed order."""
    sockets: int
    physical_cores: int
    logical_cpus: int
    numa_nodes: int
    allowed_cpus: list[int]
    """Sorted ids of the CPUs the process may run on."""
    governor: str | None
    """cpufreq governor of the allowed CPUs: one name, "mixed", or None when there is no cpufreq."""
    kernel: str
    os: str
    python: str
    pinbench_version: str
    packages: dict[str, str]
    """Installed versions of the engine-related distributions, keyed by distribution name."""
    load_average: tuple[float, float, float]
    """Runnable tasks averaged over 1, 5 and 15 minutes, machine-wide."""
    smt_active: bool | None
    """Whether simultaneous multithreading is on; None when it cannot be told."""
    cpu_quota: float | None = None
    """CPUs' worth of time the process's cgroup may use (cpu.max); None: unlimited or unknown."""

    def to_dict(self) -> dict[str, object]:
        """Return the fields as plain JSON-ready values (lists, not tuples), in field order."""
        out: dict[str, object] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, (tuple, list)):
                value = list(value)
            elif isinstance(value, dict):
                value = dict(value)
            out[field.name] = value
        return out


def read_environment(
    cpus: CpuCounts | None, *, sysfs_root: str = "/sys", proc_root: str = "/proc"
) -> Environment:
    """Describe this machine, its CPUs as ``cpus`` counts them (None: from ``/proc/cpuinfo``),
    the rest read from sysfs and procfs under the given roots.

    Never raises for missing or unreadable files; see the module docstring for the fallbacks.
    Example: ``read_environment(None).cpu_model``.
    """
    sys_root = Path(sysfs_root)
    proc = Path(proc_root)
    cpu_dir = sys_root / "devices" / "system" / "cpu"
    blocks = cpuinfo_blocks(_read(proc / "cpuinfo") or "")
    counts = cpus if cpus is not None else cpuinfo_counts(blocks)
    online = list(counts.online)
    allowed = _allowed_cpus(proc, online)
    nodes = _online_nodes(sys_root / "devices" / "system" / "node")

    return Environment(
        cpu_model=cpu_model(blocks),
        isa=isa_flags(blocks),
        sockets=max(1, counts.sockets),
        physical_cores=counts.physical_cores or len(online) or 1,
        logical_cpus=max(1, len(online)),
        numa_nodes=nodes or max(1, counts.numa_nodes),
        allowed_cpus=allowed,
        governor=_governor(cpu_dir, allowed),
        kernel=_first_line(proc / "sys/kernel/osrelease") or platform.release() or "unknown",
        os=_os_name(),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        pinbench_version=_version("pinbench") or "0+unknown",
        packages={name: v for name in _PACKAGES if (v := _version(name)) is not None},
        load_average=_load_average(proc),
        smt_active=_smt_active(cpu_dir, counts.smt),
        cpu_quota=_cpu_quota(sys_root, proc),
    )


def cpuinfo_counts(blocks: list[dict[str, str]]) -> CpuCounts:
    """The CPUs as ``/proc/cpuinfo``'s blocks count them (x86 only names cores and packages;
    Arm kernels print no topology there), else ``os.cpu_count()`` CPUs of unknown topology."""
    ids = sorted({int(b["processor"]) for b in blocks if b.get("processor", "").isdigit()})
    by_core: dict[tuple[str, str], list[int]] = {}
    for block in blocks:
        if "physical id" in block and "core id" in block and block.get("processor", "").isdigit():
            key = (block["physical id"], block["core id"])
            by_core.setdefault(key, []).append(int(block["processor"]))
    cores = {tuple(sorted(cpus)) for cpus in by_core.values()}
    return CpuCounts(
        online=tuple(ids or range(os.cpu_count() or 1)),
        sockets=len({package for package, _ in by_core}),
        physical_cores=len(cores),
        numa_nodes=1,
        smt=any(len(core) > 1 for core in cores) if cores else None,
    )


# Set before deepsparse or sparsezoo is imported (they read them then): no usage analytics and
# no background check for a newer release, so a benchmark makes no network calls of theirs.
NEURAL_MAGIC_QUIET = {"NM_DISABLE_ANALYTICS": "1", "NM_VERSION_CHECK": "false"}


def quiet_neural_magic() -> None:
    """Turns deepsparse's and sparsezoo's analytics and version check off (call it before
    importing either)."""
    os.environ.update(NEURAL_MAGIC_QUIET)


def available_memory(*, sysfs_root: str = "/sys", proc_root: str = "/proc") -> int | None:
    """Bytes this process may still allocate: the kernel's MemAvailable, or less when the
    process's cgroup (v2 ``memory.max``) leaves less; None when neither can be read."""
    found = None
    for line in (_read(Path(proc_root) / "meminfo") or "").splitlines():
        if line.startswith("MemAvailable:"):
            fields = line.split()
            found = int(fields[1]) * 1024 if len(fields) > 1 and fields[1].isdigit() else None
    path = "/"
    for line in (_read(Path(proc_root) / "self" / "cgroup") or "").splitlines():
        if line.startswith("0::"):
            path = line[3:] or "/"
    base = Path(sysfs_root) / "fs" / "cgroup" / path.lstrip("/")
    limit, used = _first_line(base / "memory.max"), _first_line(base / "memory.current")
    if limit is not None and limit.isdigit() and used is not None and used.isdigit():
        left = max(0, int(limit) - int(used))
        found = left if found is None else min(found, left)
    return found


def governor_lets_clocks_vary(governor: str | None) -> bool:
    """True when the cpufreq governor (one name, "mixed", or None when unknown) is known and is
    not ``performance``: the rule that ``warnings_for`` and the verdict's ``governor`` note read.

    >>> [governor_lets_clocks_vary(g) for g in ("performance", "powersave", "mixed", None)]
    [False, True, True, False]
    """
    return governor is not None and governor != "performance"


def load_limit(allowed_cpus: int) -> float:
    """The 1-minute load average above which other work is likely to share the cores:
    ``LOAD_PER_CPU_LIMIT`` runnable tasks per allowed CPU, and at least 1.0.

    >>> load_limit(2), load_limit(64)
    (1.0, 16.0)
    """
    return max(1.0, LOAD_PER_CPU_LIMIT * allowed_cpus)


def load_too_high(load: float, allowed_cpus: int) -> bool:
    """True when ``load`` (a 1-minute load average) exceeds ``load_limit`` for a known number of
    allowed CPUs: the rule that ``warnings_for`` and the verdict's ``load_at_start`` note read."""
    return allowed_cpus > 0 and load > load_limit(allowed_cpus)


def warnings_for(env: Environment) -> list[str]:
    """Return one-line reasons why numbers measured in ``env`` may be off; empty when none."""
    out: list[str] = []
    n_allowed = len(env.allowed_cpus)
    if governor_lets_clocks_vary(env.governor):
        what = "differ between CPUs" if env.governor == "mixed" else f"is '{env.governor}'"
        out.append(
            f"CPU frequency governor {what}, not 'performance': clock speeds may vary during the "
            "run (e.g. `cpupower frequency-set -g performance`)"
        )
    load = env.load_average[0]
    if load_too_high(load, n_allowed):
        out.append(
            f"load average is {load:.2f} for {n_allowed} allowed CPU(s): other work may share the "
            "cores and slow the run"
        )
    if env.cpu_quota is not None and env.cpu_quota < n_allowed:
        out.append(
            f"cgroup CPU quota is {env.cpu_quota:g} CPU(s) for {n_allowed} allowed CPU(s): "
            "streams will be throttled; use at most that many cores"
        )
    if n_allowed and n_allowed < env.logical_cpus:
        out.append(
            f"the process may use {n_allowed} of {env.logical_cpus} CPUs (taskset or cgroup "
            "cpuset): only those are benchmarked"
        )
    if env.smt_active:
        out.append(
            "SMT is on: a pinned core shares its execution units with its sibling hardware "
            "thread, so other work on the sibling slows the stream"
        )
    return out


def parse_cpu_list(text: str) -> list[int]:
    """Parse a Linux CPU list such as ``"0-3,8,10-11"`` into sorted unique ids.

    Raises ValueError on malformed text; an empty string gives an empty list.
    """
    cpus: set[int] = set()
    for part in text.strip().split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if sep:
            first, last = int(lo), int(hi)
            if last < first:
                raise ValueError(f"bad CPU range {part!r}")
            cpus.update(range(first, last + 1))
        else:
            cpus.add(int(lo))
    return sorted(cpus)


# --- readers: each returns a fallback instead of raising ------------------------------------------


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None


def _first_line(path: Path) -> str | None:
    text = _read(path)
    if text is None:
        return None
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line or None


def _read_cpu_list(path: Path) -> list[int] | None:
    text = _read(path)
    if text is None:
        return None
    try:
        return parse_cpu_list(text)
    except ValueError:
        return None


def _allowed_cpus(proc: Path, online: list[int]) -> list[int]:
    text = _read(proc / "self" / "status")
    if text is not None:
        match = re.search(r"^Cpus_allowed_list:\s*(\S+)", text, re.MULTILINE)
        if match:
            try:
                allowed = parse_cpu_list(match.group(1))
            except ValueError:
                allowed = []
            if allowed:
                return allowed
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(online)


def _online_nodes(node_dir: Path) -> int | None:
    """The NUMA nodes the kernel lists online (memory-only nodes included: the native reader
    counts only nodes that hold CPUs); None when it lists none."""
    nodes = _read_cpu_list(node_dir / "online")
    return len(nodes) if nodes else None


def _governor(cpu_dir: Path, allowed: list[int]) -> str | None:
    found = {
        g for cpu in allowed if (g := _first_line(cpu_dir / f"cpu{cpu}/cpufreq/scaling_governor"))
    }
    if not found:
        return None
    return found.pop() if len(found) == 1 else "mixed"


def _smt_active(cpu_dir: Path, counted: bool | None) -> bool | None:
    """The kernel's SMT switch where it has one, else what the topology reader counted."""
    active = _first_line(cpu_dir / "smt" / "active")
    if active in ("0", "1"):
        return active == "1"
    return counted


def _load_average(proc: Path) -> tuple[float, float, float]:
    text = _read(proc / "loadavg")
    if text is not None:
        fields = text.split()
        try:
            return (float(fields[0]), float(fields[1]), float(fields[2]))
        except (IndexError, ValueError):
            pass
    try:
        one, five, fifteen = os.getloadavg()
    except (AttributeError, OSError):
        return (0.0, 0.0, 0.0)
    return (one, five, fifteen)


def _cpu_quota(sys_root: Path, proc: Path) -> float | None:
    """CPUs' worth of time allowed by the process's cgroup (v2 cpu.max or v1 CFS quota)."""
    v2_path = "/"
    v1_path = "/"
    for line in (_read(proc / "self" / "cgroup") or "").splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            v2_path = path or "/"
        elif "cpu" in controllers.split(","):
            v1_path = path or "/"
    cgroup = sys_root / "fs" / "cgroup"
    for base in _unique([cgroup / v2_path.lstrip("/"), cgroup]):
        text = _first_line(base / "cpu.max")
        if text is not None:
            quota, _, period = text.partition(" ")
            return _ratio(quota, period or "100000")
    for controller in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        root = cgroup / controller
        for base in _unique([root / v1_path.lstrip("/"), root]):
            quota_text = _first_line(base / "cpu.cfs_quota_us")
            period_text = _first_line(base / "cpu.cfs_period_us")
            if quota_text is not None and period_text is not None:
                return _ratio(quota_text, period_text)
    return None


def _ratio(quota: str, period: str) -> float | None:
    try:
        q, p = int(quota), int(period)
    except ValueError:  # "max": unlimited
        return None
    return q / p if q > 0 and p > 0 else None


def _unique(paths: list[Path]) -> list[Path]:
    return list(dict.fromkeys(paths))


def _os_name() -> str:
    try:
        release = platform.freedesktop_os_release()
    except (OSError, AttributeError):  # no os-release file; Python < 3.10
        release = {}
    name = release.get("PRETTY_NAME") or release.get("NAME")
    if name:
        return name
    return f"{platform.system()} {platform.release()}".strip() or "unknown"


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def perf_event_paranoid(proc_root: str = "/proc") -> int | None:
    """kernel.perf_event_paranoid (who may count what with perf events); None: unknown."""
    text = _first_line(Path(proc_root, "sys/kernel/perf_event_paranoid"))
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
