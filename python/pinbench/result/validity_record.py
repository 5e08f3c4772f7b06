"""The verdict's records: a ``Reason`` (or note), an ``Unreliable`` percentile, and the
``Validity`` that holds them, with the names of every rule and note it checks.

The rules themselves are in ``rules_measurement`` and ``rules_machine``; ``validity`` runs them
all (``assess``).

    >>> from pinbench.result.validity_record import Reason, Validity
    >>> Validity((Reason("unstable", "throughput varies"),)).verdict
    'invalid'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RULES: tuple[str, ...] = (
    "too_few_iterations",
    "unstable",
    "drift",
    "unstable_repetitions",
    "interference",
    "migrated",
    "frequency",
    "clock_resolution",
    "smt_siblings",
    "wall_clock",
    "gil_bound",
    "stream_failed",
)
NOTES: tuple[str, ...] = (
    "engine_moved_threads",
    "governor",
    "load_at_start",
    "latency_spread",
    "interference_unknown",
    "frequency_unknown",
    "warmup_unsettled",
    "drift_small",
)


@dataclass(frozen=True)
class Reason:
    """Why a run may not be trusted (or, as a note, what to know): the rule and one line."""

    rule: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


@dataclass(frozen=True)
class Unreliable:
    """A percentile with fewer than ``needed`` iterations: too few samples lie beyond it."""

    percentile: float
    needed: int


@dataclass(frozen=True)
class Validity:
    """The verdict: valid when there is no reason. Notes and unreliable percentiles inform."""

    reasons: tuple[Reason, ...]
    notes: tuple[Reason, ...] = ()
    unreliable: tuple[Unreliable, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.reasons

    @property
    def verdict(self) -> str:
        return "valid" if self.valid else "invalid"

    def unreliable_at(self, percentile: float) -> bool:
        return any(u.percentile == percentile for u in self.unreliable)

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "reasons": [r.to_dict() for r in self.reasons],
            "notes": [r.to_dict() for r in self.notes],
            "unreliable_percentiles": [
                {"percentile": u.percentile, "needed_iterations": u.needed} for u in self.unreliable
            ],
            "rules_checked": list(RULES),
            "notes_checked": list(NOTES),
        }
