"""Result: one benchmark run, assembled once (``pinbench.run.assemble``) and only read after.

It holds the request (``settings``), what ran (``config``), the raw measurement, and every figure
computed from them: throughput and its interval, latency statistics, each stream's figures, the
server scenario's figures and the verdict. Reporters (console, JSON, plots) format these and
compute nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..base.stats import LatencyStats, Trend
    from ..settings import RunSettings
    from .config import RunConfig
    from .counters import Counters
    from .energy import Energy
    from .frequency import Frequencies
    from .generation import GenerationFigures
    from .interference import Interference
    from .measurement import Measurement
    from .memory import Memory
    from .profile import Profile
    from .repetitions import Repetitions
    from .roofline import Roofline
    from .server import ServerFigures
    from .startup import Startup
    from .validity import Validity


@dataclass(frozen=True)
class StreamFigures:
    """One stream's figures, as assembled."""

    index: int
    cpus_planned: tuple[int, ...]  # what the plan asked for; empty = not pinned
    cpus: tuple[int, ...]  # the affinity read back on the stream's thread
    engine_threads: int
    iterations: int
    warmup_iterations: int
    items_per_sec: float | None  # over the stream's own span; None when it finished nothing
    items_per_sec_ci: tuple[float, float]
    latency: LatencyStats
    first_iteration_ms: float  # NaN when unknown (no iteration, or capped samples)
    instance: int | None = None  # the index of the engine instance it stepped (RunConfig)
    gil_wait_ms: float | None = (
        0.0  # its step's wait for the GIL in the timed region; None: untimed
    )
    gil_wait_share: float | None = None  # ... as a share of the run's window; None: unknown
    pid: int = 0  # the process that ran it (its worker's, with process isolation)
    core_type: str | None = None  # its CPUs' core type on a hybrid CPU; None: not known


@dataclass(frozen=True)
class Result:
    """A finished (or interrupted) model benchmark.

    Example::

        >>> r = pinbench.benchmark("squeezenet", scenario="sync", time=0.5, warmup_time=0.2)
        >>> r.items_per_sec, r.latency.median, r.validity.valid  # doctest: +SKIP
    """

    settings: RunSettings  # as requested
    config: RunConfig  # as resolved
    measurement: Measurement
    items_per_sec: float  # batch_size * iterations / window (NaN when nothing finished)
    items_per_sec_ci: tuple[float, float]  # 95%, batch means (see base.stats)
    latency: LatencyStats  # ms per batch, over every stream
    streams: tuple[StreamFigures, ...]
    validity: Validity
    throughput_cv: float = float("nan")  # std / mean of the throughput over the window's slices
    throughput_trend: Trend | None = None  # a monotone trend over the same slices (drift)
    interference: Interference | None = None  # other work on the streams' CPUs; None: unknown
    frequency: Frequencies | None = None  # the streams' CPUs' clock; None: unknown
    server: ServerFigures | None = None  # the server scenario's figures
    generation: GenerationFigures | None = None  # -s generate's token figures
    repetitions: Repetitions | None = None  # -r N: every repetition; these figures are one
    environment: dict[str, Any] = field(default_factory=dict)
    clock: dict[str, float] = field(default_factory=dict)
    core_cpus: list[list[int]] = field(default_factory=list)  # CPUs of each physical core
    samples: dict[str, Any] | None = None  # where --export-samples wrote them
    startup: Startup | None = None  # from the command (or call) to the first measured iteration
    memory: Memory | None = None  # RSS before and after the instances were built, and the peak
    profile: Profile | None = None  # --profile: the operators' times of a profiled pass
    roofline: Roofline | None = None  # --roofline: the bandwidth, and decode steps against it
    counters: Counters | None = None  # per-stream counters over the window; None: --counters off
    energy: Energy | None = None  # RAPL energy over the window; None: --counters off

    @property
    def interrupted(self) -> bool:
        return self.measurement.interrupted

    @property
    def iterations(self) -> int:
        return self.measurement.iterations

    @property
    def seconds_ran(self) -> float:
        return self.measurement.seconds
