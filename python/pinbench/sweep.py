"""``pinbench sweep MODEL --batch 1,8,32 --streams 1,2,4 [--latency-slo 20ms]``: the grid, its
Pareto frontier of throughput against tail latency, and the best configuration under a target.

Every (batch, streams) pair of the grid is one whole benchmark (``benchmark()``, the scenario's
engine layout, ``-t`` seconds after ``-w`` of warmup), run in grid order. Each point keeps its
throughput (items/s), its median and its latency at ``--percentile`` (99 by default; numpy's
linear interpolation, as everywhere in pinbench).

- **Pareto frontier**: the points that no other point beats on both counts, i.e. none has at
  least their throughput and at most their latency with one of the two strictly better.
- **Best**: under ``--latency-slo``, the highest throughput among the points whose percentile
  latency meets the target (ties: the lower latency); without a target, the highest throughput.
  When no point meets the target the command says so and exits 1.

``-x FILE.json`` writes the table, the frontier, the best point and every point's full result
(the same JSON as ``pinbench -x``); ``--plot FILE.png`` draws throughput against latency with the
frontier and the target (extra ``pinbench[plot]``).
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NoReturn

from .errors import PinbenchError, RunError, UsageError

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from .results import Result

log = logging.getLogger("pinbench")

SCHEMA_VERSION = 1
SCENARIOS = ("async", "elastic", "sync")


@dataclass(frozen=True)
class SweepPoint:
    """One configuration of the grid, as measured."""

    batch_size: int
    num_streams: int
    items_per_sec: float
    latency_ms: float  # at the sweep's percentile
    median_ms: float
    iterations: int
    valid: bool
    result: Result | None = field(default=None, compare=False, repr=False)

    def label(self) -> str:
        return f"b{self.batch_size} s{self.num_streams}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "num_streams": self.num_streams,
            "items_per_sec": self.items_per_sec,
            "latency_ms": self.latency_ms,
            "median_ms": self.median_ms,
            "iterations": self.iterations,
            "valid": self.valid,
        }


@dataclass(frozen=True)
class Sweep:
    """A finished sweep: the points in grid order, the frontier and the best point (indices)."""

    model: str
    scenario: str
    percentile: float
    latency_slo_ms: float | None
    points: tuple[SweepPoint, ...]
    frontier: tuple[int, ...]  # by increasing latency
    best: int | None  # None: no point meets the target
    seconds: float = 0.0  # -t of each point

    def to_dict(self, command_line: Sequence[str] | None = None) -> dict[str, Any]:
        from .results import _finite

        out = {
            "kind": "pinbench sweep",
            "schema_version": SCHEMA_VERSION,
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command_line": list(command_line) if command_line is not None else list(sys.argv),
            "model": self.model,
            "scenario": self.scenario,
            "seconds_per_point": self.seconds,
            "percentile": self.percentile,
            "latency_slo_ms": self.latency_slo_ms,
            "grid": {
                "batch_sizes": sorted({p.batch_size for p in self.points}),
                "num_streams": sorted({p.num_streams for p in self.points}),
            },
            "points": [
                p.to_dict() | {"pareto": i in self.frontier, "best": i == self.best}
                for i, p in enumerate(self.points)
            ],
            "pareto": list(self.frontier),
            "best": self.best,
            "results": [p.result.to_dict() if p.result else None for p in self.points],
        }
        finite: dict[str, Any] = _finite(out)
        return finite

    def lines(self) -> list[str]:
        from .tuning import table_lines

        p = f"p{self.percentile:g}"
        rows = [
            (
                str(pt.batch_size),
                str(pt.num_streams),
                f"{pt.items_per_sec:.4f}",
                f"{pt.median_ms:.4f}",
                f"{pt.latency_ms:.4f}",
                str(pt.iterations),
                "valid" if pt.valid else "invalid",
                "*" if i in self.frontier else "",
                _meets(pt, self.latency_slo_ms),
            )
            for i, pt in enumerate(self.points)
        ]
        header = (
            *("batch", "streams", "items/sec", "median ms", f"{p} ms", "iterations", "verdict"),
            *("pareto", "meets" if self.latency_slo_ms is not None else ""),
        )
        front = ", ".join(
            f"{self.points[i].label()} ({self.points[i].items_per_sec:.1f}, "
            f"{self.points[i].latency_ms:.3f})"
            for i in self.frontier
        )
        out = [
            f"Sweep: {self.model}, {self.scenario}, {len(self.points)} configurations, "
            f"{self.seconds:g} s each",
            *table_lines(header, rows),
            f"Pareto Frontier (items/sec, {p} ms): {front or 'none'}",
        ]
        target = (
            f"Best Under Target ({p} <= {self.latency_slo_ms:g} ms)"
            if self.latency_slo_ms is not None
            else "Best (highest throughput)"
        )
        if self.best is None:
            out.append(f"{target}: none of the {len(self.points)} configurations")
        else:
            b = self.points[self.best]
            out.append(
                f"{target}: batch {b.batch_size}, {b.num_streams} stream(s): "
                f"{b.items_per_sec:.4f} items/sec, {p} {b.latency_ms:.4f} ms"
            )
        return out


def _meets(point: SweepPoint, slo: float | None) -> str:
    if slo is None:
        return ""
    return "yes" if point.latency_ms <= slo else "no"


# --- pure selection ------------------------------------------------------------------------------


def pareto_front(throughput: Sequence[float], latency: Sequence[float]) -> list[int]:
    """Indices of the points no other point dominates (at least as fast, at most as slow, and
    strictly better on one), by increasing latency; points with a NaN are left out."""
    ok = [
        i
        for i in range(len(throughput))
        if math.isfinite(throughput[i]) and math.isfinite(latency[i])
    ]

    def dominated(i: int) -> bool:
        return any(
            throughput[j] >= throughput[i]
            and latency[j] <= latency[i]
            and (throughput[j] > throughput[i] or latency[j] < latency[i])
            for j in ok
        )

    return sorted((i for i in ok if not dominated(i)), key=lambda i: (latency[i], -throughput[i]))


def best_point(
    throughput: Sequence[float], latency: Sequence[float], slo: float | None = None
) -> int | None:
    """The highest throughput among the points meeting ``latency <= slo`` (every point when
    ``slo`` is None); ties go to the lower latency; None when no point qualifies."""
    ok = [
        i
        for i in range(len(throughput))
        if math.isfinite(throughput[i])
        and math.isfinite(latency[i])
        and (slo is None or latency[i] <= slo)
    ]
    if not ok:
        return None
    return max(ok, key=lambda i: (throughput[i], -latency[i]))


# --- running it ----------------------------------------------------------------------------------


def run_sweep(
    model: str,
    *,
    batch_sizes: Sequence[int],
    streams: Sequence[int],
    latency_slo_ms: float | None = None,
    percentile: float = 99.0,
    scenario: str = "async",
    time: float = 5.0,
    warmup_time: float = 1.0,
    **kwargs: Any,
) -> Sweep:
    """Runs every (batch, streams) configuration with ``benchmark()`` and picks the best.

    ``kwargs`` go to ``benchmark()`` (``engine``, ``num_cores``, ``thread_pinning``, ``seed``...).
    The grid is checked against the machine before anything runs.

    Example::

        >>> s = run_sweep("squeezenet", batch_sizes=[1, 4], streams=[1, 2], time=1)
        >>> s.points[s.best].num_streams  # doctest: +SKIP
    """
    from .model_benchmark import benchmark
    from .tuning import latency_at, quiet_logs

    batch_sizes, streams = _check_grid(
        batch_sizes, streams, scenario, percentile, latency_slo_ms, kwargs
    )
    points: list[SweepPoint] = []
    total = len(batch_sizes) * len(streams)
    for b in batch_sizes:
        for n in streams:
            with quiet_logs():
                r = benchmark(
                    model,
                    batch_size=b,
                    num_streams=n,
                    scenario=scenario,
                    time=time,
                    warmup_time=warmup_time,
                    **kwargs,
                )
            point = SweepPoint(
                batch_size=b,
                num_streams=r.config.num_streams,
                items_per_sec=r.items_per_sec,
                latency_ms=latency_at(r.measurement, percentile),
                median_ms=r.latency.median,
                iterations=r.iterations,
                valid=r.validity.valid,
                result=r,
            )
            points.append(point)
            log.info(
                "sweep %d/%d: batch %d, %d stream(s): %.1f items/s, p%g %.3f ms",
                len(points),
                total,
                b,
                point.num_streams,
                point.items_per_sec,
                percentile,
                point.latency_ms,
            )
            if r.interrupted:
                raise KeyboardInterrupt
    thr = [p.items_per_sec for p in points]
    lat = [p.latency_ms for p in points]
    return Sweep(
        model=model,
        scenario=scenario,
        percentile=percentile,
        latency_slo_ms=latency_slo_ms,
        points=tuple(points),
        frontier=tuple(pareto_front(thr, lat)),
        best=best_point(thr, lat, latency_slo_ms),
        seconds=time,
    )


def _check_grid(
    batch_sizes: Sequence[int],
    streams: Sequence[int],
    scenario: str,
    percentile: float,
    slo: float | None,
    kwargs: dict[str, Any],
) -> tuple[list[int], list[int]]:
    """The grid, deduplicated in the order given; UsageError for a point that cannot run."""
    from .pinning import topology
    from .scenarios import parse_scenario, plan_layout

    if parse_scenario(scenario) not in SCENARIOS:
        raise UsageError(
            f"sweep -s {scenario}: choose async, elastic or sync (for the server scenario's "
            "highest rate under a target use pinbench --find-qps)"
        )
    bs = list(dict.fromkeys(batch_sizes))
    ns = list(dict.fromkeys(streams))
    if not bs or not ns:
        raise UsageError("sweep needs at least one batch size and one number of streams")
    for v, flag in [*((b, "--batch") for b in bs), *((n, "--streams") for n in ns)]:
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise UsageError(f"sweep {flag}: {v!r} is not an integer >= 1")
    if parse_scenario(scenario) == "sync" and ns != [1]:
        raise UsageError("sweep -s sync runs one stream: give --streams 1, or -s async")
    if not 0 < percentile < 100:
        raise UsageError(f"--percentile must lie between 0 and 100, got {percentile}")
    if slo is not None and not (math.isfinite(slo) and slo > 0):
        raise UsageError(f"--latency-slo must be more than 0 ms, got {slo}")
    for key in ("export_path", "export_samples", "num_streams", "batch_size", "qps"):
        if key in kwargs:
            raise UsageError(f"sweep sets {key} itself")
    topo = topology()
    for n in ns:
        plan_layout(
            scenario,
            topo,
            num_cores=kwargs.get("num_cores"),
            num_streams=n,
            pinning=kwargs.get("thread_pinning", "core"),
            smt=kwargs.get("smt", False),
        )
    return bs, ns


# --- the plot ------------------------------------------------------------------------------------


def plot_sweep(sweep: Sweep, path: str | os.PathLike[str]) -> None:
    """Throughput against latency: every point labelled, the frontier, the target, the best."""
    from pathlib import Path

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .files import write_atomically

    fig = Figure(figsize=(9, 6), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    pts = sweep.points
    ax.scatter([p.latency_ms for p in pts], [p.items_per_sec for p in pts], color="0.55", zorder=2)
    for p in pts:
        ax.annotate(
            p.label(), (p.latency_ms, p.items_per_sec), xytext=(4, 4), textcoords="offset points"
        )
    front = [pts[i] for i in sweep.frontier]
    ax.plot(
        [p.latency_ms for p in front],
        [p.items_per_sec for p in front],
        "-o",
        color="tab:blue",
        label="Pareto frontier",
        zorder=3,
    )
    if sweep.latency_slo_ms is not None:
        ax.axvline(sweep.latency_slo_ms, color="tab:red", ls="--", label="latency target")
    if sweep.best is not None:
        b = pts[sweep.best]
        best = "best under the target" if sweep.latency_slo_ms is not None else "best"
        ax.scatter(
            [b.latency_ms],
            [b.items_per_sec],
            s=220,
            marker="*",
            color="tab:orange",
            zorder=4,
            label=best,
        )
    pname = f"p{sweep.percentile:g}"
    ax.set_xlabel(f"latency {pname} (ms/batch)")
    ax.set_ylabel("throughput (items/s)")
    ax.set_title(f"{sweep.model}: {sweep.scenario}, {sweep.seconds:g} s per configuration")
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    out = Path(path)
    write_atomically(
        out, lambda f: fig.savefig(f, format=out.suffix.lower().lstrip(".")), binary=True
    )


# --- the command ---------------------------------------------------------------------------------


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers >= 1")
    return values


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from .tuning import parse_latency_ms, parse_percentile

    p = _Parser(
        prog="pinbench sweep",
        description="Run a grid of batch sizes and stream counts; print the table, the Pareto "
        "frontier of throughput against tail latency, and the best configuration under a target.",
        allow_abbrev=False,
    )
    p.add_argument(
        "model_path", help="as for pinbench: ONNX file, folder, built-in name, zoo:, hf:"
    )
    p.add_argument(
        "--batch", type=_int_list, default=[1], help="batch sizes, e.g. 1,8,32 (default 1)"
    )
    p.add_argument(
        "--streams",
        type=_int_list,
        default=None,
        help="numbers of streams, e.g. 1,2,4 (default: the divisors of the cores and the powers "
        "of two up to them)",
    )
    p.add_argument(
        "--latency-slo", type=parse_latency_ms, default=None, metavar="TIME", help="e.g. 20ms"
    )
    p.add_argument(
        "--percentile",
        type=parse_percentile,
        default=99.0,
        metavar="P",
        help="the latency percentile of the table, the frontier and the target (99)",
    )
    p.add_argument("-s", "--scenario", default="async", help="async (default), elastic or sync")
    p.add_argument("-t", "--time", type=float, default=5.0, help="seconds per configuration (5)")
    p.add_argument("-w", "--warmup_time", type=float, default=1.0, help="seconds of warmup (1)")
    p.add_argument("-ncores", "--num_cores", type=int, default=None, help="physical cores")
    p.add_argument("-pin", "--thread_pinning", default="core", choices=["none", "core", "numa"])
    p.add_argument("-e", "--engine", default="onnxruntime", help="as for pinbench")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated inputs (0)")
    p.add_argument("-x", "--export_path", default=None, help="write the sweep as JSON")
    p.add_argument("--plot", default=None, metavar="FILE.png", help="draw the sweep")
    p.add_argument("-q", "--quiet", action="store_true", help="only the table, no logs")
    p.add_argument("--debug", action="store_true", help="tracebacks on errors")
    return p


def main(argv: Sequence[str]) -> int:
    """``pinbench sweep``: 0 ok, 1 a run-time failure or no point meeting the target, 2 usage."""
    import traceback

    from .report import setup_logging

    args = build_parser().parse_args(list(argv))
    setup_logging(args.quiet, args.debug)
    try:
        sweep = _run(args, argv)
    except PinbenchError as e:
        if args.debug:
            traceback.print_exc()
        print(f"pinbench sweep: error: {' '.join(str(e).split())}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("pinbench sweep: error: interrupted", file=sys.stderr)
        return 130
    print("\n".join(sweep.lines()))
    if sweep.best is None and sweep.latency_slo_ms is not None:
        print(
            f"pinbench sweep: error: no configuration meets p{sweep.percentile:g} <= "
            f"{sweep.latency_slo_ms:g} ms",
            file=sys.stderr,
        )
        return 1
    return 0


def _run(args: argparse.Namespace, argv: Sequence[str]) -> Sweep:
    from .pinning import topology
    from .results import check_export_path, write_json_atomic
    from .tuning import stream_candidates

    if not (math.isfinite(args.time) and args.time > 0):
        raise UsageError(f"-t {args.time:g}: give a number of seconds > 0")
    if not (math.isfinite(args.warmup_time) and args.warmup_time >= 0):
        raise UsageError(f"-w {args.warmup_time:g}: give a number of seconds >= 0")
    if args.export_path:
        check_export_path(args.export_path)
    if args.plot:
        from .plot import check_plot_path

        check_plot_path(args.plot)
    streams = args.streams or stream_candidates(args.num_cores or len(topology().cores))
    sweep = run_sweep(
        args.model_path,
        batch_sizes=args.batch,
        streams=streams,
        latency_slo_ms=args.latency_slo,
        percentile=args.percentile,
        scenario=args.scenario,
        time=args.time,
        warmup_time=args.warmup_time,
        num_cores=args.num_cores,
        thread_pinning=args.thread_pinning,
        engine=args.engine,
        seed=args.seed,
    )
    if args.export_path:
        write_json_atomic(sweep.to_dict(["pinbench", "sweep", *argv]), args.export_path)
        log.info("sweep written to %s", args.export_path)
    if args.plot:
        try:
            plot_sweep(sweep, args.plot)
        except Exception as e:
            raise RunError(f"--plot {args.plot}: {type(e).__name__}: {e}") from e
        log.info("plot written to %s", args.plot)
    return sweep
