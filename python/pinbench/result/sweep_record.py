"""What a sweep tried and found: its grid's points and, per model, the frontier and the best
point. Plain records; ``pinbench.search.sweep_runner`` fills them, the reporters show them. (The
searches a single run makes, ``-nstreams auto`` and ``--find-qps``, are in ``result.tuning``.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from .fleet import Fleet
    from .generation import GenerationFigures


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True when two intervals share a point (False when either is unknown)."""
    if not all(map(math.isfinite, (*a, *b))):
        return False
    return a[0] <= b[1] and b[0] <= a[1]


def runner_up(values: list[float], best: int, eligible: list[int]) -> int | None:
    """The index of the highest value after ``best`` among ``eligible`` (None without one)."""
    rest = [i for i in eligible if i != best and math.isfinite(values[i])]
    return max(rest, key=lambda i: values[i], default=None)


class WithGeneration(Protocol):
    """A point's full result: as measured (``Result``) or read back (``schema.run.RunDoc``)."""

    @property
    def generation(self) -> GenerationFigures | None: ...


R = TypeVar("R", bound=WithGeneration)


@dataclass(frozen=True)
class SweepPoint(Generic[R]):
    """One configuration of a sweep's grid, as measured, or the one-line error that stopped it
    (then its figures are NaN and ``result`` is None)."""

    batch_size: int
    num_streams: int
    items_per_sec: float
    latency_ms: float  # at the sweep's percentile
    median_ms: float
    iterations: int
    valid: bool
    result: R | None = field(default=None, compare=False, repr=False)
    model: str = ""
    engine: str = ""  # as given to --engines (a name, file.py:Class, ...)
    scenario: str = ""
    num_cores: int = 0
    mean_ms: float = math.nan
    std_ms: float = math.nan
    input_shapes: dict[str, list[int]] = field(default_factory=dict)  # as run; {} if unknown
    command: tuple[str, ...] = ()  # the pinbench command that runs this point alone
    error: str | None = None  # one line: why the point has no figures
    interrupted: bool = False  # its measurement was cut short by Ctrl-C or SIGTERM
    sequence_length: int | None = None  # -seq_len, when the sweep varies it
    prompt_tokens: int | None = None  # a generate point's request (None elsewhere)
    new_tokens: int | None = None
    host: str | None = None  # a fleet's host that ran it (None: this machine)
    host_kind: str | None = None  # that host's kind (``result.fleet``)
    retried_from: str | None = None  # a fleet's first host and why it failed, when retried
    # What the hardware said (result.ab_record.HARDWARE_METRICS); NaN where unknown
    ipc: float = math.nan
    cpu_ms_per_inference: float = math.nan
    joules_per_inference: float = math.nan

    @property
    def hardware(self) -> dict[str, float]:
        """The hardware figures this point has (none with --counters off)."""
        figures = {
            "ipc": self.ipc,
            "cpu_ms_per_inference": self.cpu_ms_per_inference,
            "joules_per_inference": self.joules_per_inference,
        }
        return {k: v for k, v in figures.items() if math.isfinite(v)}

    @property
    def generation(self) -> GenerationFigures | None:
        """A generate point's token figures (its result's); None for other points."""
        return self.result.generation if self.result is not None else None

    @property
    def ok(self) -> bool:
        """Measured to the end: a candidate for the frontier and the best point."""
        return self.error is None and not self.interrupted

    def label(self) -> str:
        request = "" if self.sequence_length is None else f" seq{self.sequence_length}"
        if self.prompt_tokens is not None:
            request += f" p{self.prompt_tokens} n{self.new_tokens}"
        return f"b{self.batch_size} s{self.num_streams}{request}"


@dataclass(frozen=True)
class SweepModel:
    """One model's share of a sweep: its points, frontier and best point (indices into
    ``Sweep.points``)."""

    model: str
    points: tuple[int, ...]
    frontier: tuple[int, ...]  # by increasing latency
    best: int | None  # None: no point meets the target (or none was measured)
    runner_up: int | None = None  # the next fastest point meeting the target
    within_noise: bool = False  # its 95% interval overlaps the best one's


@dataclass(frozen=True)
class Sweep(Generic[R]):
    """A finished (or interrupted) sweep: the points in grid order and, per model, the frontier
    and the best point. Throughput is not compared across models (their items differ). As run
    (``Sweep[Result]``) or read back (``Sweep[RunDoc]``, ``schema.sweep``)."""

    models: tuple[SweepModel, ...]
    scenarios: tuple[str, ...]
    engines: tuple[str, ...]
    cores: tuple[int, ...]
    batch_sizes: tuple[int, ...]
    percentile: float
    latency_slo_ms: float | None
    points: tuple[SweepPoint[R], ...]
    planned: int  # configurations in the grid; more than len(points) after an interrupt
    seconds: float = 0.0  # -t of each point
    warmup_seconds: float | str = 0.0  # -w of each point (seconds, or "auto")
    timestamp: str = ""
    command_line: tuple[str, ...] = ()
    interrupt: str | None = None  # the exception that stopped it (KeyboardInterrupt, ...)
    path: str = ""  # the file it was read from ("" when run, or read from a dict)
    fleet: Fleet | None = None  # the hosts, when the points ran on a cluster

    @property
    def interrupted(self) -> bool:
        return self.interrupt is not None

    @property
    def model(self) -> str:
        """The model swept, or the models joined by commas."""
        return ", ".join(m.model for m in self.models)

    @property
    def scenario(self) -> str:
        return ",".join(self.scenarios)

    @property
    def frontier(self) -> tuple[int, ...]:
        """Every point on its own model's frontier, model by model."""
        return tuple(i for m in self.models for i in m.frontier)

    @property
    def best(self) -> int | None:
        """The best point of a one-model sweep; with several models None (see ``models``)."""
        return self.models[0].best if len(self.models) == 1 else None

    @property
    def runs(self) -> tuple[R | None, ...]:
        """Each point's full result (None for a failed point), in grid order."""
        return tuple(p.result for p in self.points)

    def on_frontier(self, i: int) -> bool:
        """Point ``i`` is on its model's frontier."""
        return i in self.frontier

    def is_best(self, i: int) -> bool:
        """Point ``i`` is its model's best."""
        return any(m.best == i for m in self.models)

    @property
    def failed(self) -> tuple[int, ...]:
        return tuple(i for i, p in enumerate(self.points) if p.error is not None)

    def label(self, i: int) -> str:
        """A point's short name: the axes that vary in this sweep, then batch and streams."""
        p = self.points[i]
        kinds = self.fleet is not None and len(self.fleet.kinds) > 1
        parts = [p.host_kind or "?"] if kinds else []  # every-host: the same point per kind
        parts += [p.engine] if len(self.engines) > 1 else []
        parts += [f"c{p.num_cores}"] if len(self.cores) > 1 else []
        parts += [p.scenario] if len(self.scenarios) > 1 else []
        return " ".join([*parts, p.label()])
