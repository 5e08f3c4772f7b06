"""Small KV-cache decoders built with ``onnx.helper``: real attention over a cache that grows.

``make_kv_decoder(folder, ...)`` writes a decoder-only transformer of ``layers`` layers: token
and position embeddings, per layer a query/key/value projection, the new keys and values
appended to the past ones (``Concat`` on the sequence axis: the ``present`` outputs are one
longer per new token), scaled dot-product attention over them with the attention mask added as
a bias, an output projection and a residual; then the logits over the vocabulary. Nothing is
causal inside the new tokens (a benchmark needs the cost, not the text), but every length must
agree: ONNX Runtime fails unless the mask is ``past + new`` long, the position ids index the
position table only below ``max_positions``, and the token ids the embedding below ``vocab``.

Conventions (``convention=``):

``optimum``
    Hugging Face Optimum's and onnxruntime-genai's names: ``input_ids``, ``attention_mask``,
    ``position_ids``, ``past_key_values.N.key`` / ``.value`` in, ``logits`` and
    ``present.N.key`` / ``.value`` out; the cache ``[batch, kv_heads, past, head_dim]``.
``deepsparse``
    DeepSparse's exports (the names deepsparse.benchmark 1.8.0 accepts; it refuses
    ``position_ids``): as ``optimum`` but ``positions`` instead of ``position_ids``.
``past_key_value``
    ``past_key_N`` / ``past_value_N`` in, ``present_key_N`` / ``present_value_N`` out, and
    ``positions`` instead of ``position_ids``.

``causal_mask=True`` adds an input ``causal_mask`` int64 ``[batch, 1, sequence_length,
past_sequence_length + sequence_length]`` (1 = may attend), added to the scores as a bias like
the attention mask: DeepSparse's exports carry one.

The dims are named as Optimum names them (``batch_size``, ``sequence_length``,
``past_sequence_length``, ``past_sequence_length + sequence_length``); ``fixed`` gives every
dim but the batch a value (a model exported for one shape, as DeepSparse's are).

Cost: a decode step reads about ``4 * layers * hidden**2 + hidden * vocab`` weights (float32),
so ``hidden=512, layers=4, vocab=8192`` is about 33 MB a step: around a millisecond here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from onnx_factory import make_model, save_model

CONVENTIONS = ("optimum", "deepsparse", "past_key_value")


def _names(convention: str, layer: int) -> tuple[str, str, str, str]:
    """(past key, past value, present key, present value) of one layer."""
    if convention in ("optimum", "deepsparse"):
        return (
            f"past_key_values.{layer}.key",
            f"past_key_values.{layer}.value",
            f"present.{layer}.key",
            f"present.{layer}.value",
        )
    if convention == "past_key_value":
        return (f"past_key_{layer}", f"past_value_{layer}", f"present_key_{layer}",
                f"present_value_{layer}")  # fmt: skip
    raise ValueError(f"unknown convention {convention!r}")


def make_kv_decoder(
    folder: Path,
    *,
    convention: str = "optimum",
    layers: int = 2,
    heads: int = 2,
    head_dim: int = 8,
    vocab: int = 64,
    max_positions: int = 4096,
    fixed: dict[str, int] | None = None,
    name: str = "model.onnx",
    seed: int = 0,
    external_data: bool = False,
    causal_mask: bool = False,
) -> Path:
    """Writes the decoder described in the module docstring; returns its path.

    ``fixed``: dim values to fix instead of naming them (keys ``sequence_length``,
    ``past_sequence_length``): a model exported for one shape.
    """
    fixed = fixed or {}
    hidden = heads * head_dim
    rng = np.random.default_rng(seed)

    def weights(label: str, *shape: int) -> TensorProto:
        scale = 1.0 / np.sqrt(shape[0])
        data = (rng.standard_normal(shape) * scale).astype(np.float32)
        return numpy_helper.from_array(data, label)

    def dim(label: str) -> int | str:
        return fixed.get(label, label)

    seq, past = dim("sequence_length"), dim("past_sequence_length")
    if isinstance(seq, int) and isinstance(past, int):
        total: int | str = seq + past
    else:
        total = "past_sequence_length + sequence_length"
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}")
    positions = "position_ids" if convention == "optimum" else "positions"
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", seq]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_size", total]),
        helper.make_tensor_value_info(positions, TensorProto.INT64, ["batch_size", seq]),
    ]
    if causal_mask:
        inputs.append(
            helper.make_tensor_value_info(
                "causal_mask", TensorProto.INT64, ["batch_size", 1, seq, total]
            )
        )
    outputs = [
        helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", seq, vocab])
    ]
    init = [
        weights("embed_tokens", vocab, hidden),
        weights("embed_positions", max_positions, hidden),
        weights("lm_head", hidden, vocab),
        numpy_helper.from_array(np.array([0, 0, heads, head_dim], np.int64), "split_shape"),
        numpy_helper.from_array(np.array([0, 0, hidden], np.int64), "merge_shape"),
        numpy_helper.from_array(np.array([1, 2], np.int64), "mask_axes"),
        numpy_helper.from_array(np.array(1.0, np.float32), "one"),
        numpy_helper.from_array(np.array(-1e4, np.float32), "mask_min"),
        numpy_helper.from_array(np.array(1.0 / np.sqrt(head_dim), np.float32), "scale"),
    ]
    nodes = [
        helper.make_node("Gather", ["embed_tokens", "input_ids"], ["tok"]),
        helper.make_node("Gather", ["embed_positions", positions], ["pos"]),
        helper.make_node("Add", ["tok", "pos"], ["h0"]),
        # The mask as an additive bias [batch, 1, 1, total]: 0 where 1, -1e4 where 0.
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Sub", ["one", "mask_f"], ["mask_off"]),
        helper.make_node("Mul", ["mask_off", "mask_min"], ["mask_bias2"]),
        helper.make_node("Unsqueeze", ["mask_bias2", "mask_axes"], ["mask_bias"]),
    ]
    bias = "mask_bias"
    if causal_mask:  # [batch, 1, new, total] as a bias too, on top of the attention mask
        nodes += [
            helper.make_node("Cast", ["causal_mask"], ["causal_f"], to=TensorProto.FLOAT),
            helper.make_node("Sub", ["one", "causal_f"], ["causal_off"]),
            helper.make_node("Mul", ["causal_off", "mask_min"], ["causal_bias"]),
            helper.make_node("Add", ["mask_bias", "causal_bias"], ["bias"]),
        ]
        bias = "bias"
    cache = ["batch_size", heads, past, head_dim]
    present = ["batch_size", heads, total, head_dim]
    h = "h0"
    for n in range(layers):
        past_k, past_v, present_k, present_v = _names(convention, n)
        inputs += [
            helper.make_tensor_value_info(past_k, TensorProto.FLOAT, cache),
            helper.make_tensor_value_info(past_v, TensorProto.FLOAT, cache),
        ]
        outputs += [
            helper.make_tensor_value_info(present_k, TensorProto.FLOAT, present),
            helper.make_tensor_value_info(present_v, TensorProto.FLOAT, present),
        ]
        init += [weights(f"w{w}{n}", hidden, hidden) for w in "qkvo"]
        p = f"l{n}_"
        for w in "qkv":
            nodes += [
                helper.make_node("MatMul", [h, f"w{w}{n}"], [p + w + "_flat"]),
                helper.make_node("Reshape", [p + w + "_flat", "split_shape"], [p + w + "_heads"]),
                helper.make_node("Transpose", [p + w + "_heads"], [p + w], perm=[0, 2, 1, 3]),
            ]
        nodes += [
            helper.make_node("Concat", [past_k, p + "k"], [present_k], axis=2),
            helper.make_node("Concat", [past_v, p + "v"], [present_v], axis=2),
            helper.make_node("Transpose", [present_k], [p + "kt"], perm=[0, 1, 3, 2]),
            helper.make_node("MatMul", [p + "q", p + "kt"], [p + "scores_raw"]),
            helper.make_node("Mul", [p + "scores_raw", "scale"], [p + "scores_scaled"]),
            helper.make_node("Add", [p + "scores_scaled", bias], [p + "scores"]),
            helper.make_node("Softmax", [p + "scores"], [p + "probs"], axis=-1),
            helper.make_node("MatMul", [p + "probs", present_v], [p + "ctx_heads"]),
            helper.make_node("Transpose", [p + "ctx_heads"], [p + "ctx_t"], perm=[0, 2, 1, 3]),
            helper.make_node("Reshape", [p + "ctx_t", "merge_shape"], [p + "ctx"]),
            helper.make_node("MatMul", [p + "ctx", f"wo{n}"], [p + "attn"]),
            helper.make_node("Add", [h, p + "attn"], [p + "out"]),
        ]
        h = p + "out"
    nodes.append(helper.make_node("MatMul", [h, "lm_head"], ["logits"]))
    model = make_model(nodes, inputs, outputs, init, name="kv_decoder")
    return save_model(model, folder / name, external_data=external_data)


def cache_of(model_path: Path) -> list[tuple[str, str]]:
    """The (past input, present output) pairs of a decoder written here, in layer order."""
    model = onnx.load(str(model_path), load_external_data=False)
    pasts = [i.name for i in model.graph.input if i.name.startswith("past")]
    presents = [o.name for o in model.graph.output if o.name.startswith("present")]
    return list(zip(pasts, presents))
