"""Small ONNX models for tests, built with ``onnx.helper`` into a folder the test owns.

Every ``make_*`` builder takes the folder first (pytest's ``tmp_path``), writes one model there
and returns the path of the ``.onnx`` file. The models use opset 13 and IR version 8, so every
``onnx >= 1.14`` and ``onnxruntime >= 1.16`` loads them, and all of them run on ONNX Runtime's
CPU provider with inputs of the declared shapes.

Builders
--------
``make_identity_model(folder, inputs)``
    Each ``(name, elem_type, shape)`` input goes through Identity to output ``<name>_out``.
``make_all_dtypes_model(folder)``
    One input per type in ``RUNNABLE_DTYPES`` (``x_float32``, ``x_int64``, ``x_string``, ...).
``make_dynamic_model(folder)``
    ``x`` and ``y``: float32[batch, seq, 4] (shared dim names), ``z``: float32[?, 5] (anonymous).
``make_conv_model(folder, external_data=False)``
    ``image``: float32[1, 3, 16, 16] -> Conv -> Relu -> GlobalAveragePool -> ``logits`` [1, 4];
    the weights can live in ``<name>.data`` beside the model (``external_data=True``).
``make_transformer_model(folder)``
    BERT-like embeddings: ``input_ids``, ``attention_mask``, ``token_type_ids`` (and optionally
    ``position_ids``), int64[batch, sequence]; the ids index an embedding table of
    ``vocab_size`` rows (optionally through a Cast); outputs ``hidden`` and ``pooled``.
``make_matmul_model(folder, size=512, layers=8)``
    ``x``: float32[size, size] through ``layers`` MatMuls by seeded weights: about
    ``2 * size**3 * layers`` flops, milliseconds on any CPU, all of it inside ONNX Runtime.
``make_decoder_model(folder)``
    A KV-cache step: ``input_ids`` [batch, sequence_length], ``past_key`` float32[batch, 2,
    past_sequence_length, 4], ``attention_mask`` [batch, past_sequence_length +
    sequence_length]; ONNX Runtime fails unless the mask length is past + sequence.

Helpers: ``save_model`` (optionally with external data), ``make_model`` (a graph to a
ModelProto with this module's opset and IR version), ``populate_hf_cache`` (lay files out as
``huggingface_hub``'s cache does, so ``hf_hub_download`` finds them offline).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Union

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = [
    "ALL_DTYPES",
    "IR_VERSION",
    "OPSET",
    "RUNNABLE_DTYPES",
    "Shape",
    "make_all_dtypes_model",
    "make_conv_model",
    "make_decoder_model",
    "make_dynamic_model",
    "make_identity_model",
    "make_matmul_model",
    "make_model",
    "make_transformer_model",
    "populate_hf_cache",
    "save_model",
]

OPSET = 13
IR_VERSION = 8

Shape = Sequence[Union[int, str, None]]
"""A shape as ``helper.make_tensor_value_info`` takes it: int, dim name, or None (anonymous)."""

# ONNX element type -> the numpy dtype pinbench generates for it (None: none exists).
ALL_DTYPES: dict[int, str | None] = {
    TensorProto.FLOAT: "float32",
    TensorProto.DOUBLE: "float64",
    TensorProto.FLOAT16: "float16",
    TensorProto.BFLOAT16: None,
    TensorProto.INT8: "int8",
    TensorProto.INT16: "int16",
    TensorProto.INT32: "int32",
    TensorProto.INT64: "int64",
    TensorProto.UINT8: "uint8",
    TensorProto.UINT16: "uint16",
    TensorProto.UINT32: "uint32",
    TensorProto.UINT64: "uint64",
    TensorProto.BOOL: "bool",
    TensorProto.STRING: "object",
}
# The types that ONNX Runtime takes as numpy inputs (every one above but bfloat16).
RUNNABLE_DTYPES: dict[int, str] = {k: v for k, v in ALL_DTYPES.items() if v is not None}


def make_model(
    nodes: Sequence[onnx.NodeProto],
    inputs: Sequence[onnx.ValueInfoProto],
    outputs: Sequence[onnx.ValueInfoProto],
    initializers: Sequence[onnx.TensorProto] = (),
    *,
    name: str = "pinbench_test",
    check: bool = True,
) -> onnx.ModelProto:
    """A ModelProto with opset ``OPSET`` and IR version ``IR_VERSION``, checked by the ONNX
    checker unless ``check`` is False (for graphs the checker refuses, e.g. inputs of unknown
    rank, which real exporters still write)."""
    graph = helper.make_graph(list(nodes), name, list(inputs), list(outputs), list(initializers))
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="onnx_factory"
    )
    model.ir_version = IR_VERSION
    if check:
        onnx.checker.check_model(model)
    return model


def save_model(model: onnx.ModelProto, path: Path, *, external_data: bool = False) -> Path:
    """Write ``model`` to ``path``; with ``external_data`` every initializer goes to
    ``<file name>.data`` beside it. Returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if external_data:
        onnx.save_model(
            model,
            str(path),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=path.name + ".data",
            size_threshold=0,
        )
    else:
        onnx.save_model(model, str(path))
    return path


def make_identity_model(
    folder: Path,
    inputs: Sequence[tuple[str, int, Shape]],
    *,
    name: str = "model.onnx",
) -> Path:
    """Each ``(name, elem_type, shape)`` input is passed through Identity to ``<name>_out``."""
    values = [helper.make_tensor_value_info(n, t, list(s)) for n, t, s in inputs]
    outputs = [helper.make_tensor_value_info(f"{n}_out", t, list(s)) for n, t, s in inputs]
    nodes = [helper.make_node("Identity", [n], [f"{n}_out"]) for n, _, _ in inputs]
    return save_model(make_model(nodes, values, outputs), folder / name)


def make_all_dtypes_model(
    folder: Path,
    *,
    shape: Shape = (2, 3),
    dtypes: Mapping[int, str] = RUNNABLE_DTYPES,
    name: str = "model.onnx",
) -> Path:
    """One input ``x_<numpy name>`` per element type in ``dtypes`` (``x_object`` is a string)."""
    inputs = [(f"x_{numpy_name}", elem, shape) for elem, numpy_name in dtypes.items()]
    return make_identity_model(folder, inputs, name=name)


def make_dynamic_model(folder: Path, *, name: str = "model.onnx") -> Path:
    """``x``, ``y``: float32[batch, seq, 4] -> ``sum``; ``z``: float32[?, 5] -> ``z_out``."""
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", 4]),
        helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", 4]),
        helper.make_tensor_value_info("z", TensorProto.FLOAT, [None, 5]),
    ]
    outputs = [
        helper.make_tensor_value_info("sum", TensorProto.FLOAT, ["batch", "seq", 4]),
        helper.make_tensor_value_info("z_out", TensorProto.FLOAT, [None, 5]),
    ]
    nodes = [
        helper.make_node("Add", ["x", "y"], ["sum"]),
        helper.make_node("Identity", ["z"], ["z_out"]),
    ]
    return save_model(make_model(nodes, inputs, outputs), folder / name)


def _weights(name: str, shape: Sequence[int], seed: int) -> onnx.TensorProto:
    values = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return numpy_helper.from_array(values, name)


def make_conv_model(
    folder: Path,
    *,
    batch: int | str | None = 1,
    size: int | str | None = 16,
    external_data: bool = False,
    name: str = "model.onnx",
) -> Path:
    """``image`` float32[batch, 3, size, size] -> Conv(4, 3x3) -> Relu -> GlobalAveragePool ->
    Flatten -> ``logits`` [batch, 4]. Works for any batch and size >= 1."""
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, 3, size, size])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 4])]
    initializers = [_weights("conv_w", [4, 3, 3, 3], 1), _weights("conv_b", [4], 2)]
    nodes = [
        helper.make_node("Conv", ["image", "conv_w", "conv_b"], ["conv"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["logits"]),
    ]
    model = make_model(nodes, inputs, outputs, initializers)
    return save_model(model, folder / name, external_data=external_data)


def make_matmul_model(
    folder: Path, *, size: int = 512, layers: int = 8, name: str = "model.onnx"
) -> Path:
    """``x`` float32[size, size] -> ``layers`` MatMuls by seeded weights -> ``y``."""
    rng = np.random.default_rng(0)  # scaled so the values stay finite through the layers
    weights = [
        numpy_helper.from_array(
            (rng.standard_normal((size, size)) / np.sqrt(size)).astype(np.float32), f"w{i}"
        )
        for i in range(layers)
    ]
    names = ["x", *(f"h{i}" for i in range(layers - 1)), "y"]
    nodes = [helper.make_node("MatMul", [names[i], f"w{i}"], [names[i + 1]]) for i in range(layers)]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [size, size])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [size, size])
    return save_model(make_model(nodes, [x], [y], weights), folder / name)


def _int64(name: str, values: Sequence[int]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)


def make_transformer_model(
    folder: Path,
    *,
    vocab_size: int = 30,
    hidden: int = 8,
    type_vocab_size: int = 2,
    max_positions: int = 512,
    position_ids: bool = False,
    cast_ids: bool = False,
    batch: int | str | None = "batch",
    sequence: int | str | None = "sequence",
    external_data: bool = False,
    name: str = "model.onnx",
) -> Path:
    """BERT-like embeddings; ONNX Runtime fails if an id reaches past its table.

    Inputs (int64[batch, sequence]): ``input_ids`` (Gather on ``word_embeddings``
    [vocab_size, hidden], through a Cast to int32 when ``cast_ids``), ``attention_mask``,
    ``token_type_ids`` (Gather on [type_vocab_size, hidden]), and ``position_ids`` (Gather on
    [max_positions, hidden]) when asked. Outputs: ``hidden`` float32[batch, sequence, hidden] and
    ``pooled`` float32[batch, hidden] (the mask-weighted sum over the sequence).
    """
    dims = [batch, sequence]
    names = ["input_ids", "attention_mask", "token_type_ids"]
    if position_ids:
        names.append("position_ids")
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, dims) for n in names]
    outputs = [
        helper.make_tensor_value_info("hidden", TensorProto.FLOAT, [batch, sequence, hidden]),
        helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [batch, hidden]),
    ]
    initializers = [
        _weights("word_embeddings", [vocab_size, hidden], 3),
        _weights("type_embeddings", [type_vocab_size, hidden], 4),
        _int64("axes_last", [-1]),
        _int64("axes_seq", [1]),
    ]
    nodes = []
    ids = "input_ids"
    if cast_ids:
        nodes.append(helper.make_node("Cast", ["input_ids"], ["ids32"], to=TensorProto.INT32))
        ids = "ids32"
    nodes += [
        helper.make_node("Gather", ["word_embeddings", ids], ["words"]),
        helper.make_node("Gather", ["type_embeddings", "token_type_ids"], ["types"]),
        helper.make_node("Add", ["words", "types"], ["embedded"]),
    ]
    last = "embedded"
    if position_ids:
        initializers.append(_weights("position_embeddings", [max_positions, hidden], 5))
        nodes += [
            helper.make_node("Gather", ["position_embeddings", "position_ids"], ["positions"]),
            helper.make_node("Add", ["embedded", "positions"], ["embedded_pos"]),
        ]
        last = "embedded_pos"
    nodes += [
        helper.make_node("Identity", [last], ["hidden"]),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_f", "axes_last"], ["mask_3d"]),
        helper.make_node("Mul", ["hidden", "mask_3d"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axes_seq"], ["pooled"], keepdims=0),
    ]
    model = make_model(nodes, inputs, outputs, initializers)
    return save_model(model, folder / name, external_data=external_data)


def make_decoder_model(folder: Path, *, vocab_size: int = 50, name: str = "model.onnx") -> Path:
    """One step of a decoder with a KV cache, as Hugging Face Optimum names its dims.

    ``input_ids`` int64[batch, sequence_length] -> embeddings [vocab_size, 8] reshaped to
    [batch, 2, sequence_length, 4] and appended to ``past_key`` float32[batch, 2,
    past_sequence_length, 4] -> ``present_key``; ``attention_mask`` int64[batch,
    past_sequence_length + sequence_length] scales it, so the lengths must agree.
    """
    total = "past_sequence_length + sequence_length"
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence_length"]),
        helper.make_tensor_value_info(
            "past_key", TensorProto.FLOAT, ["batch", 2, "past_sequence_length", 4]
        ),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", total]),
    ]
    outputs = [
        helper.make_tensor_value_info("present_key", TensorProto.FLOAT, ["batch", 2, total, 4])
    ]
    initializers = [
        _weights("embeddings", [vocab_size, 8], 6),
        _int64("split_heads", [0, 0, 2, 4]),
        _int64("mask_axes", [1, 3]),
    ]
    nodes = [
        helper.make_node("Gather", ["embeddings", "input_ids"], ["embedded"]),
        helper.make_node("Reshape", ["embedded", "split_heads"], ["heads"]),
        helper.make_node("Transpose", ["heads"], ["new_key"], perm=[0, 2, 1, 3]),
        helper.make_node("Concat", ["past_key", "new_key"], ["keys"], axis=2),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_f", "mask_axes"], ["mask_4d"]),
        helper.make_node("Mul", ["keys", "mask_4d"], ["present_key"]),
    ]
    return save_model(make_model(nodes, inputs, outputs, initializers), folder / name)


def populate_hf_cache(
    hf_home: Path,
    repo_id: str,
    files: Mapping[str, Path | bytes],
    *,
    commit: str = "0123456789abcdef0123456789abcdef01234567",
    revision: str = "main",
) -> Path:
    """Put ``files`` (path in the repo -> local file or bytes) into the Hugging Face cache under
    ``hf_home`` as ``huggingface_hub`` lays it out, so that with ``HF_HOME=hf_home`` and
    ``HF_HUB_OFFLINE=1`` ``hf_hub_download(repo_id, path)`` returns them. Returns the snapshot
    folder (``hub/models--org--repo/snapshots/<commit>``)."""
    storage = hf_home / "hub" / ("models--" + repo_id.replace("/", "--"))
    snapshot = storage / "snapshots" / commit
    (storage / "blobs").mkdir(parents=True, exist_ok=True)
    (storage / "refs").mkdir(parents=True, exist_ok=True)
    (storage / "refs" / revision).write_text(commit, encoding="ascii")
    for repo_path, content in files.items():
        data = content.read_bytes() if isinstance(content, Path) else content
        blob = storage / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snapshot / repo_path
        link.parent.mkdir(parents=True, exist_ok=True)
        relative = Path(*[".."] * (len(Path(repo_path).parts) + 1), "blobs", blob.name)
        try:
            link.symlink_to(relative)
        except OSError:
            shutil.copyfile(blob, link)
    return snapshot
