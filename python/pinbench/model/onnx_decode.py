"""The few fields of an ONNX file that pinbench needs, decoded from the protobuf wire format.

``read_model_info(path)`` maps the file (``mmap``) and decodes only what a benchmark reads: the
IR version and opsets; the graph's inputs and outputs; the names and dims of initializers and of
``Constant`` tensors; each node's op type, inputs, outputs and attributes; the external data
locations of every tensor, nested graphs and functions included. Tensor payloads (``raw_data``,
``float_data``, ...) are skipped by their length prefix without being read, so the model's
weights never enter Python's memory (only the pages holding the structure are touched), and the
``onnx`` package, whose import alone costs about a second, is not needed. Example::

    >>> info = read_model_info(builtin_model_path("squeezenet"))  # doctest: +SKIP
    >>> info.graph.inputs[0].name, info.graph.inputs[0].dims  # doctest: +SKIP
    ('data_0', (1, 3, 224, 224))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .onnx_wire import LENGTH, VARINT, Dim, MappedFile, fields, read_int64s, read_text, signed

if TYPE_CHECKING:
    import mmap
    from pathlib import Path


@dataclass(frozen=True)
class ValueInfo:
    """A graph input or output: its name, type and shape (``dims`` None: no shape given)."""

    name: str
    kind: str  # "tensor", another TypeProto kind ("sequence", "map", ...), or "" if untyped
    elem_type: int = 0  # TensorProto.DataType of a tensor; 0 otherwise
    dims: tuple[Dim, ...] | None = None


@dataclass(frozen=True)
class TensorInfo:
    """A tensor's name and dims, and where its data lives; never its data."""

    name: str
    dims: tuple[int, ...]
    external: bool = False  # data_location == EXTERNAL
    location: str | None = None  # the external_data "location" entry
    data_type: int = 0  # TensorProto.DataType; 0 = not given


@dataclass(frozen=True)
class AttributeInfo:
    name: str
    i: int | None = None  # the INT value
    t: TensorInfo | None = None  # the TENSOR value (dims only)
    tensors: tuple[TensorInfo, ...] = ()  # TENSORS, and the two tensors of sparse values
    graphs: tuple[GraphInfo, ...] = ()  # GRAPH and GRAPHS


@dataclass(frozen=True)
class NodeInfo:
    op_type: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attributes: tuple[AttributeInfo, ...] = ()


@dataclass(frozen=True)
class GraphInfo:
    nodes: tuple[NodeInfo, ...]
    initializers: tuple[TensorInfo, ...]
    sparse_initializers: tuple[TensorInfo, ...]  # values then indices of each, in order
    sparse_names: tuple[str, ...]  # the names of the sparse initializers (their values' names)
    inputs: tuple[ValueInfo, ...]
    outputs: tuple[ValueInfo, ...]


@dataclass(frozen=True)
class ModelInfo:
    ir_version: int
    opsets: tuple[tuple[str, int], ...]  # (domain, version) of each opset_import
    graph: GraphInfo | None
    function_nodes: tuple[NodeInfo, ...] = ()  # the nodes of every local function


def _entry(buf: mmap.mmap | bytes, start: int, stop: int) -> tuple[str, str]:
    key = value = ""
    for number, wire, v, end in fields(buf, start, stop):
        if wire == LENGTH and number in (1, 2):
            if number == 1:
                key = read_text(buf, v, end)
            else:
                value = read_text(buf, v, end)
    return key, value


def _tensor(buf: mmap.mmap | bytes, start: int, stop: int) -> TensorInfo:
    name, dims, external, location, data_type = "", [], False, None, 0
    for number, wire, v, end in fields(buf, start, stop):
        if number == 1:
            dims.extend(read_int64s(buf, wire, v, end))
        elif number == 2 and wire == VARINT:
            data_type = v
        elif number == 8 and wire == LENGTH:
            name = read_text(buf, v, end)
        elif number == 14 and wire == VARINT:
            external = v == 1  # DataLocation.EXTERNAL
        elif number == 13 and wire == LENGTH:
            key, value = _entry(buf, v, end)
            if key == "location" and value:
                location = value
        # 9 (raw_data) and the typed data fields are skipped by their length, unread.
    return TensorInfo(name, tuple(dims), external, location, data_type)


def _sparse(buf: mmap.mmap | bytes, start: int, stop: int) -> tuple[TensorInfo, ...]:
    return tuple(
        _tensor(buf, v, end)
        for number, wire, v, end in fields(buf, start, stop)
        if number in (1, 2) and wire == LENGTH
    )


def _dims(buf: mmap.mmap | bytes, start: int, stop: int) -> tuple[Dim, ...]:
    dims: list[Dim] = []
    for number, wire, v, end in fields(buf, start, stop):
        if number != 1 or wire != LENGTH:
            continue
        dim: Dim = None
        for n, w, dv, dend in fields(buf, v, end):
            if n == 1 and w == VARINT:
                value = signed(dv)
                dim = value if value >= 0 else None
            elif n == 2 and w == LENGTH:
                text = read_text(buf, dv, dend)
                dim = text or None
        dims.append(dim)
    return tuple(dims)


_TYPE_KINDS = {1: "tensor", 4: "sequence", 5: "map", 7: "opaque", 8: "sparse_tensor", 9: "optional"}


def _value_info(buf: mmap.mmap | bytes, start: int, stop: int) -> ValueInfo:
    name, kind, elem_type, dims = "", "", 0, None
    for number, wire, v, end in fields(buf, start, stop):
        if number == 1 and wire == LENGTH:
            name = read_text(buf, v, end)
        elif number == 2 and wire == LENGTH:
            for tn, tw, tv, tend in fields(buf, v, end):
                if tn not in _TYPE_KINDS or tw != LENGTH:
                    continue
                kind = _TYPE_KINDS[tn]
                if tn != 1:
                    continue
                elem_type, dims = 0, None
                for n, w, fv, fend in fields(buf, tv, tend):
                    if n == 1 and w == VARINT:
                        elem_type = int(fv)
                    elif n == 2 and w == LENGTH:
                        dims = _dims(buf, fv, fend)
    return ValueInfo(name, kind, elem_type, dims if kind == "tensor" else None)


def _attribute(buf: mmap.mmap | bytes, start: int, stop: int) -> AttributeInfo:
    name, i, t = "", None, None
    tensors: list[TensorInfo] = []
    graphs: list[GraphInfo] = []
    for number, wire, v, end in fields(buf, start, stop):
        if number == 1 and wire == LENGTH:
            name = read_text(buf, v, end)
        elif number == 3 and wire == VARINT:
            i = signed(v)
        elif number == 5 and wire == LENGTH:
            t = _tensor(buf, v, end)
        elif number == 10 and wire == LENGTH:
            tensors.append(_tensor(buf, v, end))
        elif number in (22, 23) and wire == LENGTH:  # sparse_tensor(s)
            tensors.extend(_sparse(buf, v, end))
        elif number in (6, 11) and wire == LENGTH:  # g, graphs
            graphs.append(_graph(buf, v, end))
    return AttributeInfo(name, i, t, tuple(tensors), tuple(graphs))


def _node(buf: mmap.mmap | bytes, start: int, stop: int) -> NodeInfo:
    op_type = ""
    inputs: list[str] = []
    outputs: list[str] = []
    attributes: list[AttributeInfo] = []
    for number, wire, v, end in fields(buf, start, stop):
        if wire != LENGTH:
            continue
        if number == 1:
            inputs.append(read_text(buf, v, end))
        elif number == 2:
            outputs.append(read_text(buf, v, end))
        elif number == 4:
            op_type = read_text(buf, v, end)
        elif number == 5:
            attributes.append(_attribute(buf, v, end))
    return NodeInfo(op_type, tuple(inputs), tuple(outputs), tuple(attributes))


def _graph(buf: mmap.mmap | bytes, start: int, stop: int) -> GraphInfo:
    nodes: list[NodeInfo] = []
    inits: list[TensorInfo] = []
    sparse: list[TensorInfo] = []
    sparse_names: list[str] = []
    inputs: list[ValueInfo] = []
    outputs: list[ValueInfo] = []
    for number, wire, v, end in fields(buf, start, stop):
        if wire != LENGTH:
            continue
        if number == 1:
            nodes.append(_node(buf, v, end))
        elif number == 5:
            inits.append(_tensor(buf, v, end))
        elif number == 15:
            pair = _sparse(buf, v, end)
            sparse.extend(pair)
            sparse_names.append(pair[0].name if pair else "")
        elif number == 11:
            inputs.append(_value_info(buf, v, end))
        elif number == 12:
            outputs.append(_value_info(buf, v, end))
    return GraphInfo(
        tuple(nodes),
        tuple(inits),
        tuple(sparse),
        tuple(sparse_names),
        tuple(inputs),
        tuple(outputs),
    )


def _function_nodes(buf: mmap.mmap | bytes, start: int, stop: int) -> list[NodeInfo]:
    return [
        _node(buf, v, end)
        for number, wire, v, end in fields(buf, start, stop)
        if number == 7 and wire == LENGTH
    ]


def decode_model(buf: mmap.mmap | bytes) -> ModelInfo:
    """The ModelInfo of a serialized ModelProto; WireError when the bytes are malformed."""
    ir_version, graph = 0, None
    opsets: list[tuple[str, int]] = []
    functions: list[NodeInfo] = []
    for number, wire, v, end in fields(buf, 0, len(buf)):
        if number == 1 and wire == VARINT:
            ir_version = signed(v)
        elif number == 7 and wire == LENGTH:
            graph = _graph(buf, v, end)
        elif number == 8 and wire == LENGTH:
            domain, version = "", 0
            for n, w, ov, oend in fields(buf, v, end):
                if n == 1 and w == LENGTH:
                    domain = read_text(buf, ov, oend)
                elif n == 2 and w == VARINT:
                    version = signed(ov)
            opsets.append((domain, version))
        elif number == 25 and wire == LENGTH:
            functions.extend(_function_nodes(buf, v, end))
    return ModelInfo(ir_version, tuple(opsets), graph, tuple(functions))


def read_model_info(path: Path) -> ModelInfo:
    """The ModelInfo of the file at ``path``. OSError when it cannot be read, WireError when it
    is not a well-formed protobuf message."""
    with MappedFile(path) as mapped:
        return decode_model(mapped.mm if mapped.mm is not None else b"")
