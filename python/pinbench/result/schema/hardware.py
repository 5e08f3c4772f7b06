"""``pinbench.counters`` and ``pinbench.energy`` as a report reads them back: a few figures per
run (definitions in ``pinbench.result.counters`` and ``pinbench.result.energy``; the blocks are
written by their records' ``to_dict``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .values import number


@dataclass(frozen=True)
class HardwareDoc:
    """What the hardware said, as the JSON recorded it. NaN where a figure is missing (no PMU:
    no IPC; no RAPL: no joules)."""

    ipc: float
    cpu_ms_per_inference: float  # task clock: CPU time of the stream threads (and their pools)
    migrations: float  # over the window, every stream
    preemptions_per_inference: float  # the stream threads' involuntary context switches
    watts: float
    joules_per_inference: float
    joules_per_token: float


def read_hardware(counters: Any, energy: Any) -> HardwareDoc | None:
    """``pinbench.counters`` and ``pinbench.energy``; None when both are absent."""
    c = counters if isinstance(counters, dict) else {}
    e = energy if isinstance(energy, dict) else {}
    if not c and not e:
        return None
    per = c.get("per_inference") or {}
    totals = c.get("totals") or {}
    return HardwareDoc(
        ipc=number(c.get("ipc")),
        cpu_ms_per_inference=number(per.get("task_clock")) / 1e6,
        migrations=number(totals.get("cpu_migrations")),
        preemptions_per_inference=number(per.get("involuntary_switches")),
        watts=number(e.get("watts")),
        joules_per_inference=number(e.get("joules_per_inference")),
        joules_per_token=number(e.get("joules_per_token")),
    )


def hardware_of(run: Any) -> HardwareDoc | None:
    """The counters and energy of a sweep point's run as reports read them: a run read back
    has them (``RunDoc.hardware``); a run as measured (``Result``) through its blocks."""
    doc = getattr(run, "hardware", None)
    if isinstance(doc, HardwareDoc):
        return doc
    counters, energy = getattr(run, "counters", None), getattr(run, "energy", None)
    return read_hardware(
        None if counters is None else counters.to_dict(),
        None if energy is None else energy.to_dict(),
    )
