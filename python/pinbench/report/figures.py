"""The HTML report's figures, as inline SVG (``report.svg``), from the documents and, for a run's
own figures, its raw samples.

- a run with raw samples (``--export-samples``, found through ``pinbench.samples`` beside the
  JSON): the three panels of ``--plot``: the latency histogram with p50/p90/p99, every
  iteration's latency over time per stream (at most ``MAX_DOTS`` dots, evenly thinned), and the
  throughput per slice of the window against the overall figure and its interval;
- a run without them: its latency percentiles (p25 ... p99.9) from the JSON, and a note naming
  the samples file that would give the rest;
- several runs: throughput and median latency per run with their 95% intervals;
- a sweep: per model, throughput against the percentile's latency, every measured point
  labelled, the frontier, the target and the best point;
- an A/B run: each run's figure in the order run, A and B in two colours.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .rows import ab_sequence
from .svg import BLUE, DARK, GREY, ORANGE, PALETTE, RED, Chart

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..result.ab_record import AbResult
    from ..result.samples import StreamSamples
    from ..result.schema.run import RunDoc
    from ..result.sweep_record import Sweep

MAX_DOTS = 3000
BINS = 60


def percentile_chart(run: RunDoc) -> str:
    """Latency at each recorded percentile, from the JSON alone."""
    ps = [p for p in run.percentiles if math.isfinite(run.percentiles[p])]
    xs = [float(k) for k in range(len(ps))]
    c = Chart(
        "latency percentiles",
        "percentile",
        "latency (ms per batch)",
        y_from_zero=True,
        x_pad=0.08,
        xticks=[(x, f"p{p:g}") for x, p in zip(xs, ps)],
    )
    c.line(xs, [run.percentiles[p] for p in ps], BLUE, "latency at the percentile")
    c.dots(xs, [run.percentiles[p] for p in ps], BLUE, radius=3.5, opacity=1.0)
    if math.isfinite(run.mean_ms):
        c.hline(run.mean_ms, DARK, f"mean {run.mean_ms:.3f} ms")
    return c.render()


def sample_charts(run: RunDoc, streams: Sequence[StreamSamples]) -> list[str]:
    """The three panels of ``--plot`` from a run's raw samples."""
    import numpy as np

    measured = [s for s in streams if s.starts_ns.size]
    if not measured:
        return []
    lat = np.concatenate([s.latencies_ns for s in measured]).astype(np.float64) / 1e6
    return [
        _histogram(run, lat),
        _over_time(run, measured),
        _throughput(run, measured),
    ]


def _histogram(run: RunDoc, lat: object) -> str:
    import numpy as np

    values = np.asarray(lat)
    lo, hi = float(values.min()), float(values.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1e-3, BINS + 1)
    counts, _ = np.histogram(values, bins=edges)
    c = Chart(
        "latency histogram, all streams", "latency (ms per batch)", "iterations", y_from_zero=True
    )
    c.bars(edges.tolist(), counts.astype(float).tolist(), BLUE)
    for p, color in ((50.0, DARK), (90.0, ORANGE), (99.0, RED)):
        v = run.percentiles.get(p, math.nan)
        if math.isfinite(v):
            c.vline(v, color, f"p{p:g} {v:.3f} ms")
    return c.render()


def _over_time(run: RunDoc, streams: Sequence[StreamSamples]) -> str:
    import numpy as np

    origin = min(int(s.starts_ns[0]) for s in streams)
    total = sum(int(s.starts_ns.size) for s in streams)
    every = max(1, math.ceil(total / MAX_DOTS))
    shown = "" if every == 1 else f" (every {every}th of {total} iterations)"
    c = Chart(
        f"latency over time, per stream{shown}",
        "time into the window (s)",
        "latency (ms per batch)",
        y_from_zero=True,
    )
    for k, s in enumerate(streams):
        t = (s.ends_ns[::every] - origin).astype(np.float64) / 1e9
        ms = s.latencies_ns[::every].astype(np.float64) / 1e6
        color = PALETTE[k % len(PALETTE)]
        label = f"stream {k}" if len(streams) <= 8 else ""
        c.dots(t.tolist(), ms.tolist(), color, label, radius=1.6, opacity=0.45)
    p99 = run.percentiles.get(99.0, math.nan)
    if math.isfinite(p99):
        c.hline(p99, RED, f"p99 {p99:.3f} ms")
    return c.render()


def _throughput(run: RunDoc, streams: Sequence[StreamSamples]) -> str:
    import numpy as np

    from ..base.throughput import readable_slice_edges, slice_rates

    start = min(int(s.starts_ns[0]) for s in streams)
    end = max(int(s.ends_ns[-1]) for s in streams)
    at, width = readable_slice_edges((start, end))
    edges = (at - start) / 1e9
    stored = sum(int(s.starts_ns.size) for s in streams)
    weight = run.iterations / stored if stored and run.iterations else 1.0  # capped samples
    pairs = [(s.starts_ns, s.ends_ns) for s in streams]
    rates = np.sum(slice_rates(pairs, at, [weight] * len(pairs)), axis=0) * run.batch_size
    c = Chart(
        f"throughput per {width:g} s slice",
        "time into the window (s)",
        "items / s",
        y_from_zero=True,
    )
    c.line(edges.tolist(), [*rates.tolist(), float(rates[-1])], BLUE, "all streams", step=True)
    if math.isfinite(run.items_per_sec):
        c.hline(run.items_per_sec, DARK, f"overall {run.items_per_sec:.1f} items/s")
    if run.items_per_sec_ci is not None:
        lo, hi = run.items_per_sec_ci
        c.hline(lo, GREY, f"95% CI {lo:.1f} to {hi:.1f}")
        c.hline(hi, GREY)
    return c.render()


def runs_charts(runs: Sequence[RunDoc]) -> list[str]:
    """Throughput and median latency of each run, with their 95% intervals."""
    xs = [float(k + 1) for k in range(len(runs))]
    out = []
    for title, unit, value, ci in (
        ("throughput per run", "items / s", "items_per_sec", "items_per_sec_ci"),
        ("median latency per run", "ms per batch", "median_ms", "median_ci"),
    ):
        c = Chart(
            title, "run", unit, y_from_zero=True, x_pad=0.25, xticks=[(x, str(int(x))) for x in xs]
        )
        ys = [getattr(r, value) for r in runs]
        bounds = [getattr(r, ci) or (math.nan, math.nan) for r in runs]
        c.errorbars(xs, [b[0] for b in bounds], [b[1] for b in bounds])
        c.dots(xs, ys, BLUE, "value, 95% CI", radius=4, opacity=1.0)
        out.append(c.render())
    return out


def sweep_chart(doc: Sweep[RunDoc], indices: Sequence[int], best: int | None) -> str:
    """One model's throughput against latency, the frontier, the target and the best."""
    pct = f"p{doc.percentile:g}"
    ok = [i for i in indices if doc.points[i].error is None and not doc.points[i].interrupted]
    c = Chart(
        f"throughput against {pct} latency",
        f"latency {pct} (ms per batch)",
        "throughput (items / s)",
        y_from_zero=True,
        x_pad=0.15,
    )
    pts = doc.points
    c.dots(
        [pts[i].latency_ms for i in ok],
        [pts[i].items_per_sec for i in ok],
        GREY,
        "configuration",
        radius=4,
        opacity=0.9,
    )
    c.labels(
        [pts[i].latency_ms for i in ok],
        [pts[i].items_per_sec for i in ok],
        [_point_label(doc, i) for i in ok],
    )
    front = sorted((i for i in ok if doc.on_frontier(i)), key=lambda i: pts[i].latency_ms)
    c.line(
        [pts[i].latency_ms for i in front],
        [pts[i].items_per_sec for i in front],
        BLUE,
        "Pareto frontier",
    )
    if doc.latency_slo_ms is not None:
        c.vline(doc.latency_slo_ms, RED, f"target {doc.latency_slo_ms:g} ms")
    if best is not None:
        c.dots(
            [pts[best].latency_ms], [pts[best].items_per_sec], ORANGE, "best", radius=7, opacity=1.0
        )
    return c.render()


def _point_label(doc: Sweep[RunDoc], i: int) -> str:
    p = doc.points[i]
    engines = {q.engine for q in doc.points}
    cores = {q.num_cores for q in doc.points}
    scenarios = {q.scenario for q in doc.points}
    parts = [p.engine] if len(engines) > 1 else []
    parts += [f"c{p.num_cores}"] if len(cores) > 1 else []
    parts += [p.scenario] if len(scenarios) > 1 else []
    return " ".join([*parts, f"b{p.batch_size} s{p.num_streams}"])


def ab_chart(doc: AbResult[RunDoc]) -> str:
    """Each run's throughput in the order the A/B ran them."""
    sequence = ab_sequence(doc)
    c = Chart(
        "each run, in the order run",
        "run",
        "items / s",
        y_from_zero=True,
        x_pad=0.05,
        xticks=[(float(k + 1), str(k + 1)) for k in range(len(sequence))],
    )
    labelled: set[str] = set()
    for k, (name, run) in enumerate(sequence):
        flags = doc.a.flags if name == "A" else doc.b.flags
        label = "" if name in labelled else f"{name}: {flags or '(no flags)'}"
        labelled.add(name)
        color = BLUE if name == "A" else ORANGE
        c.dots([float(k + 1)], [run.items_per_sec], color, label, radius=5, opacity=1.0)
    return c.render()
