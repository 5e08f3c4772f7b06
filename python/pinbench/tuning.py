"""Finding the best configuration: ``-nstreams auto`` and ``--find-qps``.

**Auto streams** (``num_streams="auto"``). Short closed-loop probes, one per candidate number of
streams N over the selected cores C: the divisors of C and the powers of two up to C (N streams
of C/N cores each, group sizes differing by at most one). Each probe builds the candidate's
engine instances on their pinned threads, warms up ``min(warmup, probe_time / 2)`` seconds and
measures ``probe_time`` seconds. The chosen N has the highest throughput; a candidate with fewer
streams within ``TIE_TOLERANCE`` (3%) of it is preferred, since fewer streams mean more cores
per inference and lower latency, and a 3% gap is within a short probe's noise. The table of what
was tried is printed and exported (``pinbench.auto_streams``). ``sync`` always runs one stream.

**Highest rate under a latency target** (``find_qps``). A search over the server scenario's
arrival rate for the highest rate whose latency percentile (``--percentile``, queueing included)
meets ``--latency-slo``, with no query dropped:

1. capacity: a closed-loop (async) probe of ``probe_time`` seconds on the same streams gives the
   rate the streams sustain when never idle, ``mu``; no open loop can sustain more. If even its
   median latency (no queueing) exceeds the target, no rate can meet it: one-line error.
2. search (``bisect_rate``): a trial runs the server scenario at one rate for
   ``max(probe_time, n / rate)`` seconds, at most ``-t``, where n = ``needed_iterations(p)``
   (10 samples beyond the percentile: 1000 for p99). The first trial is at ``0.55 mu``; until a
   trial fails the next tests the upper end ``1.1 mu``, doubled each time it passes (a noisy
   machine's probe may be low); then bisection between the highest passing and the lowest
   failing rate, until they are within ``tolerance`` (2%) of each other or ``max_trials`` (10)
   trials have run.
3. the best rate that met the target is run again for the full ``-t``: that run is the result
   (console and JSON), with the trials in ``pinbench.find_qps``.

The tail of a short trial is noisy, so the answer is good to a few percent, not to a query.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import RunError, UsageError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterator, Sequence

    import numpy as np

    from .engines.base import Engine, EngineOptions
    from .measurement import Measurement
    from .models import LoadedModel
    from .results import Result
    from .scenarios import Layout

log = logging.getLogger("pinbench")

AUTO = "auto"
ARRIVALS = ("poisson", "uniform")  # arrivals.DISTRIBUTIONS, without importing numpy for --help
PROBE_SECONDS = 1.0
TIE_TOLERANCE = 0.03
QPS_TOLERANCE = 0.02
QPS_MAX_TRIALS = 10
QPS_HEADROOM = 1.1  # the search's upper bound, times the closed-loop capacity

_LATENCY = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(ms|us|µs|s|ns)?\s*$")
_UNIT_MS = {"ms": 1.0, "us": 1e-3, "µs": 1e-3, "ns": 1e-6, "s": 1e3, None: 1.0}


# --- parsing (argparse types; light: no numpy) ---------------------------------------------------


def parse_num_streams(text: str) -> int | str:
    """``-nstreams``: a positive integer or ``auto``."""
    import argparse

    if text.strip().lower() == AUTO:
        return AUTO
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer >= 1 or 'auto'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer >= 1 or 'auto'")
    return value


def parse_latency_ms(text: str) -> float:
    """A latency target in ms: ``20ms``, ``0.02s``, ``500us``, or a bare number of ms."""
    import argparse

    match = _LATENCY.match(text)
    value = float(match.group(1)) * _UNIT_MS[match.group(2)] if match else math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a latency > 0 such as 20ms, 0.5s or 800us"
        )
    return value


def parse_percentile(text: str) -> float:
    """A percentile strictly between 0 and 100 (``99``, ``99.9``)."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value < 100):
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentile between 0 and 100")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The server scenario's and the search's flags, in a group of their own."""
    group = parser.add_argument_group("server scenario and search")
    group.add_argument(
        "--qps",
        type=float,
        default=None,
        metavar="Q",
        help="server scenario (-s server): arrival rate, queries (batches) per second",
    )
    group.add_argument(
        "--arrivals",
        choices=ARRIVALS,
        default="poisson",
        help="server scenario: arrival times, poisson (default, seeded by --seed) or uniform",
    )
    group.add_argument(
        "--find-qps",
        action="store_true",
        help="search the server scenario for the highest rate meeting --latency-slo",
    )
    group.add_argument(
        "--latency-slo",
        type=parse_latency_ms,
        default=None,
        metavar="TIME",
        help="latency target of --find-qps, e.g. 20ms",
    )
    group.add_argument(
        "--percentile",
        type=parse_percentile,
        default=99.0,
        metavar="P",
        help="the latency percentile that must meet --latency-slo (99)",
    )
    group.add_argument(
        "--probe-time",
        type=_positive_seconds,
        default=PROBE_SECONDS,
        metavar="SEC",
        help=f"seconds of each probe of -nstreams auto and --find-qps ({PROBE_SECONDS:g})",
    )


def _positive_seconds(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds > 0")
    return value


# --- auto streams --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamProbe:
    """One candidate of ``-nstreams auto``, as measured by its probe."""

    num_streams: int
    cores_per_stream: tuple[int, ...]  # engine threads of each stream
    items_per_sec: float
    iterations: int
    seconds: float
    median_ms: float
    p99_ms: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"cores_per_stream": list(self.cores_per_stream)}


@dataclass(frozen=True)
class StreamTuning:
    """What ``-nstreams auto`` tried and chose."""

    probes: tuple[StreamProbe, ...]
    chosen: int  # the number of streams chosen
    probe_seconds: float
    warmup_seconds: float
    tolerance: float = TIE_TOLERANCE

    @property
    def best_probe(self) -> StreamProbe:
        return next(p for p in self.probes if p.num_streams == self.chosen)

    def reason(self) -> str:
        p = self.best_probe
        return (
            f"auto: {p.num_streams} stream(s) of {_cores(p.cores_per_stream)} core(s) had the "
            f"highest throughput in {len(self.probes)} probes of {self.probe_seconds:g} s "
            f"({p.items_per_sec:.1f} items/s)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "closed-loop probe per candidate; highest items/sec, fewer streams "
            "preferred within the tolerance",
            "probe_seconds": self.probe_seconds,
            "warmup_seconds": self.warmup_seconds,
            "tolerance": self.tolerance,
            "chosen": self.chosen,
            "candidates": [p.to_dict() for p in self.probes],
        }

    def lines(self) -> list[str]:
        rows = [
            (
                "*" if p.num_streams == self.chosen else "",
                str(p.num_streams),
                _cores(p.cores_per_stream),
                f"{p.items_per_sec:.4f}",
                f"{p.median_ms:.4f}",
                f"{p.p99_ms:.4f}",
                str(p.iterations),
            )
            for p in self.probes
        ]
        header = ("", "streams", "cores/stream", "items/sec", "median ms", "p99 ms", "iterations")
        return [
            f"Auto Streams: {self.chosen} (probes of {self.probe_seconds:g} s; * chosen)",
            *table_lines(header, rows),
        ]


def stream_candidates(cores: int) -> list[int]:
    """Numbers of streams worth probing on ``cores`` cores: its divisors and the powers of two
    up to it (``[1, 2]`` on 2 cores, ``[1, 2, 3, 4, 6, 8, 12]`` on 12)."""
    if cores < 1:
        raise UsageError(f"number of cores must be at least 1, got {cores}")
    divisors = {n for n in range(1, cores + 1) if cores % n == 0}
    powers = {1 << k for k in range(cores.bit_length()) if 1 << k <= cores}
    return sorted(divisors | powers)


def choose_streams(probes: Sequence[StreamProbe], tolerance: float = TIE_TOLERANCE) -> StreamProbe:
    """The probe with the highest throughput, or one with fewer streams within ``tolerance``."""
    measured = [p for p in probes if math.isfinite(p.items_per_sec) and p.items_per_sec > 0]
    if not measured:
        raise RunError("-nstreams auto: no probe finished an iteration; raise --probe-time")
    top = max(p.items_per_sec for p in measured)
    close = [p for p in measured if p.items_per_sec >= top * (1.0 - tolerance)]
    return min(close, key=lambda p: p.num_streams)


def probe_for(layout: Layout, m: Measurement, batch_size: int, seconds: float) -> StreamProbe:
    """A StreamProbe from a probe's measurement."""
    lat = m.latency
    return StreamProbe(
        num_streams=layout.num_streams,
        cores_per_stream=tuple(s.threads for s in layout.streams),
        items_per_sec=batch_size * m.throughput,
        iterations=m.iterations,
        seconds=m.seconds,
        median_ms=lat.median,
        p99_ms=lat.percentiles.get(99.0, math.nan),
    )


def auto_layout(
    base: Layout,
    plan: Callable[[int], Layout],
    run_probe: Callable[[Layout, float, float], Measurement],
    *,
    batch_size: int,
    probe_time: float = PROBE_SECONDS,
    warmup: float = 0.5,
    tolerance: float = TIE_TOLERANCE,
) -> tuple[Layout, StreamTuning | None]:
    """Probes each candidate and returns the chosen layout and the table (None for ``sync``).

    ``base`` is the scenario's default layout, ``plan(n)`` the layout of n streams and
    ``run_probe(layout, warmup_s, measure_s)`` a closed-loop measurement of it.
    """
    if base.scenario == "sync":
        return base, None
    if not (math.isfinite(probe_time) and probe_time > 0):
        raise UsageError(f"--probe-time must be more than 0 s, got {probe_time}")
    probe_warmup = min(warmup, probe_time / 2.0)
    probes: list[StreamProbe] = []
    layouts: dict[int, Layout] = {}
    for n in stream_candidates(base.num_cores):
        layout = plan(n)
        layouts[n] = layout
        m = run_probe(layout, probe_warmup, probe_time)
        probe = probe_for(layout, m, batch_size, probe_time)
        log.info(
            "auto probe: %d stream(s) of %s core(s): %.1f items/s, median %.3f ms",
            n,
            _cores(probe.cores_per_stream),
            probe.items_per_sec,
            probe.median_ms,
        )
        probes.append(probe)
        if m.interrupted:
            raise KeyboardInterrupt
    best = choose_streams(probes, tolerance)
    tuning = StreamTuning(tuple(probes), best.num_streams, probe_time, probe_warmup, tolerance)
    chosen = dataclasses.replace(layouts[best.num_streams], num_streams_reason=tuning.reason())
    return chosen, tuning


def make_prober(
    cls: type[Engine],
    model: LoadedModel,
    options: EngineOptions,
    *,
    batch_size: int,
    input_shapes: dict[str, list[int]],
    make_inputs: Callable[[int], dict[str, np.ndarray]],
    spinning: bool | None,
    iteration_timeout: float | None = None,
    seed: int = 0,
) -> Callable[[Layout, float, float], Measurement]:
    """``run_probe(layout, warmup_s, measure_s)`` over a fresh engine of ``cls`` per probe (its
    instances built on the probe's pinned threads, as in the real run)."""
    from .measurement import StreamError, measure
    from .model_benchmark import _engine_failure
    from .scenarios import step_factory

    def run_probe(layout: Layout, warmup: float, seconds: float) -> Measurement:
        engine = cls(model, options)
        engine.prepare(layout, batch_size=batch_size, input_shapes=input_shapes)
        spin = spinning if spinning is not None else layout.scenario == "sync"
        make_step = step_factory(engine, layout, make_inputs, spinning=spin)
        try:
            return measure(
                make_step,
                streams=layout.num_streams,
                cpus=[list(s.cpus) for s in layout.streams],
                warmup=warmup,
                duration=seconds,
                max_samples=100_000,
                iteration_timeout=iteration_timeout,
                seed=seed,
            )
        except StreamError as e:
            raise _engine_failure(e) from e.error

    return run_probe


# --- the highest rate under a latency target -----------------------------------------------------


@dataclass(frozen=True)
class QpsTrial:
    """One server run of the search."""

    qps: float
    seconds: float
    qps_achieved: float
    latency_ms: float  # at the search's percentile, queueing included
    median_ms: float
    issued: int
    dropped: int
    meets: bool

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class QpsSearch:
    """What ``--find-qps`` tried and found."""

    latency_slo_ms: float
    percentile: float
    capacity_qps: float  # closed-loop queries/s of the same streams
    trials: tuple[QpsTrial, ...]
    best_qps: float | None
    tolerance: float = QPS_TOLERANCE
    max_trials: int = QPS_MAX_TRIALS

    def to_dict(self, final: Result | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": "closed-loop capacity probe, then bisection of the server rate from "
            f"[0, {QPS_HEADROOM:g} x capacity] (widened while no trial fails); the best rate "
            "run again for -t",
            "latency_slo_ms": self.latency_slo_ms,
            "percentile": self.percentile,
            "capacity_qps": self.capacity_qps,
            "tolerance": self.tolerance,
            "max_trials": self.max_trials,
            "best_qps": self.best_qps,
            "trials": [t.to_dict() for t in self.trials],
        }
        if final is not None:
            value = latency_at(final.measurement, self.percentile)
            out["final"] = {
                "qps": self.best_qps,
                "latency_ms": value,
                "meets": value <= self.latency_slo_ms and not final.measurement.arrivals_dropped,
            }
        return out

    def lines(self, final: Result | None = None) -> list[str]:
        p = f"p{self.percentile:g}"
        rows = [
            (
                str(i + 1),
                f"{t.qps:.4f}",
                f"{t.qps_achieved:.4f}",
                f"{t.latency_ms:.4f}",
                f"{t.seconds:.2f}",
                str(t.dropped),
                "yes" if t.meets else "no",
            )
            for i, t in enumerate(self.trials)
        ]
        header = ("trial", "qps", "achieved", f"{p} ms", "seconds", "dropped", "meets")
        best = f"{self.best_qps:.4f}" if self.best_qps is not None else "none"
        out = [
            f"Max Rate Under Target (queries/sec): {best} ({p} <= {self.latency_slo_ms:g} ms; "
            f"closed-loop capacity {self.capacity_qps:.4f})",
        ]
        if final is not None:
            value = latency_at(final.measurement, self.percentile)
            verdict = "meets" if value <= self.latency_slo_ms else "misses"
            out.append(f"Max Rate Confirmation: {p} {value:.4f} ms over -t, {verdict} the target")
        return [*out, *table_lines(header, rows)]


def latency_at(m: Measurement, percentile: float) -> float:
    """The ``percentile`` of every stored latency, ms (numpy's linear interpolation)."""
    import numpy as np

    lat = m.latencies_ns()
    return float(np.percentile(lat, percentile)) / 1e6 if lat.size else math.nan


def bisect_rate(
    trial: Callable[[float], QpsTrial],
    capacity: float,
    *,
    tolerance: float = QPS_TOLERANCE,
    max_trials: int = QPS_MAX_TRIALS,
) -> list[QpsTrial]:
    """The trials, in the order run, of a search for the highest rate with ``trial(rate).meets``,
    assuming a rate meets the target when any lower one does.

    The first trial is at half of ``QPS_HEADROOM * capacity``. Until a trial fails, the next one
    tests that upper end, doubling it each time it passes (the capacity probe was low); once one
    has failed, bisection between the highest passing and the lowest failing rate, until they are
    within ``tolerance`` of the latter or ``max_trials`` have run.
    """
    lo, hi, failed = 0.0, QPS_HEADROOM * capacity, False
    trials: list[QpsTrial] = []
    while len(trials) < max_trials and not (failed and hi - lo <= tolerance * hi):
        rate = hi if not failed and lo > 0 else (lo + hi) / 2.0
        t = trial(rate)
        trials.append(t)
        if t.meets:
            lo = rate
            if not failed and rate == hi:
                hi *= 2.0
        else:
            hi, failed = rate, True
    return trials


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """Each trial is a whole benchmark: keep its info logs out, its warnings in."""
    level = log.level
    if level <= logging.INFO:
        log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)


def find_qps(
    model: str,
    *,
    latency_slo_ms: float,
    percentile: float = 99.0,
    probe_time: float = PROBE_SECONDS,
    max_trials: int = QPS_MAX_TRIALS,
    tolerance: float = QPS_TOLERANCE,
    **kwargs: Any,
) -> Result:
    """The highest server rate whose ``percentile`` latency meets ``latency_slo_ms``.

    ``kwargs`` are ``benchmark()``'s (``time`` bounds each trial and is the final run's length;
    ``num_streams`` may be ``"auto"``). Returns the final server run at the rate found, its
    ``config.find_qps`` holding the search; RunError when no rate meets the target.

    Example::

        >>> r = find_qps("squeezenet", latency_slo_ms=20, time=3, warmup_time=0.5)
        >>> r.config.find_qps.best_qps  # doctest: +SKIP
    """
    from .model_benchmark import benchmark
    from .results import check_export_path, write_json_atomic
    from .validity import needed_iterations

    if not (math.isfinite(latency_slo_ms) and latency_slo_ms > 0):
        raise UsageError(f"--latency-slo must be more than 0 ms, got {latency_slo_ms}")
    if not 0 < percentile < 100:
        raise UsageError(f"--percentile must lie between 0 and 100, got {percentile}")
    if not (math.isfinite(probe_time) and probe_time > 0):
        raise UsageError(f"--probe-time must be more than 0 s, got {probe_time}")
    scenario = kwargs.pop("scenario", "server")
    if scenario not in ("server", "async"):
        raise UsageError(f"--find-qps searches the server scenario's rate; drop -s {scenario}")
    if kwargs.pop("qps", None) is not None:
        raise UsageError("--find-qps searches the rate itself; drop --qps")
    export_path = kwargs.pop("export_path", None)
    if export_path:
        check_export_path(export_path)
    final_only = {
        k: kwargs.pop(k) for k in ("export_samples", "on_start", "command_line") if k in kwargs
    }
    time = float(kwargs.pop("time", 10.0))
    warmup = float(kwargs.pop("warmup_time", 2.0))
    probe_warmup = min(warmup, probe_time / 2.0)

    capacity_run = benchmark(
        model,
        scenario="async",
        time=probe_time,
        warmup_time=probe_warmup,
        probe_time=probe_time,
        **kwargs,
    )
    capacity = capacity_run.iterations / capacity_run.seconds_ran
    auto = split_num_streams(kwargs.get("num_streams"))[1]
    if auto:  # chosen once, by the capacity run's probes
        kwargs["num_streams"] = capacity_run.config.num_streams
    log.info(
        "find-qps: closed-loop capacity %.1f queries/s on %d stream(s), median %.3f ms",
        capacity,
        capacity_run.config.num_streams,
        capacity_run.latency.median,
    )
    if capacity_run.latency.median > latency_slo_ms:
        raise RunError(
            f"no rate can meet p{percentile:g} <= {latency_slo_ms:g} ms: one inference alone "
            f"takes {capacity_run.latency.median:.3f} ms (median, no queueing)"
        )
    needed = needed_iterations(percentile)

    def trial(rate: float) -> QpsTrial:
        seconds = min(max(probe_time, needed / rate), max(probe_time, time))
        with quiet_logs():
            r = benchmark(
                model,
                scenario="server",
                qps=rate,
                time=seconds,
                warmup_time=probe_warmup,
                **kwargs,
            )
        m = r.measurement
        value = latency_at(m, percentile)
        t = QpsTrial(
            qps=rate,
            seconds=seconds,
            qps_achieved=m.throughput,
            latency_ms=value,
            median_ms=r.latency.median,
            issued=int(m.arrivals_issued or 0),
            dropped=int(m.arrivals_dropped or 0),
            meets=bool(value <= latency_slo_ms and not m.arrivals_dropped),
        )
        log.info(
            "find-qps trial: %.1f queries/s for %.2f s: p%g %.3f ms, %d dropped: %s",
            rate,
            seconds,
            percentile,
            value,
            t.dropped,
            "meets" if t.meets else "misses",
        )
        return t

    trials = bisect_rate(trial, capacity, tolerance=tolerance, max_trials=max_trials)
    passed = [t for t in trials if t.meets]
    if not passed:
        lowest = min(trials, key=lambda t: t.qps)
        raise RunError(
            f"no rate meets p{percentile:g} <= {latency_slo_ms:g} ms: the lowest tried, "
            f"{lowest.qps:.1f} queries/s, gave {lowest.latency_ms:.3f} ms"
        )
    best = max(t.qps for t in passed)
    search = QpsSearch(
        latency_slo_ms, percentile, capacity, tuple(trials), best, tolerance, max_trials
    )
    log.info("find-qps: %.1f queries/s; confirming for %g s", best, time)
    final = benchmark(
        model,
        scenario="server",
        qps=best,
        time=time,
        warmup_time=warmup,
        export_path=export_path,
        **kwargs,
        **final_only,
    )
    config = dataclasses.replace(
        final.config,
        find_qps=search,
        auto_streams=capacity_run.config.auto_streams,
        num_streams_reason=capacity_run.config.num_streams_reason
        if auto
        else final.config.num_streams_reason,
    )
    final = dataclasses.replace(final, config=config)
    confirmed = latency_at(final.measurement, percentile)
    if not confirmed <= latency_slo_ms:
        log.warning(
            "find-qps: over the full -t, p%g was %.3f ms at %.1f queries/s, above the target: "
            "short trials see less of the queue's tail; raise --probe-time",
            percentile,
            confirmed,
            best,
        )
    if export_path:
        write_json_atomic(final.to_dict(), export_path)  # again, with the search
    return final


# --- the report's and the JSON's hooks ------------------------------------------------------------


def sections(result: Result) -> dict[str, Any]:
    """The JSON's ``pinbench`` sections of this module and of the server scenario."""
    from . import server

    c = result.config
    out: dict[str, Any] = {}
    served = server.section(result)
    if served is not None:
        out["server"] = served
    if c.auto_streams is not None:
        out["auto_streams"] = c.auto_streams.to_dict()
    if c.find_qps is not None:
        out["find_qps"] = c.find_qps.to_dict(result)
    return out


def lines(result: Result) -> list[str]:
    """Console lines after the verdict: what auto streams and the rate search tried."""
    c = result.config
    out: list[str] = []
    if c.auto_streams is not None:
        out += c.auto_streams.lines()
    if c.find_qps is not None:
        out += c.find_qps.lines(result)
    return out


def _cores(threads: Sequence[int]) -> str:
    lo, hi = min(threads), max(threads)
    return str(lo) if lo == hi else f"{lo}-{hi}"


def table_lines(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    return [
        "  " + "  ".join(cell.rjust(w) for cell, w in zip(row, widths)).rstrip()
        for row in (header, *rows)
    ]


def split_num_streams(num_streams: int | str | None) -> tuple[int | None, bool]:
    """``(fixed number or None, auto)`` of a ``num_streams`` argument; UsageError otherwise."""
    if isinstance(num_streams, str):
        if num_streams.strip().lower() != AUTO:
            raise UsageError(f"-nstreams must be an integer >= 1 or 'auto', got {num_streams!r}")
        return None, True
    return num_streams, False


def runner(args: argparse.Namespace) -> Callable[..., Result]:
    """``benchmark`` with the server and auto flags bound, or ``find_qps`` for ``--find-qps``."""
    import functools

    from .model_benchmark import benchmark

    if args.find_qps:
        if args.latency_slo is None:
            raise UsageError("--find-qps needs a target: add --latency-slo, e.g. 20ms")
        if args.qps is not None:
            raise UsageError("--find-qps searches the rate itself; drop --qps")
        return functools.partial(
            find_qps,
            latency_slo_ms=args.latency_slo,
            percentile=args.percentile,
            probe_time=args.probe_time,
            arrivals=args.arrivals,
        )
    if args.latency_slo is not None:
        raise UsageError("--latency-slo is the target of --find-qps (or of pinbench sweep)")
    return functools.partial(
        benchmark, qps=args.qps, arrivals=args.arrivals, probe_time=args.probe_time
    )
