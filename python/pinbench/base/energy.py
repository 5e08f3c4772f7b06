"""RAPL energy counters through the powercap sysfs tree (Intel, and AMD's driver of the same name).

Each zone ``intel-rapl:N`` (a package) and subzone ``intel-rapl:N:M`` (its core, uncore or dram
domain) holds ``name``, ``energy_uj`` (a counter in microjoules that wraps at
``max_energy_range_uj``) and ``max_energy_range_uj``. The tree is read under a root directory
(``/sys/class/powercap`` by default) that tests point at fixture trees.

``energy_uj`` is readable by root only since Linux 5.10 (CVE-2020-8694): where it cannot be read,
``Rapl.problem`` says which file and how to grant read access; with no zone at all (most virtual
machines), it says so.

Example::

    >>> rapl = Rapl.discover()
    >>> rapl.domains, rapl.problem  # doctest: +SKIP
    ((RaplDomain(zone='intel-rapl:0', name='package-0', ...),), None)
    >>> reading = rapl.read()  # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

POWERCAP_ROOT = "/sys/class/powercap"
ZONE_PREFIX = "intel-rapl:"


@dataclass(frozen=True)
class RaplDomain:
    """One RAPL domain: its zone's directory name, its name, and where its counter wraps."""

    zone: str  # intel-rapl:0, intel-rapl:0:1
    name: str  # package-0, core, uncore, dram, psys
    max_range_uj: int  # energy_uj wraps to 0 past this

    @property
    def counted_in_total(self) -> bool:
        return counted_in_total(self.name)


def counted_in_total(name: str) -> bool:
    """Packages and DRAM add up to the machine's figure; core and uncore lie inside their
    package, and psys (the platform) holds everything."""
    return name.startswith("package") or name == "dram"


@dataclass(frozen=True)
class EnergyReading:
    """Every domain's counter at one moment of the steady clock (CLOCK_MONOTONIC ns, the runner's
    clock); None for a domain that could not be read this time."""

    t_ns: int
    uj: tuple[int | None, ...]


@dataclass(frozen=True)
class Rapl:
    """The readable RAPL domains under ``root``, or why there are none (``problem``)."""

    root: str
    domains: tuple[RaplDomain, ...]
    problem: str | None = None

    @classmethod
    def discover(cls, root: str = POWERCAP_ROOT) -> Rapl:
        """The domains whose counter can be read now."""
        base = Path(root)
        zones = sorted(p for p in base.glob(f"{ZONE_PREFIX}*") if (p / "energy_uj").exists())
        if not zones:
            return cls(root, (), f"no RAPL energy counters (no {root}/{ZONE_PREFIX}* zone, as "
                                 "on most virtual machines): energy was not measured")  # fmt: skip
        domains, unreadable = [], []
        for zone in zones:
            try:
                int((zone / "energy_uj").read_text())
                name = (zone / "name").read_text().strip()
                top = int((zone / "max_energy_range_uj").read_text())
            except PermissionError:
                unreadable.append(zone / "energy_uj")
                continue
            except (OSError, ValueError):
                continue
            domains.append(RaplDomain(zone.name, name, top))
        problem = None
        if unreadable:
            problem = (
                f"{unreadable[0]} is readable by root only (the rule since Linux 5.10): grant "
                f"read access as root, e.g. `chmod a+r {root}/{ZONE_PREFIX}*/energy_uj` "
                '(until reboot) or a udev rule: SUBSYSTEM=="powercap", '
                'ACTION=="add", RUN+="/bin/chmod a+r /sys%p/energy_uj"'
            )
        return cls(root, tuple(domains), problem)

    def read_idle(self, seconds: float) -> list[EnergyReading]:
        """Readings ``seconds`` apart (the idle baseline: nothing of the run may be alive)."""
        first = self.read()
        time.sleep(seconds)
        return [first, self.read()]

    def read(self) -> EnergyReading:
        """Every domain's counter now (a few small files; no allocation worth naming)."""
        values: list[int | None] = []
        for d in self.domains:
            try:
                values.append(int(Path(self.root, d.zone, "energy_uj").read_text()))
            except (OSError, ValueError):
                values.append(None)
        return EnergyReading(time.monotonic_ns(), tuple(values))


def energy_delta_uj(before: int, after: int, max_range_uj: int) -> int:
    """Microjoules from ``before`` to ``after`` of a counter that wraps past ``max_range_uj``
    (once at most between the two: readings are taken often enough for that).

    >>> energy_delta_uj(990, 10, 999)
    20
    """
    return after - before if after >= before else after + (max_range_uj + 1) - before
