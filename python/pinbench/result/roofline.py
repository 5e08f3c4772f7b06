"""The memory roofline (``pinbench.roofline``): the machine's bandwidth on a run's CPUs, and for
``-s generate`` how much of it the decode steps use.

A decode step reads every weight once for the token(s) it makes, and the KV cache so far, so
decode tokens/s is bounded by memory bandwidth / bytes read per token. Definitions:

- Bandwidth: STREAM's read (a sum over one array) and triad (a = b + s*c, three arrays' bytes)
  on one pinned thread per CPU, each array 4x every last-level cache the CPUs use, at least
  64 MiB over all threads (``pinbench._core.measure_bandwidth``); best of N repetitions;
  1 GB/s = 1e9 bytes per second.
- Bytes per decode call: the model's stored tensors (initializers, external data included)
  except tables that are only gathered from (embeddings: one row a token), plus the KV cache of
  the call's batch at the decode calls' mean past length. Bytes per token: that / batch size.
- Achieved: bytes per token x decode tokens/s (each stream's, summed), against the read
  bandwidth (a decode step mostly reads). When weights and cache fit in the last-level cache,
  or the share would pass 100%, memory is not the bound (``in_cache``), and a share above
  100% is not given.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class BandwidthRecord:
    """One bandwidth measurement (see the module docstring)."""

    cpus: tuple[int, ...]  # one measuring thread per CPU
    affinity: tuple[tuple[int, ...], ...]  # each thread's affinity, read back inside it
    threads: int
    array_bytes_per_thread: int  # each of the 3 arrays of each thread
    arrays: int
    repetitions: int
    read_gbps: float
    triad_gbps: float
    llc_level: int  # 0: sysfs lists no cache
    llc_bytes: int  # every last-level cache the CPUs use, together
    llc_instances: int
    sizing: str  # how the arrays were sized, in words

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["cpus"] = list(self.cpus)
        out["affinity"] = [list(a) for a in self.affinity]
        return out


@dataclass(frozen=True)
class DecodeRoofline:
    """A ``-s generate`` run's decode steps against the measured bandwidth."""

    weight_bytes: int  # read per decode call (gathered tables left out)
    gathered_bytes: int  # tables only gathered from, not counted
    cache_bytes: float  # the KV cache read per call at the mean past length
    mean_past_tokens: float
    batch_size: int
    bytes_per_token: float
    decode_tokens_per_sec: float
    achieved_bytes_per_sec: float
    share: float | None  # achieved / the read bandwidth; None above 100% (or no bandwidth)
    fits_in_cache: bool  # weights + cache fit in the last-level cache
    in_cache: bool  # fits_in_cache, or the share passed 100%: memory is not the bound


@dataclass(frozen=True)
class Roofline:
    bandwidth: BandwidthRecord
    decode: DecodeRoofline | None = None  # -s generate with decode calls only


def mean_decode_past(prompt_tokens: int, new_tokens: int, depth: int) -> float | None:
    """The mean past length of a request's decode calls (``GenerationRequest.past_length``):
    after a prefill they start at depth + prompt, without one at depth; None without decode
    calls."""
    calls = new_tokens - 1 if prompt_tokens > 0 else new_tokens
    if calls <= 0:
        return None
    first = depth + prompt_tokens
    return first + (calls - 1) / 2


def decode_roofline(
    bandwidth: BandwidthRecord,
    *,
    weight_bytes: int,
    gathered_bytes: int,
    cache_bytes_per_token: int,
    mean_past_tokens: float,
    batch_size: int,
    decode_tokens_per_sec: float,
) -> DecodeRoofline:
    """The decode roofline; ``cache_bytes_per_token``: the KV cache of one token of one
    sequence (``Decoder.cache_bytes(1, 1)``)."""
    weights = weight_bytes - gathered_bytes
    cache = float(cache_bytes_per_token) * batch_size * mean_past_tokens
    per_token = (weights + cache) / batch_size
    achieved = per_token * decode_tokens_per_sec
    share = achieved / (bandwidth.read_gbps * 1e9) if bandwidth.read_gbps > 0 else None
    fits = weights + cache <= bandwidth.llc_bytes
    above = share is not None and share > 1.0
    return DecodeRoofline(
        weight_bytes=weights,
        gathered_bytes=gathered_bytes,
        cache_bytes=cache,
        mean_past_tokens=mean_past_tokens,
        batch_size=batch_size,
        bytes_per_token=per_token,
        decode_tokens_per_sec=decode_tokens_per_sec,
        achieved_bytes_per_sec=achieved,
        share=None if above else share,
        fits_in_cache=fits,
        in_cache=fits or above,
    )
