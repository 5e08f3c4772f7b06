"""The CPUs' current clock frequency, read from sysfs (``cpufreq/scaling_cur_freq``), or from
``/proc/cpuinfo``'s ``cpu MHz`` where the kernel has no cpufreq driver.

A virtual machine usually has no cpufreq, and its ``/proc/cpuinfo`` then shows a fixed figure
(the hypervisor's nominal clock, not what the core runs at): when the CPU flags say
``hypervisor``, that figure is not taken, and the frequency is unknown. Nothing is ever invented:
a CPU whose frequency cannot be read is left out, and no CPU read means "unknown".
"""

from __future__ import annotations

from pathlib import Path

CPUFREQ = "cpufreq"
CPUINFO = "cpuinfo"
UNKNOWN = "unknown"


def read_frequencies(
    cpus: list[int], sysfs_root: str = "/sys", proc_root: str = "/proc"
) -> tuple[dict[int, float], str]:
    """(CPU -> current frequency in MHz, where it came from) for ``cpus``.

    Example: ``read_frequencies([0, 1])`` -> ``({0: 3400.0, 1: 3391.2}, "cpufreq")`` on a machine
    with cpufreq, ``({}, "unknown")`` on a virtual machine without it.
    """
    root = Path(sysfs_root) / "devices" / "system" / "cpu"
    found: dict[int, float] = {}
    for cpu in cpus:
        try:
            text = (root / f"cpu{cpu}" / "cpufreq" / "scaling_cur_freq").read_text()
            found[cpu] = int(text.strip()) / 1000.0  # kHz
        except (OSError, ValueError):
            continue
    if found:
        return found, CPUFREQ
    from_cpuinfo = _cpuinfo_mhz(Path(proc_root) / "cpuinfo", set(cpus))
    return (from_cpuinfo, CPUINFO) if from_cpuinfo else ({}, UNKNOWN)


def _cpuinfo_mhz(path: Path, cpus: set[int]) -> dict[int, float]:
    try:
        text = path.read_text()
    except OSError:
        return {}
    out: dict[int, float] = {}
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        if "hypervisor" in fields.get("flags", "").split():
            return {}  # a fixed figure from the hypervisor, not a reading
        try:
            cpu, mhz = int(fields["processor"]), float(fields["cpu MHz"])
        except (KeyError, ValueError):
            continue
        if cpu in cpus:
            out[cpu] = mhz
    return out
