"""``pinbench report --format bmf``: Bencher Metric Format, for ``bencher run --adapter json``.

``{benchmark: {measure: {"value", "lower_value", "upper_value"}}}`` with Bencher's built-in
measures and their units: ``throughput`` in operations (items) per second and ``latency`` (the
median) in nanoseconds, each bounded by its 95% interval where the document has one; an A/B
file adds ``ratio`` (B / A) to its ``B/A`` benchmark. A missing figure leaves its measure out.

A benchmark of ``-s generate`` adds its token figures as measures of their own
(``report.entries.TOKEN_MEASURES``): ``ttft_ms``, ``ttft_p99_ms``, ``tpot_ms``, ``tpot_p99_ms``
(ms, lower is better; kept by ``--metric latency``) and ``prefill_tokens_per_sec``,
``decode_tokens_per_sec``, ``output_tokens_per_sec`` (higher is better; kept by
``--metric throughput``); counters and energy add ``ipc`` (higher is better),
``cpu_ms_per_inference`` and ``joules_per_inference`` (lower is better) where known
(``report.entries.HARDWARE_MEASURES``). Bencher creates a measure the first time a slug arrives.

Example::

    >>> bmf([load_document("result.json")])  # doctest: +SKIP
    {'squeezenet onnxruntime async s2 c2 b1': {'throughput': {'value': 171.2, ...}, ...}}
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
NS_PER_MS = 1e6


def metric(value: float, bounds: Bounds, scale: float = 1.0) -> dict[str, float] | None:
    """``{"value", "lower_value", "upper_value"}`` (bounds when known); None for a NaN."""
    if not math.isfinite(value):
        return None
    out = {"value": value * scale}
    if bounds is not None:
        out["lower_value"], out["upper_value"] = bounds[0] * scale, bounds[1] * scale
    return out


def bmf(docs: Sequence[Document], measures: Sequence[str] = MEASURES) -> dict[str, Any]:
    """The BMF document of ``docs``, with the ``measures`` asked for."""
    out: dict[str, Any] = {}
    for e in entries(docs):
        found = {
            "throughput": metric(e.items_per_sec, e.items_per_sec_ci)
            if "throughput" in measures
            else None,
            "latency": metric(e.median_ms, e.median_ci, NS_PER_MS)
            if "latency" in measures
            else None,
            "ratio": metric(e.ratio, e.ratio_ci),
        }
        for t in e.measures:
            if t.kind in measures:
                found[t.slug] = metric(t.value, t.bounds)
        kept = {k: v for k, v in found.items() if v is not None}
        if kept:
            out[e.name] = kept
    return out
