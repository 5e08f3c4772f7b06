"""The counters' and the energy's console lines (the JSON blocks ``pinbench.counters``,
``pinbench.energy``; definitions in ``pinbench.result.counters`` and ``pinbench.result.energy``).

Example::

    >>> print("\\n".join(hardware_lines(result)))  # doctest: +SKIP
    Counters per inference: CPU time 1.93 ms, context switches 0.02, ..., migrations 0 (streams: 0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..result.counters import Counters
    from ..result.energy import Energy
    from ..result.record import Result

# Shown per inference, in this order, with the console's label (task_clock is shown in ms).
_SHOWN: tuple[tuple[str, str], ...] = (
    ("context_switches", "context switches"),
    ("involuntary_switches", "preemptions"),
    ("minor_faults", "minor faults"),
    ("major_faults", "major faults"),
    ("cycles", "cycles"),
    ("instructions", "instructions"),
    ("cache_references", "cache references"),
    ("cache_misses", "cache misses"),
    ("llc_load_misses", "LLC load misses"),
    ("branch_misses", "branch misses"),
)


def _count(v: float) -> str:
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= scale:
            return f"{v / scale:.3g}{suffix}"
    return f"{v:.3g}"


def counters_line(c: Counters) -> str:
    """One line: per inference, IPC, and each stream's migrations."""
    parts = []
    clock = c.per_inference("task_clock")
    if clock is not None:
        parts.append(f"CPU time {clock / 1e6:.4g} ms")
    for name, label in _SHOWN:
        v = c.per_inference(name)
        if v is not None:
            parts.append(f"{label} {_count(v)}")
    if c.ipc is not None:
        parts.append(f"IPC {c.ipc:.2f}")
    moved = [s.value("cpu_migrations") for s in c.streams]
    if all(v is not None for v in moved):
        each = ", ".join(str(round(v or 0)) for v in moved)
        parts.append(f"migrations {round(c.totals.get('cpu_migrations', 0))} (streams: {each})")
    return f"Counters per inference: {', '.join(parts) if parts else 'none counted'}"


def energy_line(e: Energy) -> str:
    if not e.known:
        return "Energy: unknown"
    domains = ", ".join(f"{d.name} {d.watts:.1f} W" for d in e.domains)
    text = f"Energy: {e.watts:.1f} W average ({domains}), {e.joules:.3g} J in the window"
    if e.joules_per_inference is not None:
        text += f", {e.joules_per_inference:.4g} J/inference"
    if e.joules_per_token is not None:
        text += f", {e.joules_per_token:.4g} J/token"
    base, net = e.baseline_watts, e.per(e.inferences, net=True)
    if base is not None and net is not None:
        text += f"; idle {base:.1f} W, net {net:.4g} J/inference"
    return text


def hardware_lines(result: Result) -> list[str]:
    """The counters' and energy's lines, with their notes; none with ``--counters off``."""
    lines = []
    if result.counters is not None:
        lines.append(counters_line(result.counters))
        lines.extend(f"Counters note: {n}" for n in result.counters.notes)
    if result.energy is not None:
        lines.append(energy_line(result.energy))
        if result.energy.note:
            lines.append(f"Energy note: {result.energy.note}")
    return lines
