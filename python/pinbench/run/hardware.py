"""What the hardware says about a run: the per-stream counters the core read (``result.counters``)
and the RAPL energy over the window (``result.energy``), put together for ``execute``.

Example::

    >>> rapl, baseline = energy_probe(settings.measure)  # doctest: +SKIP
    >>> with WindowSampler(rapl=rapl) as sampler:  # doctest: +SKIP
    ...     m = measure(..., counters=settings.measure.counters)
    >>> result = with_energy(assemble(..., counters=hardware_counters(m)), rapl, sampler.energy,
    ...                      baseline)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ..base.energy import POWERCAP_ROOT, Rapl
from ..base.logs import log
from ..base.system import perf_event_paranoid
from ..result.counters import HARDWARE_EVENTS, Counters, counters_of
from ..result.energy import energy_over

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..base.energy import EnergyReading
    from ..result.measurement import Measurement
    from ..result.record import Result
    from ..settings import MeasureSettings


def energy_probe(
    meas: MeasureSettings, root: str = POWERCAP_ROOT
) -> tuple[Rapl | None, list[EnergyReading]]:
    """The RAPL domains to read (None with ``--counters off``) and, with ``--energy-baseline``,
    the idle readings taken now, before anything of the run exists."""
    if meas.counters == "off":
        return None, []
    rapl = Rapl.discover(root)
    baseline: list[EnergyReading] = []
    if rapl.domains and meas.energy_baseline > 0:
        log.info("reading the idle power for %gs (--energy-baseline)", meas.energy_baseline)
        baseline = rapl.read_idle(meas.energy_baseline)
    return rapl, baseline


def hardware_counters(m: Measurement, proc_root: str = "/proc") -> Counters | None:
    """The run's counters (None when off or never read). With ``--counters all`` a hardware
    event that could not be opened is a warning too: it was asked for by name."""
    c = counters_of(
        m.counters,
        [s.counters for s in m.streams],
        [s.iterations for s in m.streams],
        [_span_s(s.totals.first_ns, s.totals.last_ns) for s in m.streams],
        perf_event_paranoid(proc_root),
    )
    if c is not None and m.counters == "all" and not set(HARDWARE_EVENTS) <= set(c.opened):
        for note in c.notes:
            log.warning("counters: %s", note)
    return c


def _span_s(first_ns: int, last_ns: int) -> float:
    return (last_ns - first_ns) / 1e9 if last_ns > first_ns else 0.0


def with_energy(
    result: Result,
    rapl: Rapl | None,
    readings: Sequence[EnergyReading],
    baseline: Sequence[EnergyReading] = (),
) -> Result:
    """``result`` with its energy (unchanged with ``--counters off``)."""
    if rapl is None:
        return result
    g = result.generation
    tokens = round(g.output_tokens_per_sec * result.seconds_ran) if g is not None else None
    energy = energy_over(
        rapl.domains,
        readings,
        result.measurement.window_ns,
        inferences=result.iterations,
        tokens=tokens,
        baseline=baseline,
        note=rapl.problem,
    )
    return dataclasses.replace(result, energy=energy)
