"""Energy over the measured window, from RAPL readings (``base.energy``).

The sampler reads every domain's counter with its CPU counters (every 0.1 s and at both ends), so
the energy of the bracket around the window (the last reading before its start, the first after
its end) is the sum of the wrapped deltas between consecutive readings; average watts are that
over the bracket's length, and the window's joules are those watts times the window. Per inference
(a forward pass of a batch) and, with ``-s generate``, per token.

An idle baseline (``--energy-baseline SEC``: the machine's power over SEC seconds just before the
run starts, nothing of the run alive yet) is subtracted from every figure when measured: what the
run cost on top of an idle machine. Both are shown.

Example::

    >>> e = energy_over(domains, readings, window_ns, inferences=1000)  # doctest: +SKIP
    >>> e.watts, e.joules_per_inference  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..base.energy import counted_in_total, energy_delta_uj

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..base.energy import EnergyReading, RaplDomain


@dataclass(frozen=True)
class DomainEnergy:
    """One domain over the window."""

    zone: str
    name: str
    joules: float  # over the window (the bracket's average power times the window)
    watts: float  # average over the bracket
    baseline_watts: float | None = None  # idle, before the run; None: not measured

    def to_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "name": self.name,
            "joules": self.joules,
            "watts": self.watts,
            "baseline_watts": self.baseline_watts,
        }


@dataclass(frozen=True)
class Energy:
    """The run's energy: packages and DRAM added up (``base.energy.counted_in_total``), or why it
    is unknown (``note``, with no domains)."""

    domains: tuple[DomainEnergy, ...] = ()
    window_s: float = 0.0
    bracket_s: float = 0.0
    inferences: int = 0
    tokens: int | None = None  # -s generate: tokens generated in the window
    baseline_s: float | None = None  # how long the idle baseline was read; None: not measured
    note: str | None = None

    @property
    def known(self) -> bool:
        return bool(self.domains)

    def _total(self, field: str) -> float:
        return sum(getattr(d, field) or 0.0 for d in self.domains if counted_in_total(d.name))

    @property
    def watts(self) -> float:
        return self._total("watts")

    @property
    def joules(self) -> float:
        return self._total("joules")

    @property
    def baseline_watts(self) -> float | None:
        return self._total("baseline_watts") if self.baseline_s is not None else None

    @property
    def net_joules(self) -> float | None:
        """The window's joules above the idle baseline; None without one."""
        base = self.baseline_watts
        return None if base is None else max(0.0, self.joules - base * self.window_s)

    def per(self, count: int | None, net: bool = False) -> float | None:
        joules = self.net_joules if net else self.joules
        return joules / count if self.known and count and joules is not None else None

    @property
    def joules_per_inference(self) -> float | None:
        return self.per(self.inferences)

    @property
    def joules_per_token(self) -> float | None:
        return self.per(self.tokens)

    def to_dict(self) -> dict[str, Any]:
        """``pinbench.energy``."""
        return {
            "known": self.known,
            "note": self.note,
            "window_seconds": self.window_s,
            "bracket_seconds": self.bracket_s,
            "joules": self.joules if self.known else None,
            "watts": self.watts if self.known else None,
            "inferences": self.inferences,
            "joules_per_inference": self.joules_per_inference,
            "tokens": self.tokens,
            "joules_per_token": self.joules_per_token,
            "baseline_seconds": self.baseline_s,
            "baseline_watts": self.baseline_watts if self.known else None,
            "net_joules": self.net_joules if self.known else None,
            "net_joules_per_inference": self.per(self.inferences, net=True),
            "net_joules_per_token": self.per(self.tokens, net=True),
            "domains": [d.to_dict() for d in self.domains],
        }


def average_watts(
    domains: Sequence[RaplDomain], readings: Sequence[EnergyReading]
) -> tuple[list[float | None], float]:
    """Each domain's average power over ``readings`` (consecutive deltas, wraps undone, over the
    readings that have its value; None with fewer than two), and their span in seconds."""
    if len(readings) < 2:
        return [None] * len(domains), 0.0
    out: list[float | None] = []
    for k, d in enumerate(domains):
        seen = [(r.t_ns, r.uj[k]) for r in readings if r.uj[k] is not None]
        seconds = (seen[-1][0] - seen[0][0]) / 1e9 if len(seen) >= 2 else 0.0
        if seconds <= 0:
            out.append(None)
            continue
        values = [v for _, v in seen if v is not None]
        uj = sum(energy_delta_uj(a, b, d.max_range_uj) for a, b in zip(values, values[1:]))
        out.append(uj / 1e6 / seconds)
    return out, (readings[-1].t_ns - readings[0].t_ns) / 1e9


def energy_over(
    domains: Sequence[RaplDomain],
    readings: Sequence[EnergyReading],
    window_ns: tuple[int, int] | None,
    *,
    inferences: int,
    tokens: int | None = None,
    baseline: Sequence[EnergyReading] = (),
    note: str | None = None,
) -> Energy:
    """The Energy of the window from the readings that bracket it; ``baseline``, when given,
    the idle readings taken before the run."""
    if not domains or window_ns is None or len(readings) < 2:
        return Energy(note=note or "energy was not measured: no readings around the window")
    start = max((r for r in readings if r.t_ns <= window_ns[0]), key=lambda r: r.t_ns,
                default=readings[0])  # fmt: skip
    end = min((r for r in readings if r.t_ns >= window_ns[1]), key=lambda r: r.t_ns,
              default=readings[-1])  # fmt: skip
    inside = [r for r in readings if start.t_ns <= r.t_ns <= end.t_ns]
    watts, bracket = average_watts(domains, inside)
    idle, idle_s = average_watts(domains, baseline) if len(baseline) >= 2 else ([], 0.0)
    window_s = (window_ns[1] - window_ns[0]) / 1e9
    out = [
        DomainEnergy(d.zone, d.name, w * window_s, w, idle[k] if idle else None)
        for k, (d, w) in enumerate(zip(domains, watts))
        if w is not None
    ]
    if not out:
        return Energy(note="the RAPL counters could not be read during the window")
    return Energy(
        tuple(out),
        window_s,
        bracket,
        inferences,
        tokens,
        idle_s if idle else None,
        note,
    )
