"""Result of a model benchmark, and its JSON form (the original's keys plus a `pinbench` section).

The top level and ``benchmark_result`` carry exactly the keys of deepsparse.benchmark's export,
computed the same way (latency in ms per batch, numpy's linear-interpolation percentiles,
population std, ``items_per_sec = batch_size * iterations / window``). Everything pinbench adds
lives under ``"pinbench"``, versioned by ``schema_version``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .errors import UsageError
from .stats import DEEPSPARSE_PERCENTILES, LatencyStats, percentile_key

if TYPE_CHECKING:
    from .measurement import Measurement, StreamMeasurement
    from .server import ServerSettings
    from .tuning import QpsSearch, StreamTuning
    from .validity import Validity

# History in docs/results.md. 2: statistics, confidence intervals, validity, samples, clock check.
SCHEMA_VERSION = 2


@dataclass(frozen=True)
class RunConfig:
    """What was asked for and what was resolved: every value here is what actually ran."""

    orig_model_path: str
    model_path: str
    batch_size: int
    input_shapes: list[list[int]] | dict[str, list[int]] | None  # as the user gave them
    resolved_input_shapes: dict[str, list[int]]  # per input, as run
    input_source: str  # "generated (seed N)" or the --data path
    num_cores: int
    scenario: str
    deepsparse_scenario: str
    num_streams: int
    num_streams_reason: str
    pinning: str
    seconds_to_run: float
    warmup_seconds: float
    engine_name: str
    engine_version: str
    engine_description: str
    engine_options: dict[str, object]
    engine_instances: int
    stream_threads: list[int]
    seed: int
    command_line: list[str] = field(default_factory=list)
    timestamp: str = ""
    scheduler: str = "None"  # the engine's scheduler, as the original writes it (DeepSparse only)
    fraction_of_supported_ops: float | None = None  # as the engine reports it (DeepSparse only)
    server: ServerSettings | None = None  # the server scenario's rate and arrivals
    auto_streams: StreamTuning | None = None  # what -nstreams auto tried
    find_qps: QpsSearch | None = None  # what --find-qps tried


@dataclass(frozen=True)
class Result:
    """A finished (or interrupted) model benchmark.

    Example::

        >>> r = pinbench.benchmark("squeezenet", scenario="sync", time=0.5, warmup_time=0.2)
        >>> r.items_per_sec, r.latency.median  # doctest: +SKIP
    """

    config: RunConfig
    measurement: Measurement
    environment: dict[str, Any] = field(default_factory=dict)
    clock: dict[str, float] = field(default_factory=dict)
    core_cpus: list[list[int]] = field(default_factory=list)  # CPUs of each physical core
    samples: dict[str, Any] | None = None  # where --export-samples wrote them

    @cached_property
    def validity(self) -> Validity:
        """Whether the numbers can be trusted, with the reasons (see validity.py)."""
        from .validity import assess

        return assess(self)

    @cached_property
    def items_per_sec_ci(self) -> tuple[float, float]:
        """95% confidence interval of items_per_sec (batch means; see stats.py)."""
        from .stats import throughput_ci

        m = self.measurement
        lo, hi = throughput_ci(
            [(s.starts_ns, s.ends_ns) for s in m.streams], m.window_ns, weights=_weights(m.streams)
        )
        return (lo * self.config.batch_size, hi * self.config.batch_size)

    @property
    def interrupted(self) -> bool:
        return self.measurement.interrupted

    @property
    def iterations(self) -> int:
        return self.measurement.iterations

    @property
    def seconds_ran(self) -> float:
        return self.measurement.seconds

    @property
    def items_per_sec(self) -> float:
        s = self.seconds_ran
        return self.config.batch_size * self.iterations / s if s > 0 else math.nan

    @property
    def latency(self) -> LatencyStats:
        return self.measurement.latency

    def benchmark_result(self) -> dict[str, Any]:
        """The original's ``benchmark_result`` block."""
        lat = self.latency
        out: dict[str, Any] = {
            "scenario": self.config.deepsparse_scenario,
            "items_per_sec": self.items_per_sec,
            "seconds_ran": self.seconds_ran,
            "iterations": self.iterations,
            "median": lat.median,
            "mean": lat.mean,
            "std": lat.std,
        }
        out.update({percentile_key(p): lat.percentiles[p] for p in DEEPSPARSE_PERCENTILES})
        return out

    def to_deepsparse_dict(self) -> dict[str, Any]:
        """Exactly the original's export: same keys, nesting and types."""
        c = self.config
        return {
            "engine": c.engine_description,
            "version": _version(),
            "orig_model_path": c.orig_model_path,
            "model_path": c.model_path,
            "batch_size": c.batch_size,
            "input_shapes": c.input_shapes if c.input_shapes else None,
            "num_cores": c.num_cores,
            "scenario": c.deepsparse_scenario,
            "scheduler": c.scheduler,
            "seconds_to_run": c.seconds_to_run,
            "num_streams": c.num_streams,
            "benchmark_result": self.benchmark_result(),
            "fraction_of_supported_ops": c.fraction_of_supported_ops,
        }

    def to_dict(self) -> dict[str, Any]:
        """The original's export plus the ``pinbench`` section."""
        out = self.to_deepsparse_dict()
        out["pinbench"] = self._pinbench_section()
        from .tuning import sections

        out["pinbench"].update(sections(self))  # server, auto_streams, find_qps
        finite: dict[str, Any] = _finite(out)
        return finite

    def _pinbench_section(self) -> dict[str, Any]:
        c, m = self.config, self.measurement
        window = m.window_ns
        return {
            "schema_version": SCHEMA_VERSION,
            "interrupted": m.interrupted,
            "timestamp": c.timestamp,
            "command_line": c.command_line,
            "config": {
                "scenario": c.scenario,
                "num_streams": c.num_streams,
                "num_streams_reason": c.num_streams_reason,
                "num_cores": c.num_cores,
                "thread_pinning": c.pinning,
                "warmup_seconds": c.warmup_seconds,
                "seconds_to_run": c.seconds_to_run,
                "batch_size": c.batch_size,
                "input_shapes": c.resolved_input_shapes,
                "inputs": c.input_source,
                "seed": c.seed,
                "engine": {
                    "name": c.engine_name,
                    "version": c.engine_version,
                    "instances": c.engine_instances,
                    "options": c.engine_options,
                },
            },
            "result": {
                "items_per_sec": self.items_per_sec,
                "iterations": m.iterations,
                "warmup_iterations": sum(s.warmup_iterations for s in m.streams),
                "seconds_ran": m.seconds,
                "window_ns": list(window) if window else None,
                "items_per_sec_ci": list(self.items_per_sec_ci),
                "latency_ms": self.latency.to_dict(),
                "first_iteration_ms": [first_iteration_ms(s) for s in m.streams],
            },
            "streams": [self._stream_dict(s, c.stream_threads[s.index]) for s in m.streams],
            "statistics": _statistics_methods(),
            "validity": self.validity.to_dict(),
            "samples": self.samples,
            "clock": self.clock,
            "environment": self.environment,
        }

    def _stream_dict(self, s: StreamMeasurement, threads: int) -> dict[str, Any]:
        from .stats import throughput_ci

        lat = s.latency
        window = (s.ends_ns[-1] - s.starts_ns[0]) / 1e9 if s.iterations else 0.0
        span = (int(s.starts_ns[0]), int(s.ends_ns[-1])) if s.starts_ns.size else None
        lo, hi = throughput_ci([(s.starts_ns, s.ends_ns)], span, weights=_weights([s]))
        batch = self.config.batch_size
        return {
            "index": s.index,
            "cpus_planned": list(s.planned_cpus),
            "cpus": list(s.cpus),
            "engine_threads": threads,
            "iterations": s.iterations,
            "warmup_iterations": s.warmup_iterations,
            "items_per_sec": self.config.batch_size * s.iterations / window if window else None,
            "items_per_sec_ci": [lo * batch, hi * batch],
            "latency_ms": lat.to_dict(),
            "first_iteration_ms": first_iteration_ms(s),
        }


def first_iteration_ms(s: StreamMeasurement) -> float:
    """A stream's first measured iteration's latency in ms (the cold one after -w 0); NaN when it
    has none or when capped samples (--max-samples) may not hold it."""
    if s.starts_ns.size == 0 or s.starts_ns.size < s.iterations:
        return math.nan
    return float(s.latencies_ns[0]) / 1e6


def _weights(streams: list[StreamMeasurement]) -> list[float]:
    """Iterations per stored sample of each stream (1.0 unless --max-samples capped them)."""
    return [s.iterations / s.starts_ns.size if s.starts_ns.size else 1.0 for s in streams]


def _statistics_methods() -> dict[str, Any]:
    from .stats import CONFIDENCE

    return {
        "percentiles": "numpy linear interpolation (Hyndman & Fan type 7)",
        "std": "population (ddof=0)",
        "confidence": CONFIDENCE,
        "median_ci": "binomial order statistics (exact to n=1000, normal approximation above)",
        "items_per_sec_ci": "batch means over equal slices of the window (1 s each, 10 to 60 "
        "slices), Student t",
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pinbench")
    except PackageNotFoundError:
        return "0+unknown"


def _finite(value: Any) -> Any:
    """JSON has no NaN: non-finite floats become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def check_export_path(path: str | os.PathLike[str], flag: str = "-x") -> Path:
    """Fails now, before any run, if ``path`` cannot be written.

    It tries for real (a temporary file in the target folder, removed at once): permission bits
    say nothing for root or on a read-only file system.
    """
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{flag} {path}: is a directory; give a file name")
    parent = p.parent
    if not parent.is_dir():
        raise UsageError(f"{flag} {path}: folder {parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".check", dir=parent)
        os.close(fd)
        Path(tmp).unlink()
        if p.exists():
            with p.open("a"):
                pass
    except OSError as e:
        raise UsageError(f"{flag} {path}: cannot write there ({e.strerror or e})") from e
    return p


def write_json_atomic(data: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Writes the JSON atomically: readers never see half a file."""
    from .files import write_atomically

    def write(f: IO[Any]) -> None:
        json.dump(data, f, indent=2)
        f.write("\n")

    write_atomically(path, write, binary=False)
