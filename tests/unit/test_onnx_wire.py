"""The protobuf wire reader and writer (model/onnx_decode.py, model/onnx_encode.py), checked
against the onnx package's own parser on real and generated models; and the memory a model load
leaves behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from pinbench.model.graph import external_locations
from pinbench.model.load import load_model
from pinbench.model.onnx_decode import decode_model, read_model_info
from pinbench.model.onnx_encode import SKELETON_BYTES, write_with_shapes
from pinbench.model.onnx_wire import Dim, WireError
from pinbench.model.resolve import BUILTIN_MODELS, builtin_model_path

import onnx_factory

PYTHON_DIR = Path(__file__).resolve().parents[2] / "python"


def generated(folder: Path) -> list[Path]:
    return [
        onnx_factory.make_dynamic_model(folder / "dynamic"),
        onnx_factory.make_conv_model(folder / "conv_ext", external_data=True, batch="N"),
        onnx_factory.make_transformer_model(folder / "bert", position_ids=True, cast_ids=True),
        onnx_factory.make_decoder_model(folder / "decoder"),
        onnx_factory.make_all_dtypes_model(folder / "dtypes"),
    ]


def onnx_dims(value_info: onnx.ValueInfoProto) -> tuple[Dim, ...] | None:
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return None
    out: list[Dim] = []
    for d in t.shape.dim:
        which = d.WhichOneof("value")
        out.append(
            int(d.dim_value)
            if which == "dim_value"
            else (d.dim_param or None)
            if which == "dim_param"
            else None
        )
    return tuple(out)


def assert_same_as_onnx(path: Path) -> None:
    proto = onnx.load(str(path), load_external_data=False)
    info = read_model_info(path)
    assert info.ir_version == proto.ir_version
    assert info.opsets == tuple((o.domain, o.version) for o in proto.opset_import)
    g = info.graph
    assert g is not None
    for mine, theirs in [(g.inputs, proto.graph.input), (g.outputs, proto.graph.output)]:
        assert [v.name for v in mine] == [v.name for v in theirs]
        for v, p in zip(mine, theirs):
            assert v.kind == ("tensor" if p.type.HasField("tensor_type") else v.kind)
            if v.kind == "tensor":
                assert v.elem_type == p.type.tensor_type.elem_type
                assert v.dims == onnx_dims(p)
    assert [(t.name, t.dims) for t in g.initializers] == [
        (t.name, tuple(t.dims)) for t in proto.graph.initializer
    ]
    assert [(n.op_type, n.inputs, n.outputs) for n in g.nodes] == [
        (n.op_type, tuple(n.input), tuple(n.output)) for n in proto.graph.node
    ]
    for n, p in zip(g.nodes, proto.graph.node):
        assert [a.name for a in n.attributes] == [a.name for a in p.attribute]
        for a, pa in zip(n.attributes, p.attribute):
            if pa.type == onnx.AttributeProto.INT:
                assert a.i == pa.i
            if pa.type == onnx.AttributeProto.TENSOR:
                assert a.t is not None and a.t.dims == tuple(pa.t.dims)
    expected = {
        e.value
        for t in proto.graph.initializer
        if t.data_location == TensorProto.EXTERNAL
        for e in t.external_data
        if e.key == "location"
    }
    assert set(external_locations(info)) == expected


@pytest.mark.parametrize("name", sorted(BUILTIN_MODELS))
def test_builtin_models_read_as_onnx_reads_them(name: str) -> None:
    path = builtin_model_path(name)
    assert path is not None
    assert_same_as_onnx(path)


def test_generated_models_read_as_onnx_reads_them(tmp_path: Path) -> None:
    for path in generated(tmp_path):
        assert_same_as_onnx(path)


def test_negative_ints_packed_dims_and_nested_external_data(tmp_path: Path) -> None:
    # An If whose branch holds a Constant with external data, an axis of -1, and dims packed
    # (proto2 writers may pack repeated int64s; onnx's does not).
    branch_value = numpy_helper.from_array(np.ones((3, 2), np.float32), "c")
    branch_value.data_location = TensorProto.EXTERNAL
    entry = branch_value.external_data.add()
    entry.key, entry.value = "location", "branch.bin"
    branch_value.ClearField("raw_data")
    branch = helper.make_graph(
        [helper.make_node("Constant", [], ["k"], value=branch_value)],
        "branch",
        [],
        [helper.make_tensor_value_info("k", TensorProto.FLOAT, [3, 2])],
    )
    nodes = [
        helper.make_node("If", ["cond"], ["k"], then_branch=branch, else_branch=branch),
        helper.make_node("Concat", ["k", "k"], ["y"], axis=-1),
    ]
    model = onnx_factory.make_model(
        nodes,
        [helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])],
        check=False,
    )
    data = model.SerializeToString()
    info = decode_model(data)
    assert info.graph is not None
    assert info.graph.nodes[1].attributes[0].i == -1
    assert external_locations(info) == ["branch.bin"]
    # A tensor of dims [5, 300] written packed: tag 1 (length-delimited), then the varints.
    packed = bytes([0x0A, 3, 5, 0xAC, 0x02]) + bytes([0x42, 1]) + b"w"
    tensor = onnx.TensorProto.FromString(packed)
    assert list(tensor.dims) == [5, 300]  # onnx reads it so too
    graph = helper.make_graph([], "g", [], [helper.make_tensor_value_info("w", 1, [5, 300])])
    graph.initializer.append(tensor)
    info = decode_model(
        onnx_factory.make_model([], [], graph.output, [tensor], check=False).SerializeToString()
    )
    assert info.graph is not None and info.graph.initializers[0].dims == (5, 300)


@pytest.mark.parametrize(
    "data",
    [b"\x00\x01", b"\x08", b"\x3a\x10abc", b"\x0b\x00", bytes(range(256))],
    ids=["field-0", "truncated-varint", "past-the-end", "group", "garbage"],
)
def test_malformed_bytes_raise_wire_error(data: bytes) -> None:
    with pytest.raises(WireError):
        decode_model(data)


def expected_copy(
    path: Path, inputs: dict[str, tuple[Dim, ...]], outputs: dict[str, tuple[Dim, ...]]
) -> onnx.ModelProto:
    """What the copy must hold, made with the onnx package."""
    proto = onnx.load(str(path), load_external_data=False)
    changes = [(v, inputs.get(v.name)) for v in proto.graph.input]
    changes += [(v, outputs.get(v.name)) for v in proto.graph.output]
    for value_info, shape in changes:
        if shape is None:
            continue
        dims = value_info.type.tensor_type.shape
        old = list(dims.dim)
        del dims.dim[:]
        for i, d in enumerate(shape):
            dim = dims.dim.add()
            if isinstance(d, int):
                dim.dim_value = d
            elif isinstance(d, str):
                dim.dim_param = d
            if i < len(old) and old[i].denotation:
                dim.denotation = old[i].denotation
    proto.graph.ClearField("value_info")
    return proto


def test_copy_with_new_shapes_matches_onnx(tmp_path: Path) -> None:
    squeezenet = builtin_model_path("squeezenet")
    assert squeezenet is not None
    cases = [
        (squeezenet, {"data_0": (4, 3, 224, 224)}, {"softmaxout_1": ("batch", None, None, None)}),
        (generated(tmp_path)[0], {"x": (2, "seq", 4), "z": (3, 5)}, {"z_out": ("batch", None)}),
    ]
    for source, inputs, outputs in cases:
        before = source.read_bytes()
        copy = tmp_path / f"copy_{source.name}"
        write_with_shapes(source, copy, inputs, outputs)
        assert source.read_bytes() == before  # the source is only read
        assert onnx.load(str(copy)) == expected_copy(source, inputs, outputs)
        onnx.checker.check_model(str(copy))


def test_copy_runs_on_onnxruntime_with_the_new_batch(tmp_path: Path) -> None:
    with load_model("squeezenet", batch_size=3) as model:
        assert model.overridden
        session = ort.InferenceSession(str(model.path), providers=["CPUExecutionProvider"])
        x = np.random.default_rng(0).random((3, 3, 224, 224), dtype=np.float32)
        (out,) = session.run(None, {"data_0": x})
        assert out.shape[0] == 3


def test_skeleton_keeps_the_weights_dims_not_their_data(tmp_path: Path) -> None:
    """The file -shapes' inference check reads: big initializers as name, type and dims only
    (none of their bytes), small ones whole, the new input shape in place."""
    big = numpy_helper.from_array(np.ones((256, 256), np.float32), "w")
    small = numpy_helper.from_array(np.array([1, 256], np.int64), "shape")
    model = onnx_factory.make_model(
        [
            helper.make_node("MatMul", ["x", "w"], ["h"]),
            helper.make_node("Reshape", ["h", "shape"], ["y"]),
        ],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 256])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 256])],
        [big, small],
    )
    source = onnx_factory.save_model(model, tmp_path / "m.onnx")
    skeleton = tmp_path / "skeleton.onnx"
    write_with_shapes(source, skeleton, {"x": (2, 256)}, {}, skeleton=True)
    assert skeleton.stat().st_size < SKELETON_BYTES < big.ByteSize()
    got = onnx.load(str(skeleton))
    by_name = {t.name: t for t in got.graph.initializer}
    assert list(by_name["w"].dims) == [256, 256] and by_name["w"].data_type == TensorProto.FLOAT
    assert not by_name["w"].raw_data and not by_name["w"].float_data
    assert by_name["shape"] == small
    assert [d.dim_value for d in got.graph.input[0].type.tensor_type.shape.dim] == [2, 256]
    onnx.shape_inference.infer_shapes(got, strict_mode=True)
    clash = tmp_path / "clash.onnx"  # x [2,128] @ w [256,256]: inference reads w's dims
    write_with_shapes(source, clash, {"x": (2, 128)}, {}, skeleton=True)
    with pytest.raises(onnx.shape_inference.InferenceError, match="Incompatible dimensions"):
        onnx.shape_inference.infer_shapes(onnx.load(str(clash)), strict_mode=True)


def test_loading_keeps_nothing_of_the_weights(tmp_path: Path) -> None:
    """A model of 64 MB of weights: its load, with and without a copy for -b, leaves the peak
    RSS of the process well under the weights' size."""
    weights = numpy_helper.from_array(np.ones((4096, 4096), np.float32), "w")
    model = onnx_factory.make_model(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4096])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4096])],
        [weights],
    )
    path = onnx_factory.save_model(model, tmp_path / "fat.onnx")
    del model, weights
    code = textwrap.dedent(
        f"""
        import json, resource, sys
        from pinbench.model.load import load_model
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with load_model({str(path)!r}) as m:
            pass
        with load_model({str(path)!r}, batch_size=2) as m:
            copied = m.path.stat().st_size
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"kib": after - before, "copied": copied,
                           "onnx": "onnx" in sys.modules}}))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout.strip().splitlines()[-1])
    assert reply["copied"] > 64 * 2**20  # the copy holds the weights...
    assert reply["kib"] < 8 * 1024, reply  # ...but this process never held them
    assert reply["onnx"] is False
