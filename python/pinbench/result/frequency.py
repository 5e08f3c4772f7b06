"""The clock frequency of the streams' CPUs over the window: read at its ends and every 0.5 s
between (``run.sampler``), outside the streams' threads; min, mean and max per CPU, with each
CPU's core type on a hybrid CPU (whose performance and efficiency cores run at different clocks
by design)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ..base.cpu_time import CpuReading


@dataclass(frozen=True)
class CpuFrequency:
    """One CPU's readings (MHz) during the window."""

    cpu: int
    first_mhz: float
    min_mhz: float
    mean_mhz: float
    max_mhz: float
    readings: int
    core_type: str = ""  # performance | efficiency on a hybrid CPU; "" elsewhere


@dataclass(frozen=True)
class Frequencies:
    """The frequency of every stream CPU that could be read, and where it came from."""

    source: str  # cpufreq | cpuinfo
    cpus: tuple[CpuFrequency, ...]


def measure_frequencies(
    readings: Sequence[CpuReading],
    window_ns: tuple[int, int] | None,
    source: str,
    core_types: Mapping[int, str] | None = None,
) -> Frequencies | None:
    """Per CPU, the readings that bracket the window; None when no frequency was read.
    ``core_types``: CPU -> its core type (``Cpu.core_type``), recorded with its figures."""
    with_mhz = [r for r in readings if r.mhz]
    if not with_mhz or window_ns is None:
        return None
    start = max((r.t_ns for r in with_mhz if r.t_ns <= window_ns[0]), default=with_mhz[0].t_ns)
    end = min((r.t_ns for r in with_mhz if r.t_ns >= window_ns[1]), default=with_mhz[-1].t_ns)
    inside = [r for r in with_mhz if start <= r.t_ns <= end]
    per_cpu: dict[int, list[float]] = {}
    for r in inside:
        for cpu, mhz in (r.mhz or {}).items():
            per_cpu.setdefault(cpu, []).append(mhz)
    types = core_types or {}
    cpus = tuple(
        CpuFrequency(cpu, v[0], min(v), sum(v) / len(v), max(v), len(v), types.get(cpu, ""))
        for cpu, v in sorted(per_cpu.items())
    )
    return Frequencies(source, cpus) if cpus else None
