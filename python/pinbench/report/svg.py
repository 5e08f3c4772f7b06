"""Charts as inline SVG text, for the self-contained HTML report: axes with round ticks, lines,
steps, dots, bars, error bars, reference lines and a legend. No dependency, no script, no
external resource: a page that holds these needs nothing but itself.

Coordinates are data units; a chart maps them linearly onto its plot area once every series is
known (``render``). Titles and labels are escaped here, so any text may be given.

Example::

    >>> c = Chart("latency", "ms", "iterations")
    >>> c.bars([0.0, 1.0, 2.0], [3.0, 5.0], color=BLUE)
    >>> c.render().startswith("<svg")
    True
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    Scale = Callable[[float], float]

BLUE, RED, ORANGE, GREEN, GREY, DARK = "#4c72b0", "#c44e52", "#dd8452", "#55a868", "#999", "#222"
PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 30, 44


@dataclass(frozen=True)
class Box:
    """The data ranges and their mapping onto the plot area, in pixels."""

    x0: float
    x1: float
    y0: float
    y1: float
    left: float
    top: float
    width: float
    height: float

    def sx(self, x: float) -> float:
        return self.left + (x - self.x0) / (self.x1 - self.x0) * self.width

    def sy(self, y: float) -> float:
        return self.top + self.height - (y - self.y0) / (self.y1 - self.y0) * self.height


class Series(Protocol):
    def draw(self, box: Box) -> list[str]: ...


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


@dataclass(frozen=True)
class Line:
    xs: Sequence[float]
    ys: Sequence[float]
    color: str
    width: float = 1.6
    dash: str = ""
    step: bool = False  # hold each value until the next x (a histogram's outline, rates)

    def draw(self, box: Box) -> list[str]:
        pts: list[str] = []
        prev: float | None = None
        for x, y in zip(self.xs, self.ys):
            if not _finite(x, y):
                continue
            if self.step and prev is not None:
                pts.append(f"{box.sx(x):.1f},{box.sy(prev):.1f}")
            pts.append(f"{box.sx(x):.1f},{box.sy(y):.1f}")
            prev = y
        dash = f' stroke-dasharray="{self.dash}"' if self.dash else ""
        style = f'fill="none" stroke="{self.color}" stroke-width="{self.width}"{dash}'
        return [f'<polyline points="{" ".join(pts)}" {style}/>'] if pts else []


@dataclass(frozen=True)
class Dots:
    xs: Sequence[float]
    ys: Sequence[float]
    color: str
    radius: float = 2.0
    opacity: float = 0.5

    def draw(self, box: Box) -> list[str]:
        return [
            f'<circle cx="{box.sx(x):.1f}" cy="{box.sy(y):.1f}" r="{self.radius}" '
            f'fill="{self.color}" fill-opacity="{self.opacity}"/>'
            for x, y in zip(self.xs, self.ys)
            if _finite(x, y)
        ]


@dataclass(frozen=True)
class Bars:
    edges: Sequence[float]  # one more than the heights
    heights: Sequence[float]
    color: str

    def draw(self, box: Box) -> list[str]:
        base = box.sy(max(box.y0, 0.0))
        return [
            f'<rect x="{box.sx(a):.1f}" y="{box.sy(h):.1f}" '
            f'width="{max(0.5, box.sx(b) - box.sx(a)):.1f}" '
            f'height="{max(0.0, base - box.sy(h)):.1f}" fill="{self.color}" fill-opacity="0.85"/>'
            for a, b, h in zip(self.edges, self.edges[1:], self.heights)
            if _finite(a, b, h)
        ]


@dataclass(frozen=True)
class ErrorBars:
    xs: Sequence[float]
    lo: Sequence[float]
    hi: Sequence[float]
    color: str = DARK

    def draw(self, box: Box) -> list[str]:
        return [
            f'<line x1="{box.sx(x):.1f}" y1="{box.sy(a):.1f}" x2="{box.sx(x):.1f}" '
            f'y2="{box.sy(b):.1f}" stroke="{self.color}" stroke-width="1.4"/>'
            for x, a, b in zip(self.xs, self.lo, self.hi)
            if _finite(x, a, b)
        ]


@dataclass(frozen=True)
class Rule:
    """A reference line across the plot: horizontal at ``y`` or vertical at ``x``."""

    color: str
    x: float | None = None
    y: float | None = None
    dash: str = "6 4"

    def draw(self, box: Box) -> list[str]:
        if self.y is not None:
            a, b = (box.sx(box.x0), box.sy(self.y)), (box.sx(box.x1), box.sy(self.y))
        else:
            x = box.sx(self.x if self.x is not None else box.x0)
            a, b = (x, box.sy(box.y0)), (x, box.sy(box.y1))
        return [
            f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}" '
            f'stroke="{self.color}" stroke-dasharray="{self.dash}"/>'
        ]


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round values (1, 2 or 5 times a power of ten) covering [lo, hi].

    >>> nice_ticks(0, 9.3)
    [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    """
    if not _finite(lo, hi) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(1, count)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(lo / step + 1e-9) * step
    last = math.ceil(hi / step - 1e-9) * step
    n = round((last - first) / step)
    return [round(first + k * step, 12) for k in range(n + 1)]


def tick_text(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e6 or abs(v) < 1e-3:
        return f"{v:.0e}"
    return f"{v:.6g}"


@dataclass
class Chart:
    """One chart: add series in data units, then ``render()``."""

    title: str
    xlabel: str
    ylabel: str
    width: int = 640
    height: int = 300
    y_from_zero: bool = False
    x_pad: float = 0.0  # room left and right, a share of the x range (for labels)
    xticks: Sequence[tuple[float, str]] | None = None  # (x, label) instead of round numbers
    series: list[Series] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (color, label)
    xs: list[float] = field(default_factory=list)  # every x and y given: the ranges
    ys: list[float] = field(default_factory=list)

    def add(
        self, s: Series, xs: Sequence[float], ys: Sequence[float], label: str = "", color: str = ""
    ) -> None:
        """Adds a series whose data span ``xs`` and ``ys``; ``label`` goes to the legend."""
        self.series.append(s)
        self.xs += [x for x in xs if math.isfinite(x)]
        self.ys += [y for y in ys if math.isfinite(y)]
        if label:
            self.legend.append((color, label))

    def line(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        color: str,
        label: str = "",
        *,
        width: float = 1.6,
        dash: str = "",
        step: bool = False,
    ) -> None:
        self.add(Line(list(xs), list(ys), color, width, dash, step), xs, ys, label, color)

    def dots(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        color: str,
        label: str = "",
        *,
        radius: float = 2.0,
        opacity: float = 0.5,
    ) -> None:
        self.add(Dots(list(xs), list(ys), color, radius, opacity), xs, ys, label, color)

    def bars(
        self, edges: Sequence[float], heights: Sequence[float], color: str, label: str = ""
    ) -> None:
        self.add(Bars(list(edges), list(heights), color), edges, [0.0, *heights], label, color)

    def errorbars(self, xs: Sequence[float], lo: Sequence[float], hi: Sequence[float]) -> None:
        self.add(ErrorBars(list(xs), list(lo), list(hi)), xs, [*lo, *hi])

    def labels(self, xs: Sequence[float], ys: Sequence[float], texts: Sequence[str]) -> None:
        self.add(Labels(list(xs), list(ys), list(texts)), xs, ys)

    def hline(self, y: float, color: str, label: str = "") -> None:
        self.add(Rule(color, y=y), [], [y], label, color)

    def vline(self, x: float, color: str, label: str = "") -> None:
        self.add(Rule(color, x=x), [x], [], label, color)

    def render(self) -> str:
        """The chart as one ``<svg>`` element."""
        x0, x1 = _range(self.xs, False)
        x0, x1 = x0 - (x1 - x0) * self.x_pad, x1 + (x1 - x0) * self.x_pad
        y0, y1 = _range(self.ys, self.y_from_zero)
        xt, yt = nice_ticks(x0, x1), nice_ticks(y0, y1)
        if self.xticks is not None:
            xt = []
        elif len(xt) > 1:
            x0, x1 = xt[0], xt[-1]
        if len(yt) > 1:
            y0, y1 = yt[0], yt[-1]
        pw, ph = self.width - _LEFT - _RIGHT, self.height - _TOP - _BOTTOM
        box = Box(x0, x1, y0, y1, _LEFT, _TOP, pw, ph)
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" role="img" '
            f'aria-label="{_esc(self.title)}" font-family="sans-serif" font-size="11">',
            f'<rect width="{self.width}" height="{self.height}" fill="#fff"/>',
            f'<text x="{self.width / 2:.1f}" y="16" text-anchor="middle" font-size="13" '
            f'font-weight="bold">{_esc(self.title)}</text>',
            f'<rect x="{_LEFT}" y="{_TOP}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/>',
            *_ticks(box, xt, yt),
            *_named_ticks(box, self.xticks or ()),
            _label(self.xlabel, self.width / 2, self.height - 8, 0),
            _label(self.ylabel, 14, _TOP + ph / 2, -90),
        ]
        for s in self.series:
            out += s.draw(box)
        out += self._legend_svg()
        out.append("</svg>")
        return "\n".join(out)

    def _legend_svg(self) -> list[str]:
        out, y = [], _TOP + 10
        x = self.width - _RIGHT - 8
        if self.legend:
            wide = 7 * max(len(label) for _, label in self.legend) + 30
            out.append(
                f'<rect x="{x - wide}" y="{y - 9}" width="{wide + 4}" '
                f'height="{15 * len(self.legend) + 4}" fill="#fff" fill-opacity="0.8"/>'
            )
        for color, label in self.legend:
            out.append(
                f'<rect x="{x - 12}" y="{y - 4}" width="12" height="7" fill="{color}"/>'
                f'<text x="{x - 16}" y="{y + 3}" text-anchor="end">{_esc(label)}</text>'
            )
            y += 15
        return out


def _range(values: list[float], from_zero: bool) -> tuple[float, float]:
    if not values:
        return 0.0, 1.0
    lo, hi = min(values), max(values)
    if from_zero:
        lo = min(lo, 0.0)
    if hi <= lo:
        pad = abs(hi) * 0.1 or 1.0
        return lo - pad, hi + pad
    return lo, hi


def _ticks(box: Box, xt: list[float], yt: list[float]) -> list[str]:
    bottom, right = box.top + box.height, box.left + box.width
    out = []
    for t in xt:
        x = box.sx(t)
        out.append(
            f'<line x1="{x:.1f}" y1="{box.top}" x2="{x:.1f}" y2="{bottom}" stroke="#eee"/>'
            f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">{tick_text(t)}</text>'
        )
    for t in yt:
        y = box.sy(t)
        out.append(
            f'<line x1="{box.left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#eee"/>'
            f'<text x="{box.left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick_text(t)}</text>'
        )
    return out


def _named_ticks(box: Box, ticks: Sequence[tuple[float, str]]) -> list[str]:
    bottom = box.top + box.height
    return [
        f'<text x="{box.sx(t):.1f}" y="{bottom + 14}" text-anchor="middle">{_esc(name)}</text>'
        for t, name in ticks
        if box.x0 <= t <= box.x1
    ]


def _label(text: str, x: float, y: float, angle: int) -> str:
    turn = f' transform="rotate({angle} {x:.1f} {y:.1f})"' if angle else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle"{turn}>{_esc(text)}</text>'


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass(frozen=True)
class Labels:
    """Short texts beside data points."""

    xs: Sequence[float]
    ys: Sequence[float]
    texts: Sequence[str]
    color: str = DARK

    def draw(self, box: Box) -> list[str]:
        return [
            f'<text x="{box.sx(x) + 4:.1f}" y="{box.sy(y) - 4:.1f}" fill="{self.color}" '
            f'font-size="10">{_esc(t)}</text>'
            for x, y, t in zip(self.xs, self.ys, self.texts)
            if _finite(x, y)
        ]
