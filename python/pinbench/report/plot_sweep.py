"""``pinbench sweep --plot``: throughput against tail latency per model, with its frontier,
the target and its best point (one panel per model: throughput is not compared across models)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..base.files import write_atomically

if TYPE_CHECKING:
    import os

    from ..result.record import Result
    from ..result.sweep_record import Sweep, SweepModel


def plot_sweep(sweep: Sweep[Result], path: str | os.PathLike[str]) -> None:
    """Throughput against latency: every point labelled, the frontier, the target, the best."""
    from pathlib import Path

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = max(1, len(sweep.models))
    fig = Figure(figsize=(9, 6 * n), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    for k, model in enumerate(sweep.models):
        _panel(fig.add_subplot(n, 1, k + 1), sweep, model)
    out = Path(path)
    write_atomically(
        out, lambda f: fig.savefig(f, format=out.suffix.lower().lstrip(".")), binary=True
    )


def _panel(ax: Any, sweep: Sweep[Result], model: SweepModel) -> None:
    pts = sweep.points
    ok = [i for i in model.points if pts[i].ok]
    valid = [i for i in ok if pts[i].valid]
    invalid = [i for i in ok if not pts[i].valid]
    if valid:
        ax.scatter(
            [pts[i].latency_ms for i in valid],
            [pts[i].items_per_sec for i in valid],
            color="0.45",
            zorder=2,
            label="verdict valid",
        )
    if invalid:  # ringed in red, above the frontier: the verdict did not trust their figures
        ax.scatter(
            [pts[i].latency_ms for i in invalid],
            [pts[i].items_per_sec for i in invalid],
            s=140,
            facecolors="none",
            edgecolors="tab:red",
            linewidths=1.6,
            zorder=5,
            label="verdict invalid",
        )
    for i in ok:
        ax.annotate(
            sweep.label(i),
            (pts[i].latency_ms, pts[i].items_per_sec),
            xytext=(4, 4),
            textcoords="offset points",
        )
    front = [pts[i] for i in model.frontier]
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
    if model.best is not None:
        b = pts[model.best]
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
    ax.set_title(f"{model.model}: {sweep.scenario}, {sweep.seconds:g} s per configuration")
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
