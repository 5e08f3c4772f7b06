"""``pinbench.generation``: ``-s generate``'s token figures, written and read back as the one
record ``GenerationFigures`` (definitions: ``pinbench.result.generation``).

A sweep point's ``generation`` is the same block less ``streams`` and ``cache_lengths_checked``
(they stay in the point's full result); read back, those are empty.

Example::

    >>> read_generation(None) is None
    True
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..generation import GenerationFigures, Spread, StreamGeneration
from .values import number, optional_int, optional_number

# Left out of a sweep point's summary.
PER_STREAM_KEYS = ("streams", "cache_lengths_checked")


def write_generation(g: GenerationFigures) -> dict[str, Any]:
    """``pinbench.generation``."""

    def spread(s: Spread | None) -> dict[str, float | int] | None:
        return s.to_dict() if s is not None else None

    return {
        "prompt_tokens": g.prompt_tokens,
        "new_tokens": g.new_tokens,
        "depth": g.depth,
        "batch_size": g.batch_size,
        "tokens": g.tokens,
        "calls_per_request": g.calls_per_request,
        "requests": g.requests,
        "requests_per_sec": g.requests_per_sec,
        "ttft_ms": spread(g.ttft_ms),
        "tpot_ms": spread(g.tpot_ms),
        "tpot_per_request_ms": spread(g.tpot_per_request_ms),
        "request_latency_ms": spread(g.request_latency_ms),
        "queueing_ms": spread(g.queueing_ms),
        "prefill_tokens_per_sec": g.prefill_tokens_per_sec,
        "decode_tokens_per_sec": g.decode_tokens_per_sec,
        "output_tokens_per_sec": g.output_tokens_per_sec,
        "kv_cache_bytes_per_stream": g.kv_cache_bytes_per_stream,
        "cache_lengths_checked": list(g.cache_lengths_checked),
        "sampled": g.sampled,
        "streams": [dataclasses.asdict(s) for s in g.streams],
    }


def write_point_generation(g: GenerationFigures | None) -> dict[str, Any] | None:
    """A sweep point's ``generation``: the block without the per-stream detail."""
    if g is None:
        return None
    out = write_generation(g)
    for key in PER_STREAM_KEYS:
        del out[key]
    return out


def read_generation(block: Any) -> GenerationFigures | None:
    """``pinbench.generation`` (or a sweep point's ``generation``); None when absent. A figure
    written as null (NaN, or one that does not apply) reads as None, a spread as None."""
    if not isinstance(block, dict):
        return None
    return GenerationFigures(
        prompt_tokens=int(block.get("prompt_tokens") or 0),
        new_tokens=int(block.get("new_tokens") or 0),
        depth=int(block.get("depth") or 0),
        batch_size=int(block.get("batch_size") or 1),
        tokens=str(block.get("tokens") or ""),
        calls_per_request=int(block.get("calls_per_request") or 0),
        requests=int(block.get("requests") or 0),
        ttft_ms=_spread(block.get("ttft_ms")),
        tpot_ms=_spread(block.get("tpot_ms")),
        tpot_per_request_ms=_spread(block.get("tpot_per_request_ms")),
        request_latency_ms=_spread(block.get("request_latency_ms")),
        queueing_ms=_spread(block.get("queueing_ms")),
        prefill_tokens_per_sec=optional_number(block.get("prefill_tokens_per_sec")),
        decode_tokens_per_sec=optional_number(block.get("decode_tokens_per_sec")),
        output_tokens_per_sec=number(block.get("output_tokens_per_sec")),
        requests_per_sec=number(block.get("requests_per_sec")),
        kv_cache_bytes_per_stream=optional_int(block.get("kv_cache_bytes_per_stream")),
        cache_lengths_checked=tuple(int(n) for n in block.get("cache_lengths_checked") or ()),
        sampled=bool(block.get("sampled", False)),
        streams=tuple(_stream(s) for s in block.get("streams") or ()),
    )


def _spread(block: Any) -> Spread | None:
    if not isinstance(block, dict):
        return None
    return Spread(
        mean=number(block.get("mean")),
        median=number(block.get("median")),
        p90=number(block.get("p90")),
        p99=number(block.get("p99")),
        count=int(block.get("count") or 0),
    )


def _stream(block: dict[str, Any]) -> StreamGeneration:
    return StreamGeneration(
        index=int(block["index"]),
        requests=int(block.get("requests") or 0),
        ttft_ms=optional_number(block.get("ttft_ms")),
        tpot_ms=optional_number(block.get("tpot_ms")),
        prefill_tokens_per_sec=optional_number(block.get("prefill_tokens_per_sec")),
        decode_tokens_per_sec=optional_number(block.get("decode_tokens_per_sec")),
    )
