"""Whether a run's headline figures can be trusted: one small rule per function.

The verdict judges what the headline figures (throughput, mean, median) can be trusted for. A run
is **valid** when no rule gives a *reason*; *notes* inform without invalidating, and percentiles
with too few samples beyond them are marked *unreliable* on their own, not held against the run.

Reasons (each rule's threshold in its constant):

- ``too_few_iterations``: fewer than ``MIN_ITERATIONS`` (30) measured iterations: too few for a
  mean or a median to mean much, and for the throughput's interval;
- ``unstable``: the throughput over the window's slices (the batch means of its confidence
  interval, ``base.stats``: one slice per second, 10 to 60 of them) varies by ``CV_LIMIT`` (10%,
  pyperf's limit) or more of its mean. The latency's own spread is not used: a small model's
  latency distribution is skewed by nature (a few slow iterations), and that does not make its
  throughput or median less repeatable;
- ``drift``: the throughput over the window's slices (10 a second, 20 to 60) has a monotone trend
  (Mann-Kendall) or its last third differs from its first (Welch's t-test), p below
  ``DRIFT_ALPHA`` (0.01), and the two thirds' means differ by ``DRIFT_LIMIT`` (15%) or more of
  the whole's: the run had not settled (caches, allocator, frequency
  ramps: warm up longer) or something slowed it part-way (thermal limits, a neighbour starting).
  A low CV can hide a slow drift; a trend without size (0.1% over a long window) is no reason,
  and one from ``DRIFT_NOTE_LIMIT`` (10%) up to the limit is the note ``drift_small``: quiet short
  windows on a shared host wander that much;
- ``unstable_repetitions``: with ``-r N``, the throughput varies by ``CV_LIMIT`` or more
  between repetitions (the machine drifted between runs);
- ``interference``: other work took ``INTERFERENCE_LIMIT`` (5%) or more of one group of the
  streams' CPUs during the window, and at least ``INTERFERENCE_MIN_TICKS`` clock ticks
  (``result.interference``: per-CPU counters against this process's own threads);
  A stream alone on one CPU that was preempted ``PREEMPTION_LIMIT`` (100) times a second or more
  (its thread's involuntary context switches over its window, at least ``PREEMPTION_MIN``
  (20) of them; ``result.counters``) is the same reason when the CPU counters are unknown or saw
  ``PREEMPTION_CORROBORATION`` (2%) or more other work there: something else was runnable on
  its CPU (an interference the CPU-time counters may miss at their 10 ms resolution). Alone it
  proves nothing: the run's own threads preempt its streams too;
- ``migrated``: a stream pinned to one CPU moved between CPUs during its window
  (``cpu_migrations`` counted on its threads, ``result.counters``): pinning did not hold. Streams
  given several CPUs may move among them by design and are not judged; moves while the run
  itself changed threads' CPU masks in the window (``result.interference``) are the engine's
  doing, and the note ``engine_moved_threads`` instead;
- ``frequency``: the streams' CPUs ran at clock frequencies more than ``FREQUENCY_LIMIT`` (10%)
  apart (their means), or one of them dropped by more than 10% during the window (its lowest
  reading against its first; ``result.frequency``); unknown frequencies give no reason;
- ``clock_resolution``: median latency below 100x the clock's resolution or read overhead
  (whichever is larger): each latency's timing error may then exceed 1%;
- ``smt_siblings``: two streams run on different hardware threads of the same physical core
  (streams given the very same CPUs, as in ``elastic``, share them by design and do not count);
- ``wall_clock``: over the ``measure()`` call, the steady clock's elapsed time and the wall
  clock's differ by more than 1%, or the measured window lies outside that call's steady interval;
- ``gil_bound``: two or more thread streams spent more than ``GIL_SHARE_LIMIT`` (10%) of their
  time in the window waiting for the GIL inside the timed region (their waits over streams x
  window): the GIL, not the engine, limited the run, and latency includes the wait;
  ``--isolation process`` runs each stream in an interpreter of its own. (Each iteration's wait
  also holds the uncontended taking of the GIL, a few tens of ns; a lone stream and worker
  processes are not timed.)
- ``stream_failed``: a stream failed and stopped the run: its figures cover what every stream
  measured until then.

Notes: ``engine_moved_threads`` (see ``migrated``), ``governor`` (the frequency governor is known
and is not ``performance``), ``load_at_start`` (the 1-minute load average exceeded max(1, 0.25
per allowed CPU): it lags by minutes, so it is at most a hint; interference is what was
measured), ``latency_spread`` (latency std >= 10% of the mean: the distribution is wide or
skewed), ``interference_unknown`` (no CPU counters), ``warmup_unsettled`` (``-w auto`` ran to its
bound, ``--warmup-max``, without the throughput settling: ``base.warmup``), ``drift_small`` (see
``drift``).

Unreliable percentiles: a percentile p needs ``ceil(10 / (1 - p/100))`` iterations so that at least
10 samples lie beyond it (p90 needs 100, p99 1000, p99.9 10000); one with fewer is marked where it
is shown (console, JSON, plot). Rules whose input is unknown give no reason.

The records are in ``validity_record``, the rules on the measurement and its statistics in
``rules_measurement``, those on the machine in ``rules_machine``; this module runs them all
(``assess``) and names every record, rule and threshold again, so ``validity.X`` reads any of them.

    >>> from pinbench.result import validity
    >>> validity.needed_iterations(99.0), validity.MIN_ITERATIONS
    (1000, 30)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .rules_machine import (
    CLOCK_FACTOR,
    FREQUENCY_LIMIT,
    INTERFERENCE_LIMIT,
    INTERFERENCE_MIN_TICKS,
    PREEMPTION_LIMIT,
    PREEMPTION_MIN,
    WALL_CLOCK_LIMIT,
    clock_resolution,
    engine_moved_threads,
    frequency,
    governor,
    interference,
    load_at_start,
    migrated,
    preempted,
    smt_siblings,
    wall_clock,
)
from .rules_measurement import (
    CV_LIMIT,
    DRIFT_ALPHA,
    DRIFT_LIMIT,
    DRIFT_NOTE_LIMIT,
    GIL_SHARE_LIMIT,
    MIN_ITERATIONS,
    TAIL_SAMPLES,
    drift,
    drift_small,
    gil_bound,
    latency_spread,
    needed_iterations,
    stream_failed,
    too_few_iterations,
    unreliable_percentiles,
    unstable,
    unstable_repetitions,
    warmup_unsettled,
)
from .validity_record import NOTES, RULES, Reason, Unreliable, Validity

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ..base.stats import LatencyStats, Trend
    from .counters import Counters
    from .frequency import Frequencies
    from .interference import Interference
    from .measurement import Measurement

__all__ = [
    "CLOCK_FACTOR",
    "CV_LIMIT",
    "DRIFT_ALPHA",
    "DRIFT_LIMIT",
    "DRIFT_NOTE_LIMIT",
    "FREQUENCY_LIMIT",
    "GIL_SHARE_LIMIT",
    "INTERFERENCE_LIMIT",
    "INTERFERENCE_MIN_TICKS",
    "MIN_ITERATIONS",
    "NOTES",
    "PREEMPTION_LIMIT",
    "PREEMPTION_MIN",
    "RULES",
    "TAIL_SAMPLES",
    "WALL_CLOCK_LIMIT",
    "Reason",
    "Unreliable",
    "Validity",
    "assess",
    "clock_resolution",
    "drift",
    "drift_small",
    "engine_moved_threads",
    "frequency",
    "gil_bound",
    "governor",
    "interference",
    "latency_spread",
    "load_at_start",
    "migrated",
    "needed_iterations",
    "preempted",
    "smt_siblings",
    "stream_failed",
    "too_few_iterations",
    "unreliable_percentiles",
    "unstable",
    "unstable_repetitions",
    "wall_clock",
    "warmup_unsettled",
]


def assess(
    m: Measurement,
    lat: LatencyStats,
    clock: Mapping[str, float],
    environment: Mapping[str, Any],
    core_cpus: Sequence[Sequence[int]],
    *,
    throughput_cv: float = math.nan,
    throughput_trend: Trend | None = None,
    load: Interference | None = None,
    freq: Frequencies | None = None,
    counters: Counters | None = None,
) -> Validity:
    """Every rule and note over a finished run's measurement, statistics, clock, environment,
    the spread of its throughput over slices and the interference measured on its CPUs."""
    stream_cpus = [s.cpus for s in m.streams]
    shared = interference(load)
    by_engine = engine_moved_threads(counters, stream_cpus, load)
    reasons = [
        *too_few_iterations(m.iterations),
        *unstable(throughput_cv),
        *drift(throughput_trend),
        *(shared or preempted(counters, stream_cpus, load)),
        *([] if by_engine else migrated(counters, stream_cpus)),
        *frequency(freq),
        *clock_resolution(lat.median, clock),
        *smt_siblings(stream_cpus, core_cpus),
        *wall_clock(clock, m.window_ns),
        *gil_bound(m.gil_wait_share, m.isolation, len(m.streams)),
        *stream_failed(m.failure),
    ]
    notes = [
        *by_engine,
        *governor(environment),
        *load_at_start(environment),
        *latency_spread(lat),
        *warmup_unsettled(m.warmup, m.measure_start_ns != 0),
        *drift_small(throughput_trend),
    ]
    if freq is None:
        notes.append(
            Reason(
                "frequency_unknown",
                "the CPUs' clock frequency could not be read (no cpufreq, as on most virtual "
                "machines): a frequency drop would go unseen",
            )
        )
    if load is None:
        notes.append(
            Reason(
                "interference_unknown",
                "the CPU counters could not be read: interference on the streams' CPUs is unknown",
            )
        )
    return Validity(tuple(reasons), tuple(notes), unreliable_percentiles(m.iterations))
