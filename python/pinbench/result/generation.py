"""Token figures of ``-s generate`` (``pinbench.generation``), from the calls the runner timed.

The runner times every forward pass and keeps a request's calls together (its unit), so a
stream's samples are whole requests: call 0 the prefill (when there is a prompt), the rest
decode steps of one token. Definitions, as the anchors state them:

- TTFT, time to first token: the prefill call, the first token's pick (the argmax) included.
  Closed loop: no queueing. Served requests (``-s server``): from the request's scheduled
  arrival to the end of its first call, queueing included, as MLPerf LoadGen counts it; the
  request latency likewise ends at its last call's end, and ``queueing`` is the arrival to the
  first call's start.
- TPOT, time per output token: each decode call; and per request, as MLPerf LoadGen defines it,
  (request latency - TTFT) / (new tokens - 1).
- Request latency: from the start of its first call to the end of its last (the runner's own
  step between calls included).
- Prefill and decode tokens/s: tokens fed (batch x prompt) or generated (batch per decode call)
  over the time spent in those calls, per stream, summed over the streams that ran at once
  (llama-bench's pp and tg figures). Output tokens/s: tokens generated (batch x new tokens per
  request) over the window, end to end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .measurement import Measurement, StreamMeasurement


@dataclass(frozen=True)
class Spread:
    """Milliseconds: mean, median, 90th and 99th percentiles, and how many values."""

    mean: float
    median: float
    p90: float
    p99: float
    count: int

    @classmethod
    def of_ns(cls, values: NDArray[Any]) -> Spread | None:
        """The spread of ``values`` (ns) in ms; None when there are none."""
        if values.size == 0:
            return None
        ms = values.astype(np.float64) / 1e6
        p50, p90, p99 = np.percentile(ms, [50, 90, 99])
        return cls(float(ms.mean()), float(p50), float(p90), float(p99), int(ms.size))

    def to_dict(self) -> dict[str, float | int]:
        return {
            "mean": self.mean,
            "median": self.median,
            "p90": self.p90,
            "p99": self.p99,
            "count": self.count,
        }


@dataclass(frozen=True)
class StreamGeneration:
    """One stream's requests."""

    index: int
    requests: int
    ttft_ms: float | None  # mean
    tpot_ms: float | None  # mean decode call
    prefill_tokens_per_sec: float | None
    decode_tokens_per_sec: float | None


@dataclass(frozen=True)
class GenerationFigures:
    """``-s generate``'s figures over every stream (see the module docstring)."""

    prompt_tokens: int
    new_tokens: int
    depth: int
    batch_size: int
    tokens: str  # greedy | fixed
    calls_per_request: int
    requests: int  # whole requests measured (stored: see ``sampled``)
    ttft_ms: Spread | None  # None without a prompt (closed loop)
    tpot_ms: Spread | None  # decode calls; None without decode calls
    tpot_per_request_ms: Spread | None  # (latency - TTFT) / (new tokens - 1)
    request_latency_ms: Spread | None
    queueing_ms: Spread | None  # served requests: from the arrival to the first call's start
    prefill_tokens_per_sec: float | None
    decode_tokens_per_sec: float | None
    output_tokens_per_sec: float
    requests_per_sec: float
    kv_cache_bytes_per_stream: int | None  # the cache at the end of a request (one copy)
    cache_lengths_checked: tuple[int, ...]  # present length at each call, read from the engine
    sampled: bool  # the samples are a reservoir of whole requests, not every one
    streams: tuple[StreamGeneration, ...]  # () in a sweep point's summary

    @property
    def shape(self) -> str:
        """The request as ``P+N`` (prompt and new tokens), ``@D`` after it with a depth."""
        depth = f"@{self.depth}" if self.depth else ""
        return f"{self.prompt_tokens}+{self.new_tokens}{depth}"

    # The figures the reports show, NaN where the spread is missing (no prompt: no TTFT).
    @property
    def ttft_mean_ms(self) -> float:
        return _stat(self.ttft_ms, "mean")

    @property
    def ttft_p99_ms(self) -> float:
        return _stat(self.ttft_ms, "p99")

    @property
    def tpot_mean_ms(self) -> float:
        return _stat(self.tpot_ms, "mean")

    @property
    def tpot_p99_ms(self) -> float:
        return _stat(self.tpot_ms, "p99")

    @property
    def tpot_per_request_mean_ms(self) -> float:
        return _stat(self.tpot_per_request_ms, "mean")

    @property
    def request_latency_mean_ms(self) -> float:
        return _stat(self.request_latency_ms, "mean")


def _stat(spread: Spread | None, name: str) -> float:
    return float("nan") if spread is None else float(getattr(spread, name))


def generation_figures(
    m: Measurement,
    *,
    prompt_tokens: int,
    new_tokens: int,
    depth: int,
    batch_size: int,
    tokens: str,
    kv_cache_bytes: int | None,
    cache_lengths: tuple[int, ...],
) -> GenerationFigures:
    """The figures of a ``-s generate`` measurement (``m``'s units are requests)."""
    prefill = prompt_tokens > 0
    calls = m.calls_per_unit  # the runner's unit: one request's forward passes
    ttft, decode, latency, per_request, queued = [], [], [], [], []
    streams = []
    for s in m.streams:
        origin, starts, ends = requests_of(s, calls)
        durations = ends - starts
        if s.scheduled_ns is not None:
            queued.append(starts[:, 0] - origin)
        first = ends[:, 0] - origin if prefill or s.scheduled_ns is not None else np.empty(0)
        steps = durations[:, 1:] if prefill else durations
        span = ends[:, -1] - origin
        ttft.append(first)
        decode.append(steps.ravel())
        latency.append(span)
        if first.size and new_tokens > 1:
            per_request.append((span - first) / (new_tokens - 1))
        elif not first.size and new_tokens > 0:
            per_request.append(span / new_tokens)
        prefills = durations[:, 0] if prefill else np.empty(0)
        streams.append(
            StreamGeneration(
                index=s.index,
                requests=int(starts.shape[0]),
                ttft_ms=float(first.mean()) / 1e6 if first.size else None,
                tpot_ms=float(steps.mean()) / 1e6 if steps.size else None,
                prefill_tokens_per_sec=_rate(batch_size * prompt_tokens * prefills.size, prefills),
                decode_tokens_per_sec=_rate(batch_size * steps.size, steps),
            )
        )
    requests_measured = sum(s.iterations for s in m.streams) // calls
    seconds = m.seconds
    generated = requests_measured * batch_size * new_tokens
    return GenerationFigures(
        prompt_tokens=prompt_tokens,
        new_tokens=new_tokens,
        depth=depth,
        batch_size=batch_size,
        tokens=tokens,
        calls_per_request=calls,
        requests=requests_measured,
        ttft_ms=Spread.of_ns(_joined(ttft)),
        tpot_ms=Spread.of_ns(_joined(decode)),
        tpot_per_request_ms=Spread.of_ns(_joined(per_request)),
        request_latency_ms=Spread.of_ns(_joined(latency)),
        queueing_ms=Spread.of_ns(_joined(queued)),
        prefill_tokens_per_sec=_sum(s.prefill_tokens_per_sec for s in streams),
        decode_tokens_per_sec=_sum(s.decode_tokens_per_sec for s in streams),
        output_tokens_per_sec=generated / seconds if seconds > 0 else float("nan"),
        requests_per_sec=requests_measured / seconds if seconds > 0 else float("nan"),
        kv_cache_bytes_per_stream=kv_cache_bytes,
        cache_lengths_checked=cache_lengths,
        sampled=any(s.sampled for s in m.streams),
        streams=tuple(streams),
    )


def request_times_ms(m: Measurement, new_tokens: int) -> tuple[NDArray[Any], NDArray[Any]]:
    """Every whole request's (TTFT, TPOT) in ms, as MLPerf LoadGen defines them: TTFT from its
    arrival (closed loop: its first call's start) to its first call's end; TPOT = (latency -
    TTFT) / (new tokens - 1), empty with fewer than 2 new tokens."""
    ttft, tpot = [], []
    for s in m.streams:
        origin, _, ends = requests_of(s, m.calls_per_unit)
        first = ends[:, 0] - origin
        ttft.append(first / 1e6)
        if new_tokens > 1:
            tpot.append((ends[:, -1] - origin - first) / (new_tokens - 1) / 1e6)
    return _joined(ttft), _joined(tpot)


def request_latencies_ms(m: Measurement) -> NDArray[Any]:
    """Every whole request's latency in ms, from its arrival (closed loop: its first call's
    start) to its last call's end."""
    spans = []
    for s in m.streams:
        origin, _, ends = requests_of(s, m.calls_per_unit)
        spans.append((ends[:, -1] - origin) / 1e6)
    return _joined(spans)


def requests_of(
    s: StreamMeasurement, calls: int
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """A stream's whole requests: each one's origin (its scheduled arrival in the open loop,
    queueing included; else its first call's start), and its calls' starts and ends, one row a
    request. A failed stream's last request, cut, is left out."""
    whole = (s.starts_ns.size // calls) * calls
    starts = s.starts_ns[:whole].reshape(-1, calls)
    ends = s.ends_ns[:whole].reshape(-1, calls)
    if s.scheduled_ns is None:
        return starts[:, 0], starts, ends
    return s.scheduled_ns[:whole].reshape(-1, calls)[:, 0], starts, ends


def _rate(count: int, durations: NDArray[Any]) -> float | None:
    total = float(durations.sum())
    return count / (total / 1e9) if durations.size and total > 0 else None


def _sum(values: Any) -> float | None:
    present = [v for v in values if v is not None]
    return float(sum(present)) if present else None


def _joined(parts: list[NDArray[Any]]) -> NDArray[Any]:
    return np.concatenate(parts) if parts else np.empty(0)
