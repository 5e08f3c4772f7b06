"""The A/B document (``pinbench ab -x``): its writer and its reader, side by side, over the one
record ``AbResult`` (``pinbench.result.ab_record``): as run it holds ``Result`` runs, read back
``RunDoc`` runs (each side's runs are run documents, ``schema.run``).

A new key: write it in ``write_ab`` and read it in ``read_ab``, into a field of ``AbResult``.

Example::

    >>> ab = pinbench.ab("squeezenet", b={"scenario": "async"}, rounds=2)  # doctest: +SKIP
    >>> read_ab(write_ab(ab)).comparison.ratio == ab.comparison.ratio  # doctest: +SKIP
    True
"""

from __future__ import annotations

from typing import Any

from ..ab_record import METRICS, AbResult, AbSide, Comparison
from .run import Run, RunDoc, read_run, write_run
from .values import finite_values, interval, now_iso, number
from .version import AB_KIND, AB_SCHEMA

COMPARISON_METHOD = (
    "paired rounds (ABBA order); one-sample Student t test of log(B/A) per round; "
    "ratio = the geometric mean"
)


def write_ab(ab: AbResult[Any]) -> dict[str, Any]:
    """Both sides' runs (each the document of ``pinbench -x``), the order they ran in, and
    the comparison."""
    c = ab.comparison
    out = {
        "kind": AB_KIND,
        "schema_version": AB_SCHEMA,
        "timestamp": ab.timestamp or now_iso(),
        "command_line": list(ab.command_line),
        "model": ab.model,
        "metric": c.metric,
        "interrupted": ab.interrupted,
        "a": _write_side(ab.a),
        "b": _write_side(ab.b),
        "order": list(ab.order),
        "comparison": {
            "metric": c.metric,
            "ratio": c.ratio,
            "ci95": list(c.ci95),
            "p_value": c.p_value,
            "significant": c.significant,
            "rounds": c.rounds,
            "alpha": c.alpha,
            "higher_is_better": c.higher_is_better,
            "method": COMPARISON_METHOD,
        },
    }
    finite: dict[str, Any] = finite_values(out)
    return finite


def _write_side(side: AbSide[Run]) -> dict[str, Any]:
    return {"flags": side.flags, "runs": [write_run(r) for r in side.runs]}


def read_ab(data: dict[str, Any], path: str = "") -> AbResult[RunDoc]:
    """An A/B document; a figure written as null reads as NaN (an unknown significance as
    False: schema 1 always wrote it)."""
    c = data["comparison"]
    metric = str(c.get("metric", data.get("metric", "items_per_sec")))
    ci = interval(c.get("ci95"))
    return AbResult(
        model=str(data.get("model", "?")),
        a=_read_side(data["a"], path),
        b=_read_side(data["b"], path),
        order=tuple(str(s) for s in data.get("order") or ()),
        comparison=Comparison(
            metric=metric,
            ratio=number(c.get("ratio")),
            ci95=ci if ci is not None else (number(None), number(None)),
            p_value=number(c.get("p_value")),
            significant=bool(c.get("significant")),
            rounds=int(c.get("rounds") or 0),
            alpha=number(c.get("alpha")),
            higher_is_better=bool(c.get("higher_is_better", METRICS.get(metric, True))),
        ),
        interrupted=bool(data.get("interrupted", False)),
        timestamp=str(data.get("timestamp") or ""),
        command_line=tuple(str(a) for a in data.get("command_line") or ()),
        path=path,
    )


def _read_side(side: dict[str, Any], path: str) -> AbSide[RunDoc]:
    return AbSide(str(side.get("flags", "")), tuple(read_run(r, path) for r in side["runs"]))
