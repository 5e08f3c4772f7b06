"""KV-cache decoders: which inputs are the cache, which outputs feed it back, and the shapes of
deepsparse.benchmark's KV-cache runs (``-seq_len``, ``-input_ids_len``).

A model is a decoder with a KV cache when one of its inputs is a cache (deepsparse 1.8.0 asks
only whether a name starts with ``past_key_values``; pinbench knows more conventions):

=======================  ==============================  ==============================
convention               cache inputs                    cache outputs
=======================  ==============================  ==============================
``past_key_values``      ``past_key_values.N.key/value``  ``present.N.key/value``
                         (Optimum, onnxruntime-genai,
                         DeepSparse's exports)
``past_key_value``       ``past_key_N``, ``past_value_N``  ``present_key_N``, ``present_value_N``
``past``                 ``past.N`` (key and value         ``present.N``
                         stacked: ``[2, batch, heads,
                         past, head_dim]``)
=======================  ==============================  ==============================

The other inputs by role: the token ids (``input_ids``), the attention mask
(``attention_mask``), positions (``position_ids``, ``positions``), a causal mask
(``causal_mask*``) and a merged decoder's ``use_cache_branch``.

A cache dim other than batch and sequence that the graph leaves free (onnxruntime-genai's
builder names the head size ``kv_cache_dim``) is read from a ``genai_config.json`` beside
the model (``with_genai_dims``).

Shapes of one forward pass (the original's ``overwrite_onnx_model_inputs_for_kv_cache_models``,
with the cache's batch and sequence axes found by rank rather than assumed): batch B, context
S = ``-seq_len``, new tokens L = ``-input_ids_len``: token ids and positions ``[B, L]``, the
attention mask ``[B, S]``, each cache ``[B, heads, S - L, head_dim]``, a causal mask
``[B, 1, L, S]``. L = 1 is a decode step at context S; L = S a prefill with an empty cache.

Example::

    >>> from pinbench.model.input_spec import InputSpec
    >>> specs = [InputSpec("input_ids", 7, None, ("b", "s")),
    ...          InputSpec("past_key_values.0.key", 1, None, ("b", 4, "p", 16))]
    >>> d = find_decoder(specs, ["logits", "present.0.key"])
    >>> d.convention, d.caches[0].present
    ('past_key_values', 'present.0.key')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..base.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import numpy as np
    import numpy.typing as npt

    from .input_spec import InputSpec

# -seq_len when the model leaves the attention mask's length free (deepsparse 1.8.0 raises
# "Unable to infer sequence length" there): a decode step at a context of 128 tokens, the
# sequence length pinbench gives any free sequence dim.
DEFAULT_SEQ_LEN = 128

_CONVENTIONS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    # (name, cache input pattern, present output template from the pattern's groups)
    ("past_key_values", re.compile(r"^past_key_values\.(\d+)\.(key|value)$"), "present.{0}.{1}"),
    ("past_key_value", re.compile(r"^past_(key|value)_(\d+)$"), "present_{0}_{1}"),
    ("past", re.compile(r"^past\.(\d+)$"), "present.{0}"),
)
_TOKEN_IDS = ("input_ids",)
_MASK = ("attention_mask",)
_POSITIONS = ("position_ids", "positions")
_BRANCH = ("use_cache_branch",)


@dataclass(frozen=True)
class Cache:
    """One cache input, the output that feeds it back, and where its axes are."""

    past: str  # the input
    present: str  # the output that becomes the next call's ``past``; "" when the model has none
    batch_axis: int
    seq_axis: int  # the axis that grows by one per token
    shape: tuple[int | str | None, ...]  # as the model declares it
    dtype: np.dtype[Any] | None


@dataclass(frozen=True)
class Decoder:
    """A decoder's inputs by role (None: the model has no such input)."""

    convention: str
    caches: tuple[Cache, ...]
    input_ids: str | None
    attention_mask: str | None
    positions: str | None
    causal_masks: tuple[str, ...]
    use_cache_branch: str | None
    logits: str | None  # the first output that is not a cache
    others: tuple[str, ...]  # inputs of no known role

    def cache_bytes(self, batch: int, length: int) -> int:
        """Bytes of every cache tensor at ``length`` tokens: what one stream holds per copy.

        REQUIRES every cache dim but batch and sequence fixed (``check_cache_dims``).
        """
        total = 0
        for c in self.caches:
            n = 1
            for axis, d in enumerate(c.shape):
                n *= batch if axis == c.batch_axis else length if axis == c.seq_axis else int(d)  # type: ignore[arg-type]
            total += n * (c.dtype.itemsize if c.dtype is not None else 4)
        return total

    def check_cache_dims(self) -> None:
        """UsageError when a cache leaves a dim other than batch and sequence free (its heads
        or head size), which pinbench cannot guess."""
        for c in self.caches:
            free = [
                str(d)
                for axis, d in enumerate(c.shape)
                if axis not in (c.batch_axis, c.seq_axis) and not isinstance(d, int)
            ]
            if free:
                raise UsageError(
                    f"the KV cache input {c.past!r} leaves {', '.join(free)} free (its heads or "
                    "head size) and no genai_config.json beside it gives them; give its shape "
                    "with -shapes and --disable-kv-cache-overrides"
                )


def find_decoder(inputs: Sequence[InputSpec], outputs: Sequence[str]) -> Decoder | None:
    """The decoder these inputs and outputs make, or None when no input is a KV cache."""
    convention = None
    caches: list[Cache] = []
    known: set[str] = set()
    out = set(outputs)
    for spec in inputs:
        for name, pattern, template in _CONVENTIONS:
            m = pattern.match(spec.name)
            if m is None:
                continue
            convention = convention or name
            present = template.format(*m.groups())
            caches.append(_cache(spec, present if present in out else ""))
            known.add(spec.name)
            break
        else:
            if spec.name.startswith("past_key_values"):  # the original's rule, any naming
                convention = convention or "past_key_values"
                caches.append(_cache(spec, ""))
                known.add(spec.name)
    if not caches:
        return None
    names = [s.name for s in inputs]

    def role(candidates: tuple[str, ...]) -> str | None:
        found = next((n for n in candidates if n in names), None)
        if found is not None:
            known.add(found)
        return found

    ids, mask, positions, branch = role(_TOKEN_IDS), role(_MASK), role(_POSITIONS), role(_BRANCH)
    causal = tuple(n for n in names if n.startswith("causal_mask"))
    known.update(causal)
    presents = {c.present for c in caches}
    logits = next((o for o in outputs if o not in presents), None)
    assert convention is not None
    return Decoder(
        convention=convention,
        caches=tuple(caches),
        input_ids=ids,
        attention_mask=mask,
        positions=positions,
        causal_masks=causal,
        use_cache_branch=branch,
        logits=logits,
        others=tuple(n for n in names if n not in known),
    )


GENAI_CONFIG = "genai_config.json"


def with_genai_dims(decoder: Decoder, folder: Path) -> Decoder:
    """``decoder`` with the cache dims its graph leaves free (heads, head size) taken from the
    ``genai_config.json`` in ``folder``, when there is one: onnxruntime-genai's model builder
    names the head size ``kv_cache_dim`` in the graph and writes its value as
    ``model.decoder.head_size`` (and the KV heads as ``num_key_value_heads``) beside it."""
    import json

    config = folder / GENAI_CONFIG
    if not config.is_file():
        return decoder
    try:
        d = json.loads(config.read_text()).get("model", {}).get("decoder", {})
        head_size, heads = d.get("head_size"), d.get("num_key_value_heads")
    except (ValueError, AttributeError) as e:
        raise UsageError(f"{config.name} beside the model is not valid: {e}") from e
    caches = []
    for c in decoder.caches:
        shape = list(c.shape)
        last = len(shape) - 1
        for axis, dim in enumerate(shape):
            if axis in (c.batch_axis, c.seq_axis) or isinstance(dim, int):
                continue
            value = head_size if axis == last else heads if axis == last - 2 else None
            if isinstance(value, int) and value > 0:
                shape[axis] = value
        caches.append(replace(c, shape=tuple(shape)))
    return replace(decoder, caches=tuple(caches))


def _cache(spec: InputSpec, present: str) -> Cache:
    """A cache input's axes: ``[2, batch, heads, seq, head_dim]`` for a stacked (rank-5)
    cache, else batch first and the sequence third (``[batch, heads, seq, head_dim]``)."""
    rank = len(spec.shape)
    batch, seq = (1, 3) if rank == 5 else (0, 2)
    if rank < 3:
        batch, seq = 0, rank - 1
    return Cache(spec.name, present, batch, seq, tuple(spec.shape), spec.dtype)


@dataclass(frozen=True)
class KvRequest:
    """What the KV-cache flags ask of ``load_model``: ``-seq_len`` (None: from the model or the
    default) and ``-input_ids_len``."""

    seq_len: int | None
    input_ids_len: int


@dataclass(frozen=True)
class KvShape:
    """The one forward pass that the KV-cache flags ask for."""

    seq_len: int  # -seq_len: the context, past + new tokens
    input_ids_len: int  # -input_ids_len: new tokens
    seq_len_source: str  # "-seq_len", "the model's attention_mask", or "default"

    @property
    def past_len(self) -> int:
        return self.seq_len - self.input_ids_len


def plan_kv_shape(
    decoder: Decoder, inputs: Sequence[InputSpec], seq_len: int | None, input_ids_len: int
) -> KvShape:
    """-seq_len as given, else the attention mask's fixed length (as deepsparse 1.8.0), else
    ``DEFAULT_SEQ_LEN``; UsageError when ``input_ids_len`` exceeds it."""
    if seq_len is not None:
        seq, source = seq_len, "-seq_len"
    else:
        fixed = None
        if decoder.attention_mask is not None:
            spec = next(s for s in inputs if s.name == decoder.attention_mask)
            if len(spec.shape) > 1 and isinstance(spec.shape[1], int) and spec.shape[1] > 0:
                fixed = spec.shape[1]
        seq, source = (fixed, "the model's attention_mask") if fixed else (
            DEFAULT_SEQ_LEN, "default")  # fmt: skip
    if input_ids_len > seq:
        raise UsageError(
            f"-input_ids_len {input_ids_len} is longer than the sequence length {seq} "
            f"({source}); it must be at most -seq_len"
        )
    return KvShape(seq, input_ids_len, source)


def kv_shapes(
    decoder: Decoder, inputs: Sequence[InputSpec], shape: KvShape, batch: int
) -> dict[str, list[int]]:
    """Each input's shape for ``shape`` at ``batch`` (see the module docstring). UsageError for
    an input of no known role whose dims are not all fixed but the batch (deepsparse 1.8.0
    refuses every input it does not know)."""
    decoder.check_cache_dims()
    by_name = {s.name: s for s in inputs}
    out: dict[str, list[int]] = {}
    new, seq = shape.input_ids_len, shape.seq_len
    for name in (decoder.input_ids, decoder.positions):
        if name is not None:
            out[name] = _with(by_name[name], {0: batch, 1: new})
    if decoder.attention_mask is not None:
        out[decoder.attention_mask] = _with(by_name[decoder.attention_mask], {0: batch, 1: seq})
    for c in decoder.caches:
        fixed = {axis: d for axis, d in enumerate(c.shape) if isinstance(d, int)}
        out[c.past] = _with(
            by_name[c.past], {**fixed, c.batch_axis: batch, c.seq_axis: shape.past_len}
        )
    for name in decoder.causal_masks:
        out[name] = _with(by_name[name], {0: batch, 2: new, 3: seq})
    branch = (decoder.use_cache_branch,) if decoder.use_cache_branch else ()
    for name in (*decoder.others, *branch):
        spec = by_name[name]
        dims = _with(spec, {0: batch} if len(spec.shape) > 1 else {}, strict=False)
        if any(d < 0 for d in dims):
            raise UsageError(
                f"the KV-cache model's input {name!r} {spec.describe()} has no known role; give "
                "every shape with -shapes and --disable-kv-cache-overrides"
            )
        out[name] = dims
    return out


def _with(spec: InputSpec, values: dict[int, int], *, strict: bool = True) -> list[int]:
    """``spec``'s dims with ``values`` placed by axis; a free dim left is -1 (or, ``strict``,
    a UsageError naming the input)."""
    dims = []
    for axis, d in enumerate(spec.shape):
        if axis in values:
            dims.append(values[axis])
        elif isinstance(d, int):
            dims.append(d)
        elif strict:
            raise UsageError(
                f"the KV-cache input {spec.describe()} leaves dim {axis} free; give its shape "
                "with -shapes and --disable-kv-cache-overrides"
            )
        else:
            dims.append(-1)
    return dims


def decoder_values(
    decoder: Decoder, arrays: dict[str, npt.NDArray[Any]], past_len: int
) -> dict[str, npt.NDArray[Any]]:
    """``arrays`` with the values a decoder accepts at ``past_len`` cached tokens: positions
    counting on from the past length, a causal mask that is causal (token i of the new ones
    sees the past and the new tokens up to i), ``use_cache_branch`` true when there is a
    past. Token ids (below the embedding's rows) and masks of ones are the generator's."""
    import numpy as np

    out = dict(arrays)
    if decoder.positions is not None and decoder.positions in out:
        a = out[decoder.positions]
        count = a.shape[-1] if a.ndim else 1
        values = np.arange(past_len, past_len + count).astype(a.dtype)
        out[decoder.positions] = np.ascontiguousarray(np.broadcast_to(values, a.shape))
    for name in decoder.causal_masks:
        a = out[name]
        if a.ndim == 4:
            new, total = a.shape[2], a.shape[3]
            seen = np.arange(total)[None, :] <= (total - new + np.arange(new))[:, None]
            out[name] = np.ascontiguousarray(np.broadcast_to(seen.astype(a.dtype), a.shape))
    if decoder.use_cache_branch is not None and decoder.use_cache_branch in out:
        a = out[decoder.use_cache_branch]
        out[decoder.use_cache_branch] = np.full(a.shape, past_len > 0, dtype=a.dtype)
    return out


@dataclass(frozen=True)
class GenerationRequest:
    """The shape of one ``-s generate`` request: a prefill of ``prompt_tokens`` at
    ``depth`` cached tokens, then decode calls until ``new_tokens`` are generated (the prefill
    gives the first). ``prompt_tokens`` 0: decode only, from a fixed first token (llama-bench's
    tg); ``new_tokens`` 0: the prefill alone (pp).

    >>> r = GenerationRequest(prompt_tokens=128, new_tokens=32, depth=0, greedy=True, seed=0)
    >>> r.calls, r.max_length, r.past_length(0), r.past_length(1), r.new_length(0)
    (32, 159, 0, 128, 128)
    """

    prompt_tokens: int
    new_tokens: int
    depth: int
    greedy: bool  # the next token is the argmax of the logits; False: a fixed token
    seed: int  # of the prompt's token ids

    @property
    def prefill(self) -> bool:
        return self.prompt_tokens > 0

    @property
    def decode_calls(self) -> int:
        """Forward passes of one new token each."""
        return max(self.new_tokens - 1, 0) if self.prefill else self.new_tokens

    @property
    def calls(self) -> int:
        """Forward passes per request: the runner's unit."""
        return int(self.prefill) + self.decode_calls

    @property
    def max_length(self) -> int:
        """Tokens in the cache after the request's last call (its present outputs)."""
        return self.past_length(self.calls - 1) + self.new_length(self.calls - 1)

    def past_length(self, call: int) -> int:
        """Tokens in the cache when call ``call`` (0-based) of a request starts."""
        if not self.prefill:
            return self.depth + call
        return self.depth if call == 0 else self.depth + self.prompt_tokens + call - 1

    def new_length(self, call: int) -> int:
        """Tokens that call ``call`` feeds: the prompt, or one."""
        return self.prompt_tokens if self.prefill and call == 0 else 1
