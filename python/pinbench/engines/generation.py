"""``-s generate`` on ONNX Runtime: a stream's step runs a KV-cache decoder's requests, one
forward pass per call (the runner's unit is a whole request: ``GenerationRequest.calls``).

Call 0 of a request is the prefill (the prompt's tokens at ``depth`` cached tokens), each later
call a decode step of one token; every call's ``present.*`` outputs become the next call's
``past_key_values.*`` inputs without passing through numpy: each cache input has two flat
buffers of the request's longest length, allocated once per stream, and a call reads its past
from one and writes its present into the other (ONNX Runtime I/O binding on raw pointers, with
the shape of that call), then the two swap. A tensor of shape ``[batch, heads, length, dim]``
is the first ``batch * heads * length * dim`` elements of its buffer, so a shorter one is a
prefix and no call moves the cache. The attention mask (ones), positions, token ids and the
logits are bound the same way; the next token is the argmax of the last logits, written in
place (``--tokens greedy``), or the first prompt token again (``fixed``).

What a call does beyond ONNX Runtime's own run: one ``bind_input`` / ``bind_output`` per
input and output (Python calls into ONNX Runtime's binding, about a microsecond each), a
position written, and with greedy tokens an argmax over the vocabulary. The shapes, pointers
and views of every call of a request are computed once, in ``__init__``.

``check_request()`` runs one whole request with outputs that ONNX Runtime allocates itself and
feeds each present back as the next past, recording the cache length it returned at each call:
proof, from the engine's own outputs, that the cache grows by the tokens fed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..base.errors import RunError, UsageError

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..model.decoder import Cache, Decoder, GenerationRequest

# (input or output name, numpy dtype, shape, buffer address) of one binding of one call.
Binding = tuple[str, Any, tuple[int, ...], int]


def check_decoder(decoder: Decoder | None, model: str) -> Decoder:
    """``decoder`` when -s generate can run it; UsageError naming what is missing."""
    if decoder is None:
        raise UsageError(
            f"-s generate runs KV-cache decoders, and {model} has no cache input (named "
            "past_key_values.N.key/value, past_key_N/past_value_N or past.N)"
        )
    missing = [c.past for c in decoder.caches if not c.present]
    if missing:
        raise UsageError(
            f"-s generate feeds each present output back as its past input, and {model} has "
            f"no present output for {', '.join(missing[:3])}"
            + (f" (and {len(missing) - 3} more)" if len(missing) > 3 else "")
        )
    if decoder.input_ids is None:
        raise UsageError(f"-s generate needs a token-id input named input_ids; {model} has none")
    if decoder.logits is None:
        raise UsageError(f"-s generate needs a logits output beside the caches; {model} has none")
    decoder.check_cache_dims()
    return decoder


def _dims(cache: Cache, batch: int, length: int) -> tuple[int, ...]:
    return tuple(
        batch if axis == cache.batch_axis else length if axis == cache.seq_axis else int(d)  # type: ignore[arg-type]
        for axis, d in enumerate(cache.shape)
    )


class GenerationStep:
    """The step of one stream under ``-s generate`` (see the module docstring); not thread-safe:
    one per stream, called by that stream's thread only."""

    def __init__(
        self,
        session: Any,
        decoder: Decoder,
        request: GenerationRequest,
        batch: int,
        vocab: int | None,
    ) -> None:
        self.session = session
        self.decoder = decoder
        self.request = request
        self.batch = batch
        inputs = {i.name: i for i in session.get_inputs()}
        outputs = {o.name: o for o in session.get_outputs()}
        dtypes = {n: _numpy_type(i.type) for n, i in {**inputs, **outputs}.items()}
        logits_dims = outputs[decoder.logits].shape if decoder.logits else []
        self.vocab = logits_dims[-1] if logits_dims and isinstance(logits_dims[-1], int) else None
        self.token_bound = vocab or self.vocab or 2
        longest = request.max_length
        prompt = max(request.prompt_tokens, 1)
        rng = np.random.default_rng([request.seed, 7])
        ids_type = dtypes[decoder.input_ids] if decoder.input_ids else np.int64
        # Allocated once: nothing below allocates per call but the views' Python objects.
        self._prompt_ids = rng.integers(0, self.token_bound, (batch, prompt)).astype(ids_type)
        self._next_ids = np.ascontiguousarray(self._prompt_ids[:, :1])
        self._argmax = np.zeros(batch, dtype=np.intp)
        self._buffers: list[np.ndarray] = []
        self._calls: list[list[Binding]] = []
        self._outputs: list[list[Binding]] = []
        self._logits_views: list[npt.NDArray[Any] | None] = []
        self._positions_decode: npt.NDArray[Any] | None = None
        self._position_of_call: list[int] = []
        self._plan(inputs, outputs, dtypes, longest, prompt)
        self.binding = session.io_binding()
        self.call = 0

    def _buffer(self, count: int, dtype: Any, fill: float | None = None) -> np.ndarray:
        a = np.zeros(count, dtype=dtype) if fill is None else np.full(count, fill, dtype=dtype)
        self._buffers.append(a)
        return a

    def _plan(
        self,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        dtypes: dict[str, Any],
        longest: int,
        prompt: int,
    ) -> None:
        d, r, b = self.decoder, self.request, self.batch
        pairs: list[tuple[Cache, tuple[np.ndarray, np.ndarray]]] = []
        for c in d.caches:
            size = int(np.prod(_dims(c, b, longest)))
            dtype = dtypes[c.past]
            pairs.append((c, (self._buffer(size, dtype), self._buffer(size, dtype))))
        mask = self._buffer(b * longest, dtypes.get(d.attention_mask or "", np.int64), 1)
        vocab = self.vocab
        logits = self._buffer(b * prompt * vocab, dtypes[d.logits or ""]) if vocab else None
        positions_prefill = None
        if d.positions is not None:
            dtype = dtypes[d.positions]
            start = r.past_length(0)
            row = np.arange(start, start + prompt, dtype=dtype)
            positions_prefill = np.ascontiguousarray(np.broadcast_to(row, (b, prompt)))
            self._positions_decode = np.zeros((b, 1), dtype=dtype)
            self._buffers += [positions_prefill, self._positions_decode]
        branch = None
        if d.use_cache_branch is not None:
            branch = self._buffer(1, dtypes[d.use_cache_branch], 1)
        causal_prefill = causal_decode = None
        if d.causal_masks:
            dtype = dtypes[d.causal_masks[0]]
            past0 = r.past_length(0)
            seen = np.arange(past0 + prompt)[None, :] <= (past0 + np.arange(prompt))[:, None]
            causal_prefill = np.ascontiguousarray(
                np.broadcast_to(seen.astype(dtype), (b, 1, prompt, past0 + prompt))
            )
            causal_decode = self._buffer(b * (longest + 1), dtype, 1)
            self._buffers.append(causal_prefill)
        for k in range(r.calls):
            past, new = r.past_length(k), r.new_length(k)
            prefill = r.prefill and k == 0
            src, dst = (0, 1) if k % 2 == 0 else (1, 0)
            ins: list[Binding] = []
            outs: list[Binding] = []
            ids = self._prompt_ids if prefill else self._next_ids
            ins.append((d.input_ids or "", ids.dtype, (b, new), ids.ctypes.data))
            if d.attention_mask is not None:
                ins.append((d.attention_mask, mask.dtype, (b, past + new), mask.ctypes.data))
            if d.positions is not None:
                assert positions_prefill is not None and self._positions_decode is not None
                pos = positions_prefill if prefill else self._positions_decode
                ins.append((d.positions, pos.dtype, (b, new), pos.ctypes.data))
            for name in d.causal_masks:
                assert causal_prefill is not None and causal_decode is not None
                cm = causal_prefill if prefill else causal_decode
                ins.append((name, cm.dtype, (b, 1, new, past + new), cm.ctypes.data))
            if branch is not None:
                ins.append((d.use_cache_branch or "", branch.dtype, (1,), branch.ctypes.data))
            for c, both in pairs:
                a_src, a_dst = both[src], both[dst]
                ins.append((c.past, a_src.dtype, _dims(c, b, past), a_src.ctypes.data))
                outs.append((c.present, a_dst.dtype, _dims(c, b, past + new), a_dst.ctypes.data))
            view = None
            if logits is not None:
                shape = (b, new, vocab or 0)
                outs.append((d.logits or "", logits.dtype, shape, logits.ctypes.data))
                view = logits[: int(np.prod(shape))].reshape(shape)[:, -1, :]
            self._calls.append(ins)
            self._outputs.append(outs)
            self._logits_views.append(view)
            self._position_of_call.append(past)
        self._branch = branch
        self._logits_free = logits is None

    def __call__(self) -> None:
        k = self.call
        binding = self.binding
        if k == 0 and not self.request.prefill:  # decode only: every request from one token
            self._next_ids[:, 0] = self._prompt_ids[:, 0]
        if self._positions_decode is not None and not (self.request.prefill and k == 0):
            self._positions_decode.fill(self._position_of_call[k])
        if self._branch is not None:
            self._branch[0] = self._position_of_call[k] > 0
        for name, dtype, shape, ptr in self._calls[k]:
            binding.bind_input(name, "cpu", 0, dtype, shape, ptr)
        for name, dtype, shape, ptr in self._outputs[k]:
            binding.bind_output(name, "cpu", 0, dtype, shape, ptr)
        if self._logits_free:
            binding.bind_output(self.decoder.logits)
        self.session.run_with_iobinding(binding)
        if self.request.greedy:
            view = self._logits_views[k]
            if view is None:  # the vocabulary is a free dim: ONNX Runtime allocated the logits
                view = binding.get_outputs()[-1].numpy()[:, -1, :]
            np.argmax(view, axis=-1, out=self._argmax)
            np.minimum(self._argmax, self.token_bound - 1, out=self._argmax)
            self._next_ids[:, 0] = self._argmax
        self.call = k + 1 if k + 1 < self.request.calls else 0

    def check_request(self) -> list[int]:
        """Runs one request with outputs ONNX Runtime allocates, each present fed back as the
        next past; returns the cache length of the presents at each call. RunError when a
        present is not one call's tokens longer than its past."""
        d, r, b = self.decoder, self.request, self.batch
        feeds: dict[str, Any] = {}
        lengths = []
        for c in d.caches:
            feeds[c.past] = np.zeros(_dims(c, b, r.past_length(0)), dtype=c.dtype or np.float32)
        for k in range(r.calls):
            past, new = r.past_length(k), r.new_length(k)
            for name, _, shape, _ in self._calls[k]:
                if any(name == c.past for c in d.caches):
                    continue
                feeds[name] = self._array(name, shape, k)
            names = [c.present for c in d.caches]
            got = self.session.run(names, feeds)
            for c, value in zip(d.caches, got):
                length = int(value.shape[c.seq_axis])
                if length != past + new:
                    raise RunError(
                        f"-s generate: call {k} fed {new} token(s) after {past} cached, and the "
                        f"model's {c.present} holds {length}, not {past + new}: its present "
                        f"output does not extend {c.past}"
                    )
                feeds[c.past] = value
            lengths.append(past + new)
        return lengths

    def _array(self, name: str, shape: tuple[int, ...], k: int) -> npt.NDArray[Any]:
        """The value call ``k`` binds to ``name``, as an array of its own (check_request)."""
        d, r = self.decoder, self.request
        prefill = r.prefill and k == 0
        if name == d.input_ids:
            return (self._prompt_ids if prefill else self._next_ids).copy()
        if name == d.positions:
            start = self._position_of_call[k]
            dtype = self._positions_decode.dtype if self._positions_decode is not None else np.int64
            row = np.arange(start, start + shape[1], dtype=dtype)
            return np.ascontiguousarray(np.broadcast_to(row, shape))
        if name == d.use_cache_branch:
            return np.full(shape, self._position_of_call[k] > 0, dtype=np.bool_)
        if name in d.causal_masks:
            new, total = shape[2], shape[3]
            seen = np.arange(total)[None, :] <= (total - new + np.arange(new))[:, None]
            cm = next(c for n, c, *_ in self._calls[k] if n == name)
            return np.ascontiguousarray(np.broadcast_to(seen.astype(cm), shape))
        dtype = next(t for n, t, *_ in self._calls[k] if n == name)
        return np.ones(shape, dtype=dtype)  # the attention mask


_ORT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(uint8)": np.uint8,
    "tensor(int8)": np.int8,
}


def _numpy_type(ort_type: str) -> Any:
    try:
        return _ORT_TYPES[ort_type]
    except KeyError:
        raise UsageError(f"-s generate cannot bind a tensor of type {ort_type}") from None
