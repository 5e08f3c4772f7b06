"""``pinbench report --format github``: github-action-benchmark's custom JSON.

A list of ``{"name", "unit", "value", "range", "extra"}``: per benchmark ``NAME throughput``
(``items/s``) and ``NAME latency median`` (``ms``); an A/B file adds ``NAME ratio`` (B / A,
``x``). ``range`` is ``± h``, h the larger distance from the value to a bound of its 95%
interval; ``extra`` gives the interval itself, the iterations and the verdict. A benchmark of
``-s generate`` adds ``NAME ttft mean``, ``NAME ttft p99``, ``NAME tpot mean``, ``NAME tpot p99``
(``ms``, lower is better: kept by ``--metric latency``) and ``NAME prefill tokens/s``,
``NAME decode tokens/s``, ``NAME output tokens/s`` (``tokens/s``: kept by ``--metric
throughput``). Counters and energy add ``NAME ipc`` (kept by ``--metric throughput``),
``NAME cpu ms/inference`` and ``NAME joules/inference`` (kept by ``--metric latency``) where known.

github-action-benchmark's ``tool`` judges a whole file one way, ``customBiggerIsBetter`` or
``customSmallerIsBetter``: write ``--metric throughput`` (and the ratio, bigger is better) and
``--metric latency`` to two files for the two tools; both together suit a dashboard only.

Example::

    >>> github([load_document("result.json")], ("throughput",))  # doctest: +SKIP
    [{'name': 'squeezenet onnxruntime async s2 c2 b1 throughput', 'unit': 'items/s', ...}]
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .entries import entries

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..result.schema import Document
    from .entries import Bounds

MEASURES = ("throughput", "latency")


def item(name: str, unit: str, value: float, bounds: Bounds, note: str) -> dict[str, Any] | None:
    """One entry; None for a missing figure."""
    if not math.isfinite(value):
        return None
    out: dict[str, Any] = {"name": name, "unit": unit, "value": value}
    extra = note
    if bounds is not None:
        half = max(value - bounds[0], bounds[1] - value)
        out["range"] = f"± {_short(half)}"
        extra = f"95% CI {_short(bounds[0])} to {_short(bounds[1])}; {note}"
    out["extra"] = extra
    return out


def _short(v: float) -> str:
    return f"{v:.1f}" if abs(v) >= 100 else f"{v:.4g}"


def github(docs: Sequence[Document], measures: Sequence[str] = MEASURES) -> list[dict[str, Any]]:
    """The custom-benchmark list of ``docs``, with the ``measures`` asked for."""
    out = []
    for e in entries(docs):
        made = []
        if "throughput" in measures:
            made.append(
                item(f"{e.name} throughput", "items/s", e.items_per_sec, e.items_per_sec_ci, e.note)
            )
            made.append(item(f"{e.name} ratio", "x", e.ratio, e.ratio_ci, e.note))
        if "latency" in measures:
            made.append(item(f"{e.name} latency median", "ms", e.median_ms, e.median_ci, e.note))
        made += [
            item(f"{e.name} {t.label}", t.unit, t.value, t.bounds, e.note)
            for t in e.measures
            if t.kind in measures
        ]
        out += [m for m in made if m is not None]
    return out
