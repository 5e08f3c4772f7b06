"""``--plot FILE.png``: one figure of a run, for a person (extra ``pinbench[plot]``: matplotlib).

Three panels: the latency histogram with its percentiles; every iteration's latency over time,
coloured by stream, with each stream's rolling median; the throughput per second (per 1 s slice,
or per tenth of a short window) against the overall figure and its confidence interval. The title
names the model, scenario, streams, engine and machine; the verdict and its reasons sit below.

matplotlib is imported only here, when a plot is drawn, with its Agg (file-only) canvas.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base.files import write_atomically

if TYPE_CHECKING:
    import os

    from ..result.record import Result

FORMATS = (".png", ".svg", ".pdf")
# Each percentile's own colour and line style, so that the lines are told apart.
_MARKED = (
    (50.0, "p50", "#2ca02c", "-"),
    (90.0, "p90", "#ff7f0e", "--"),
    (99.0, "p99", "#d62728", "-."),
    (99.9, "p99.9", "#9467bd", (0, (5, 1, 1, 1, 1, 1))),
)
_MIN_BINS, _MAX_BINS = 10, 120


def plot_result(result: Result, path: str | os.PathLike[str]) -> None:
    """Draws ``result`` into ``path`` (format from its suffix), written atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    reasons = len(result.validity.reasons) + len(result.validity.notes)
    fig = Figure(figsize=(13, 9.5 + 0.15 * reasons), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(3, 2, height_ratios=(1.15, 1.0, 0.06 + 0.035 * reasons))
    _histogram(fig.add_subplot(grid[0, 0]), result)
    _over_time(fig.add_subplot(grid[0, 1]), result)
    _throughput(fig.add_subplot(grid[1, :]), result)
    _title(fig, result)
    _verdict(fig.add_subplot(grid[2, :]), result)

    p = Path(path)
    write_atomically(p, lambda f: fig.savefig(f, format=p.suffix.lower().lstrip(".")), binary=True)


def _title(fig: Any, result: Result) -> None:
    c, env = result.config, result.environment
    cores = f"{c.num_cores} core{'s' if c.num_cores != 1 else ''}"
    streams = f"{c.num_streams} stream{'s' if c.num_streams != 1 else ''}"
    lo, hi = result.items_per_sec_ci
    ci = f" (95% CI {lo:.1f} to {hi:.1f})" if math.isfinite(lo) and math.isfinite(hi) else ""
    fig.suptitle(
        f"{c.orig_model_path}  |  {c.scenario}, {streams}, {cores}, batch {c.batch_size}, "
        f"pinning {c.pinning}  |  {c.engine_name} {c.engine_version}\n"
        f"{result.items_per_sec:.1f} items/s{ci}, median {result.latency.median:.3f} ms, "
        f"{result.iterations} iterations in {result.seconds_ran:.2f} s  |  "
        f"{env.get('cpu_model', 'unknown CPU')}",
        fontsize=11,
    )


def _verdict(ax: Any, result: Result) -> None:
    validity = result.validity
    ax.axis("off")
    if validity.valid:
        text, color = "Verdict: valid (no rule of pinbench.result.validity objected)", "#1a7f37"
    else:
        lines = [f"Verdict: invalid ({len(validity.reasons)} reasons)"]
        lines += [f"  - {_shorten(r.message, 160)}" for r in validity.reasons]
        text, color = "\n".join(lines), "#b42318"
    ax.text(0.0, 1.0, text, color=color, fontsize=9, va="top", ha="left", transform=ax.transAxes)
    if validity.notes:  # below the verdict, in grey: they inform, they do not judge
        notes = "\n".join(f"note: {_shorten(r.message, 160)}" for r in validity.notes)
        ax.annotate(
            notes,
            xy=(0.0, 1.0),
            xycoords="axes fraction",
            color="0.35",
            fontsize=8,
            va="top",
            ha="left",
            xytext=(0, -12 * (text.count("\n") + 1)),
            textcoords="offset points",
        )


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _colors(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "viridis"]
    return [cmap(i if n <= 10 else i / max(1, n - 1)) for i in range(n)]


def _histogram(ax: Any, result: Result) -> None:
    import numpy as np

    lat = result.latency
    ms = result.measurement.latencies_ns().astype(np.float64) / 1e6
    if ms.size == 0:
        ax.set_title("latency: no iteration")
        return
    ax.hist(ms, bins=histogram_bins(ms), color="#4c72b0", alpha=0.85, log=True)
    for p, name, color, style in _MARKED:
        v = lat.percentiles.get(p, math.nan)
        if not math.isfinite(v):
            continue
        if result.validity.unreliable_at(p):  # drawn faint, and said so
            ax.axvline(
                v,
                color=color,
                ls=":",
                lw=1.0,
                alpha=0.45,
                label=f"{name} {v:.3f} ms (unreliable: too few samples)",
            )
        else:
            ax.axvline(v, color=color, ls=style, lw=1.4, label=f"{name} {v:.3f} ms")
    ax.axvline(lat.mean, color="#222222", lw=0.8, alpha=0.6, label=f"mean {lat.mean:.3f} ms")
    ax.set_xlabel("latency (ms per batch)")
    ax.set_ylabel("iterations (log scale)")
    ax.set_title(f"latency histogram, all streams (std {lat.std:.3f} ms, cv {lat.cv:.1%})")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)


def histogram_bins(ms: Any) -> Any:
    """Bin edges fitted to the sample count (Freedman-Diaconis: a width of 2 IQR / n^(1/3)),
    between 10 and 120 bins; 10 when every latency is the same."""
    import numpy as np

    lo, hi = float(ms.min()), float(ms.max())
    if not hi > lo:
        return _MIN_BINS
    q1, q3 = np.percentile(ms, (25.0, 75.0))
    width = 2.0 * float(q3 - q1) / ms.size ** (1.0 / 3.0)
    count = math.ceil((hi - lo) / width) if width > 0 else _MAX_BINS
    return np.linspace(lo, hi, min(max(count, _MIN_BINS), _MAX_BINS) + 1)


def _over_time(ax: Any, result: Result) -> None:
    import numpy as np

    m = result.measurement
    window = m.window_ns
    if window is None:
        ax.set_title("latency over time: no iteration")
        return
    colors = _colors(len(m.streams))
    for s, color in zip(m.streams, colors):
        if s.starts_ns.size == 0:
            continue
        t = (s.ends_ns - window[0]) / 1e9
        ms = s.latencies_ns.astype(np.float64) / 1e6
        ax.scatter(t, ms, s=4, color=color, alpha=0.35, lw=0, rasterized=True)
        if math.isfinite(result.streams[s.index].first_iteration_ms):
            ax.scatter(
                t[:1],
                ms[:1],
                s=45,
                marker="x",
                color=color,
                lw=1.5,
                zorder=3,
                label="first iteration" if s.index == 0 else None,
            )
        k = max(1, min(101, ms.size // 20) | 1)
        if ms.size >= 3 * k and k > 1:
            rolling = _rolling_median(ms, k)
            ax.plot(
                t[k // 2 : k // 2 + rolling.size],
                rolling,
                color=color,
                lw=1.6,
                label=f"stream {s.index} (cpus {_cpus(s.cpus)}), rolling median",
            )
        else:
            ax.plot([], [], color=color, lw=1.6, label=f"stream {s.index} (cpus {_cpus(s.cpus)})")
    p99 = result.latency.percentiles.get(99.0, math.nan)
    if math.isfinite(p99):
        faint = result.validity.unreliable_at(99.0)
        ax.axhline(
            p99,
            color="#d62728",
            ls=":" if faint else "-.",
            lw=1,
            alpha=0.45 if faint else 1.0,
            label=f"p99 {p99:.3f} ms" + (" (unreliable)" if faint else ""),
        )
    ax.set_xlabel("time into the measured window (s), at each iteration's end")
    ax.set_ylabel("latency (ms per batch)")
    ax.set_title("latency over time, per stream")
    span = (window[1] - window[0]) / 1e9
    ax.set_xlim(-0.015 * span, span * 1.005)  # room for the first iteration's marker
    if len(m.streams) <= 8:
        ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)


def _rolling_median(x: Any, k: int) -> Any:
    import numpy as np

    windows = np.lib.stride_tricks.sliding_window_view(x, k)
    return np.median(windows, axis=1)


def _throughput(ax: Any, result: Result) -> None:
    import numpy as np

    from ..base.throughput import readable_slice_edges, slice_rates

    m = result.measurement
    window = m.window_ns
    if window is None:
        ax.set_title("throughput: no iteration")
        return
    seconds = (window[1] - window[0]) / 1e9
    at_ns, width = readable_slice_edges(window)
    edges = (at_ns - window[0]) / 1e9
    weights = [s.iterations / s.starts_ns.size if s.starts_ns.size else 1.0 for s in m.streams]
    pairs = [(s.starts_ns, s.ends_ns) for s in m.streams]
    per_stream = slice_rates(pairs, at_ns, weights) * result.config.batch_size
    total = np.sum(per_stream, axis=0)
    steps = np.append(total, total[-1])
    ax.fill_between(edges, steps, step="post", color="#4c72b0", alpha=0.25, lw=0)
    ax.step(edges, steps, where="post", color="#4c72b0", lw=1.8, label="all streams")
    if 1 < len(m.streams) <= 10:
        for s, rates, color in zip(m.streams, per_stream, _colors(len(m.streams))):
            ax.step(
                edges,
                np.append(rates, rates[-1]),
                where="post",
                color=color,
                lw=1.0,
                label=f"stream {s.index}",
            )
    ax.axhline(
        result.items_per_sec,
        color="#222222",
        lw=1.2,
        ls="--",
        label=f"overall {result.items_per_sec:.1f} items/s",
    )
    lo, hi = result.items_per_sec_ci
    if math.isfinite(lo) and math.isfinite(hi):
        ax.axhspan(lo, hi, color="#222222", alpha=0.12, label=f"95% CI {lo:.1f} to {hi:.1f}")
    unit = "per second" if width == 1.0 else f"per {width * 1000:g} ms slice"
    ax.set_title(f"throughput {unit}, in items/s (an iteration in flight at a slice edge is split)")
    ax.set_xlabel("time into the measured window (s)")
    ax.set_ylabel("items / s")
    ax.set_xlim(0, seconds)
    ax.set_ylim(0, max(float(total.max()), result.items_per_sec) * 1.15)
    ax.legend(fontsize=8, loc="upper right", ncol=min(6, len(m.streams) + 3))
    ax.grid(alpha=0.3)


def _cpus(cpus: tuple[int, ...]) -> str:
    if not cpus:
        return "any"
    text = ",".join(str(c) for c in cpus)
    return text if len(text) <= 16 else f"{len(cpus)} CPUs"
