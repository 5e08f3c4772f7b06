"""``pinbench sweep --plot``: throughput against tail latency, with the frontier, the target and
the best point."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base.files import write_atomically

if TYPE_CHECKING:
    import os

    from ..result.search import Sweep


def plot_sweep(sweep: Sweep, path: str | os.PathLike[str]) -> None:
    """Throughput against latency: every point labelled, the frontier, the target, the best."""
    from pathlib import Path

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 6), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    pts = sweep.points
    valid = [p for p in pts if p.valid]
    invalid = [p for p in pts if not p.valid]
    if valid:
        ax.scatter(
            [p.latency_ms for p in valid],
            [p.items_per_sec for p in valid],
            color="0.45",
            zorder=2,
            label="verdict valid",
        )
    if invalid:  # ringed in red, above the frontier: the verdict did not trust their figures
        ax.scatter(
            [p.latency_ms for p in invalid],
            [p.items_per_sec for p in invalid],
            s=140,
            facecolors="none",
            edgecolors="tab:red",
            linewidths=1.6,
            zorder=5,
            label="verdict invalid",
        )
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
