"""pinbench's JSON documents read back into plain records, for the reports of ``pinbench report``.

Three kinds, told apart by their keys:

- a **run** (``pinbench -x``; any schema, deepsparse.benchmark's own export too): ``RunDoc``;
- a **sweep** (``pinbench sweep -x``, ``"kind": "pinbench sweep"``, schema 1 or 2): ``SweepDoc``;
- an **A/B** run (``pinbench ab -x``, ``"kind": "pinbench ab"``): ``AbDoc``, each side's runs
  as ``RunDoc`` and the comparison as written.

A run of ``-s generate`` also carries its token figures (``pinbench.generation``): read as
``GenerationDoc`` on the run (``RunDoc.generation``) and on each sweep point that ran it.

Only what a report shows is read; a missing optional key reads as None (or NaN for a figure),
so older files still load. A file that is not JSON, or JSON of no known kind, is a UsageError.

Example::

    >>> doc = load_document("result.json")  # doctest: +SKIP
    >>> doc.items_per_sec, doc.valid  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from ..base.errors import UsageError
from .fleet import Fleet, Host, KindBest, Retry
from .samples import locate

SWEEP_KIND = "pinbench sweep"
AB_KIND = "pinbench ab"


@dataclass(frozen=True)
class GenerationDoc:
    """``-s generate``'s token figures as the JSON recorded them (``pinbench.generation``; the
    definitions are ``pinbench.result.generation``'s). Times in ms, rates in tokens/s; NaN where
    a figure is missing (no prompt: no TTFT; no decode call: no TPOT)."""

    prompt_tokens: int
    new_tokens: int
    depth: int
    tokens: str  # greedy | fixed
    requests: int
    requests_per_sec: float
    ttft_mean_ms: float
    ttft_p99_ms: float
    tpot_mean_ms: float  # the decode calls'
    tpot_p99_ms: float
    tpot_per_request_mean_ms: float  # (latency - TTFT) / (new tokens - 1)
    request_latency_mean_ms: float
    prefill_tokens_per_sec: float
    decode_tokens_per_sec: float
    output_tokens_per_sec: float

    @property
    def shape(self) -> str:
        """The request as ``P+N`` (prompt and new tokens), ``@D`` after it with a depth."""
        depth = f"@{self.depth}" if self.depth else ""
        return f"{self.prompt_tokens}+{self.new_tokens}{depth}"


def read_generation(block: Any) -> GenerationDoc | None:
    """``pinbench.generation`` (or a sweep point's ``generation``); None when absent."""
    if not isinstance(block, dict):
        return None

    def spread(key: str, stat: str) -> float:
        s = block.get(key)
        return number(s.get(stat)) if isinstance(s, dict) else math.nan

    return GenerationDoc(
        prompt_tokens=int(block.get("prompt_tokens") or 0),
        new_tokens=int(block.get("new_tokens") or 0),
        depth=int(block.get("depth") or 0),
        tokens=str(block.get("tokens") or ""),
        requests=int(block.get("requests") or 0),
        requests_per_sec=number(block.get("requests_per_sec")),
        ttft_mean_ms=spread("ttft_ms", "mean"),
        ttft_p99_ms=spread("ttft_ms", "p99"),
        tpot_mean_ms=spread("tpot_ms", "mean"),
        tpot_p99_ms=spread("tpot_ms", "p99"),
        tpot_per_request_mean_ms=spread("tpot_per_request_ms", "mean"),
        request_latency_mean_ms=spread("request_latency_ms", "mean"),
        prefill_tokens_per_sec=number(block.get("prefill_tokens_per_sec")),
        decode_tokens_per_sec=number(block.get("decode_tokens_per_sec")),
        output_tokens_per_sec=number(block.get("output_tokens_per_sec")),
    )


@dataclass(frozen=True)
class RunDoc:
    """One run as its JSON recorded it (latencies in ms per batch)."""

    path: str  # the file it came from ("" when read from a dict)
    schema: int  # pinbench.schema_version; 0 for the original's export
    model: str
    engine: str  # the engine's name ("" when unknown)
    engine_version: str
    scenario: str  # pinbench's name (sync, async, elastic, server)
    num_streams: int
    num_cores: int
    batch_size: int
    input_shapes: dict[str, list[int]]  # per input, as run ({} when unknown)
    items_per_sec: float
    items_per_sec_ci: tuple[float, float] | None
    mean_ms: float
    median_ms: float
    std_ms: float
    min_ms: float
    max_ms: float
    median_ci: tuple[float, float] | None
    percentiles: dict[float, float]  # 25 ... 99.9 -> ms
    iterations: int
    seconds: float
    valid: bool | None  # None: the file predates the verdict
    reasons: tuple[tuple[str, str], ...]  # (rule, message)
    interrupted: bool
    timestamp: str
    command_line: tuple[str, ...]
    environment: dict[str, Any]
    stream_cpus: tuple[tuple[int, ...], ...]  # CPUs each stream ran on
    samples_named: str | None  # the samples file the JSON names, as written
    samples: Path | None  # that file, found beside the JSON; None when absent
    data: dict[str, Any] = field(default_factory=dict, repr=False)  # the document itself
    generation: GenerationDoc | None = None  # -s generate's token figures


@dataclass(frozen=True)
class SweepRow:
    """One point of a sweep: its figures, or its error."""

    model: str
    engine: str
    num_cores: int
    scenario: str
    batch_size: int
    num_streams: int
    input_shapes: dict[str, list[int]]
    items_per_sec: float
    latency_ms: float  # at the sweep's percentile
    mean_ms: float
    median_ms: float
    std_ms: float
    iterations: int
    valid: bool
    pareto: bool
    best: bool
    error: str | None
    interrupted: bool
    command: tuple[str, ...]
    generation: GenerationDoc | None = None  # a -s generate point's token figures
    sequence_length: int | None = None  # the point's -seq_len, when the sweep varies it
    host: str | None = None  # a fleet's host that ran it
    host_kind: str | None = None  # that host's kind
    retried_from: str | None = None  # a fleet's first host and its error, when retried


@dataclass(frozen=True)
class SweepModelDoc:
    model: str
    points: tuple[int, ...]
    pareto: tuple[int, ...]
    best: int | None


@dataclass(frozen=True)
class SweepDoc:
    path: str
    schema: int
    timestamp: str
    command_line: tuple[str, ...]
    percentile: float
    latency_slo_ms: float | None
    seconds_per_point: float
    interrupted: bool
    points_planned: int
    points: tuple[SweepRow, ...]
    models: tuple[SweepModelDoc, ...]
    runs: tuple[RunDoc | None, ...]  # each point's full result (None for a failed point)
    fleet: Fleet | None = None  # the hosts, when the sweep ran on a cluster


@dataclass(frozen=True)
class AbSide:
    flags: str
    runs: tuple[RunDoc, ...]


@dataclass(frozen=True)
class AbComparison:
    metric: str
    ratio: float  # b / a
    ci95: tuple[float, float] | None
    p_value: float
    significant: bool | None
    rounds: int
    alpha: float


@dataclass(frozen=True)
class AbDoc:
    path: str
    schema: int
    timestamp: str
    command_line: tuple[str, ...]
    model: str
    metric: str
    a: AbSide
    b: AbSide
    order: tuple[str, ...]
    comparison: AbComparison


Document = Union[RunDoc, SweepDoc, AbDoc]


def read_json_file(path: str) -> Any:
    """The JSON in ``path``; UsageError (one line) when it is missing or not JSON."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"{path}: not a pinbench JSON ({e})") from None


def load_document(path: str) -> Document:
    """The document in ``path``; UsageError (one line) when it is missing or of no known kind."""
    return read_document(read_json_file(path), path)


def read_document(data: Any, path: str = "") -> Document:
    """A document from its parsed JSON; ``path`` locates a run's samples beside it."""
    name = path or "document"
    if not isinstance(data, dict):
        raise UsageError(f"{name}: not a pinbench JSON (not an object)")
    try:
        if data.get("kind") == SWEEP_KIND:
            return read_sweep(data, path)
        if data.get("kind") == AB_KIND:
            return read_ab(data, path)
        if "benchmark_result" in data:
            return read_run(data, path)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise UsageError(f"{name}: not a pinbench JSON (missing or bad {e})") from None
    raise UsageError(f"{name}: not a pinbench run, sweep or A/B JSON")


def read_run(data: dict[str, Any], path: str = "") -> RunDoc:
    br = data["benchmark_result"]
    pb = data.get("pinbench") or {}
    config = pb.get("config") or {}
    result = pb.get("result") or {}
    latency = result.get("latency_ms") or {}
    validity = pb.get("validity")
    engine = config.get("engine") or {}
    entry = pb.get("samples") if isinstance(pb.get("samples"), dict) else None
    return RunDoc(
        path=path,
        schema=int(pb.get("schema_version", 0)),
        model=str(data.get("orig_model_path") or data.get("model_path") or "?"),
        engine=str(engine.get("name", "")),
        engine_version=str(engine.get("version", "")),
        scenario=str(config.get("scenario") or _scenario(data.get("scenario"))),
        num_streams=int(config.get("num_streams", data.get("num_streams") or 1)),
        num_cores=int(config.get("num_cores", data.get("num_cores") or 0)),
        batch_size=int(data.get("batch_size") or 1),
        input_shapes=dict(config.get("input_shapes") or {}),
        items_per_sec=number(br["items_per_sec"]),
        items_per_sec_ci=interval(result.get("items_per_sec_ci")),
        mean_ms=number(br.get("mean")),
        median_ms=number(br.get("median")),
        std_ms=number(br.get("std")),
        min_ms=number(latency.get("min")),
        max_ms=number(latency.get("max")),
        median_ci=interval(latency.get("median_ci")),
        percentiles=_percentiles(latency.get("percentiles") or br),
        iterations=int(br.get("iterations") or 0),
        seconds=number(br.get("seconds_ran")),
        valid=None if validity is None else bool(validity["valid"]),
        reasons=tuple(
            (str(r["rule"]), str(r.get("message", r["rule"])))
            for r in (validity or {}).get("reasons", [])
        ),
        interrupted=bool(pb.get("interrupted", False)),
        timestamp=str(pb.get("timestamp") or ""),
        command_line=tuple(str(a) for a in pb.get("command_line") or ()),
        environment=dict(pb.get("environment") or {}),
        stream_cpus=tuple(tuple(int(c) for c in s.get("cpus", ())) for s in pb.get("streams", [])),
        samples_named=None if entry is None else str(entry.get("path")),
        samples=locate(entry, path) if path else None,
        data=data,
        generation=read_generation(pb.get("generation")),
    )


def read_sweep(data: dict[str, Any], path: str = "") -> SweepDoc:
    schema = int(data.get("schema_version", 1))
    results = data.get("results") or []
    runs = tuple(None if r is None else read_run(r, path) for r in results)
    points = tuple(
        _sweep_row(p, data, runs[i] if i < len(runs) else None)
        for i, p in enumerate(data["points"])
    )
    if "models" in data:
        models = tuple(
            SweepModelDoc(
                str(m["model"]),
                tuple(int(i) for i in m["points"]),
                tuple(int(i) for i in m["pareto"]),
                None if m.get("best") is None else int(m["best"]),
            )
            for m in data["models"]
        )
    else:  # schema 1: one model
        best = data.get("best")
        models = (
            SweepModelDoc(
                str(data.get("model", "?")),
                tuple(range(len(points))),
                tuple(int(i) for i in data.get("pareto", [])),
                None if best is None else int(best),
            ),
        )
    return SweepDoc(
        path=path,
        schema=schema,
        timestamp=str(data.get("timestamp") or ""),
        command_line=tuple(str(a) for a in data.get("command_line") or ()),
        percentile=number(data.get("percentile", 99.0)),
        latency_slo_ms=None
        if data.get("latency_slo_ms") is None
        else float(data["latency_slo_ms"]),
        seconds_per_point=number(data.get("seconds_per_point")),
        interrupted=bool(data.get("interrupted", False)),
        points_planned=int(data.get("points_planned", len(points))),
        points=points,
        models=models,
        runs=runs,
        fleet=read_fleet(data.get("fleet")),
    )


def read_fleet(data: dict[str, Any] | None) -> Fleet | None:
    """A fleet sweep's ``fleet`` block (None when the sweep ran on one machine)."""
    if not data:
        return None
    return Fleet(
        backend=str(data["backend"]),
        cluster=str(data.get("cluster", "")),
        mode=str(data.get("mode", "spread")),
        hosts=tuple(
            Host(str(h["name"]), str(h["kind"]), int(h.get("cpus", 0)), dict(h["environment"]))
            for h in data.get("hosts", [])
        ),
        retries=tuple(
            Retry(
                str(r["point"]),
                str(r["failed_host"]),
                str(r["error"]),
                None if r.get("retried_on") is None else str(r["retried_on"]),
            )
            for r in data.get("retries", [])
        ),
        best_by_kind=tuple(
            KindBest(
                model=str(b["model"]),
                kind=str(b["kind"]),
                point=None if b.get("point") is None else int(b["point"]),
                items_per_sec=number(b.get("items_per_sec")),
                items_per_sec_per_core=number(b.get("items_per_sec_per_core")),
                cpu_model=str(b.get("cpu_model", "unknown")),
            )
            for b in data.get("best_by_kind", [])
        ),
    )


def _sweep_row(p: dict[str, Any], data: dict[str, Any], run: RunDoc | None) -> SweepRow:
    """A point of either schema: schema 1 keeps model, engine, cores and shapes elsewhere."""
    return SweepRow(
        model=str(p.get("model") or data.get("model", "?")),
        engine=str(p.get("engine") or (run.engine if run else "")),
        num_cores=int(p.get("num_cores") or (run.num_cores if run else 0)),
        scenario=str(p.get("scenario") or data.get("scenario", "")),
        batch_size=int(p["batch_size"]),
        num_streams=int(p["num_streams"]),
        input_shapes=dict(p.get("input_shapes") or (run.input_shapes if run else {})),
        items_per_sec=number(p.get("items_per_sec")),
        latency_ms=number(p.get("latency_ms")),
        mean_ms=number(p.get("mean_ms", run.mean_ms if run else None)),
        median_ms=number(p.get("median_ms")),
        std_ms=number(p.get("std_ms", run.std_ms if run else None)),
        iterations=int(p.get("iterations") or 0),
        valid=bool(p.get("valid", False)),
        pareto=bool(p.get("pareto", False)),
        best=bool(p.get("best", False)),
        error=None if p.get("error") is None else str(p["error"]),
        interrupted=bool(p.get("interrupted", False)),
        command=tuple(str(a) for a in p.get("command") or ()),
        generation=read_generation(p.get("generation")) or (run.generation if run else None),
        sequence_length=None if p.get("sequence_length") is None else int(p["sequence_length"]),
        host=None if p.get("host") is None else str(p["host"]),
        host_kind=None if p.get("host_kind") is None else str(p["host_kind"]),
        retried_from=None if p.get("retried_from") is None else str(p["retried_from"]),
    )


def read_ab(data: dict[str, Any], path: str = "") -> AbDoc:
    c = data["comparison"]
    significant = c.get("significant")
    return AbDoc(
        path=path,
        schema=int(data.get("schema_version", 1)),
        timestamp=str(data.get("timestamp") or ""),
        command_line=tuple(str(a) for a in data.get("command_line") or ()),
        model=str(data.get("model", "?")),
        metric=str(data.get("metric", c.get("metric", "items_per_sec"))),
        a=_side(data["a"], path),
        b=_side(data["b"], path),
        order=tuple(str(s) for s in data.get("order") or ()),
        comparison=AbComparison(
            metric=str(c.get("metric", data.get("metric", "items_per_sec"))),
            ratio=number(c.get("ratio")),
            ci95=interval(c.get("ci95")),
            p_value=number(c.get("p_value")),
            significant=None if significant is None else bool(significant),
            rounds=int(c.get("rounds") or 0),
            alpha=number(c.get("alpha")),
        ),
    )


def _side(side: dict[str, Any], path: str) -> AbSide:
    return AbSide(str(side.get("flags", "")), tuple(read_run(r, path) for r in side["runs"]))


def _scenario(name: Any) -> str:
    """The original's scenario names as pinbench's."""
    return {"singlestream": "sync", "multistream": "async"}.get(str(name), str(name or "?"))


def _percentiles(block: dict[str, Any]) -> dict[float, float]:
    out = {}
    for key, value in block.items():
        if isinstance(key, str) and key.endswith("%") and value is not None:
            try:
                out[float(key[:-1])] = float(value)
            except ValueError:
                continue
    return dict(sorted(out.items()))


def number(value: Any) -> float:
    """A JSON number as a float; null (a NaN written out) as NaN."""
    return math.nan if value is None else float(value)


def interval(value: Any) -> tuple[float, float] | None:
    """A ``[lo, hi]`` of finite numbers, else None."""
    if not isinstance(value, list) or len(value) != 2 or None in value:
        return None
    lo, hi = float(value[0]), float(value[1])
    return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None
