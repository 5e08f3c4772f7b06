"""The few fields of an ONNX file that pinbench needs, read from the protobuf wire format.

``read_model_info(path)`` maps the file (``mmap``) and decodes only what a benchmark reads: the
IR version and opsets; the graph's inputs and outputs; the names and dims of initializers and of
``Constant`` tensors; each node's op type, inputs, outputs and attributes; the external data
locations of every tensor, nested graphs and functions included. Tensor payloads (``raw_data``,
``float_data``, ...) are skipped by their length prefix without being read, so the model's
weights never enter Python's memory (only the pages holding the structure are touched), and the
``onnx`` package, whose import alone costs about a second, is not needed.

``write_with_shapes(source, dest, ...)`` writes a copy whose graph inputs and outputs carry new
shapes and whose ``value_info`` is dropped: every other byte is copied from the source file by the
kernel (``copy_file_range``) or in 1 MiB chunks, never held whole.

Field numbers are those of ``onnx.proto`` (proto2: repeated scalars may come packed or not, and
both are read). Example::

    >>> info = read_model_info(builtin_model_path("squeezenet"))  # doctest: +SKIP
    >>> info.graph.inputs[0].name, info.graph.inputs[0].dims  # doctest: +SKIP
    ('data_0', (1, 3, 224, 224))
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

Dim = Union[int, str, None]  # as pinbench.model.spec.Dim: fixed, named free, anonymous free

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5
_CHUNK = 1 << 20  # bytes per read when the kernel cannot copy a range itself


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message (truncated, or a bad tag)."""


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


# ---------------------------------------------------------------------------------------------
# Decoding


def _varint(buf: mmap.mmap | bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise WireError("truncated or overlong varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _signed(value: int) -> int:
    """An int64 from its varint (negative values are 10-byte two's complement)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


Field = tuple[int, int, int, int]  # (number, wire type, value or start of bytes, end of bytes)


def _fields(buf: mmap.mmap | bytes, start: int, end: int) -> Iterator[Field]:
    """Every field of the message in buf[start:end]; a length-delimited field's value is its
    start, and its end is the fourth item (the end of the field for the other wire types)."""
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == _VARINT:
            value, pos = _varint(buf, pos, end)
            yield number, wire, value, pos
        elif wire == _LENGTH:
            length, pos = _varint(buf, pos, end)
            stop = pos + length
            if stop > end:
                raise WireError("a field runs past the end of its message")
            yield number, wire, pos, stop
            pos = stop
        elif wire in (_FIXED64, _FIXED32):
            pos += 8 if wire == _FIXED64 else 4
            if pos > end:
                raise WireError("truncated fixed-size field")
            yield number, wire, pos, pos
        else:
            raise WireError(f"unsupported wire type {wire}")


def _text(buf: mmap.mmap | bytes, start: int, stop: int) -> str:
    return bytes(buf[start:stop]).decode("utf-8", "replace")


def _ints(buf: mmap.mmap | bytes, wire: int, value: int, stop: int) -> list[int]:
    """A repeated int64 field's values, packed or not."""
    if wire == _VARINT:
        return [_signed(value)]
    if wire != _LENGTH:
        raise WireError("an int64 field with a fixed-size wire type")
    out, pos = [], value
    while pos < stop:
        v, pos = _varint(buf, pos, stop)
        out.append(_signed(v))
    return out


def _entry(buf: mmap.mmap | bytes, start: int, stop: int) -> tuple[str, str]:
    key = value = ""
    for number, wire, v, end in _fields(buf, start, stop):
        if wire == _LENGTH and number in (1, 2):
            if number == 1:
                key = _text(buf, v, end)
            else:
                value = _text(buf, v, end)
    return key, value


def _tensor(buf: mmap.mmap | bytes, start: int, stop: int) -> TensorInfo:
    name, dims, external, location, data_type = "", [], False, None, 0
    for number, wire, v, end in _fields(buf, start, stop):
        if number == 1:
            dims.extend(_ints(buf, wire, v, end))
        elif number == 2 and wire == _VARINT:
            data_type = v
        elif number == 8 and wire == _LENGTH:
            name = _text(buf, v, end)
        elif number == 14 and wire == _VARINT:
            external = v == 1  # DataLocation.EXTERNAL
        elif number == 13 and wire == _LENGTH:
            key, value = _entry(buf, v, end)
            if key == "location" and value:
                location = value
        # 9 (raw_data) and the typed data fields are skipped by their length, unread.
    return TensorInfo(name, tuple(dims), external, location, data_type)


def _sparse(buf: mmap.mmap | bytes, start: int, stop: int) -> tuple[TensorInfo, ...]:
    return tuple(
        _tensor(buf, v, end)
        for number, wire, v, end in _fields(buf, start, stop)
        if number in (1, 2) and wire == _LENGTH
    )


def _dims(buf: mmap.mmap | bytes, start: int, stop: int) -> tuple[Dim, ...]:
    dims: list[Dim] = []
    for number, wire, v, end in _fields(buf, start, stop):
        if number != 1 or wire != _LENGTH:
            continue
        dim: Dim = None
        for n, w, dv, dend in _fields(buf, v, end):
            if n == 1 and w == _VARINT:
                value = _signed(dv)
                dim = value if value >= 0 else None
            elif n == 2 and w == _LENGTH:
                text = _text(buf, dv, dend)
                dim = text or None
        dims.append(dim)
    return tuple(dims)


_TYPE_KINDS = {1: "tensor", 4: "sequence", 5: "map", 7: "opaque", 8: "sparse_tensor", 9: "optional"}


def _value_info(buf: mmap.mmap | bytes, start: int, stop: int) -> ValueInfo:
    name, kind, elem_type, dims = "", "", 0, None
    for number, wire, v, end in _fields(buf, start, stop):
        if number == 1 and wire == _LENGTH:
            name = _text(buf, v, end)
        elif number == 2 and wire == _LENGTH:
            for tn, tw, tv, tend in _fields(buf, v, end):
                if tn not in _TYPE_KINDS or tw != _LENGTH:
                    continue
                kind = _TYPE_KINDS[tn]
                if tn != 1:
                    continue
                elem_type, dims = 0, None
                for n, w, fv, fend in _fields(buf, tv, tend):
                    if n == 1 and w == _VARINT:
                        elem_type = int(fv)
                    elif n == 2 and w == _LENGTH:
                        dims = _dims(buf, fv, fend)
    return ValueInfo(name, kind, elem_type, dims if kind == "tensor" else None)


def _attribute(buf: mmap.mmap | bytes, start: int, stop: int) -> AttributeInfo:
    name, i, t = "", None, None
    tensors: list[TensorInfo] = []
    graphs: list[GraphInfo] = []
    for number, wire, v, end in _fields(buf, start, stop):
        if number == 1 and wire == _LENGTH:
            name = _text(buf, v, end)
        elif number == 3 and wire == _VARINT:
            i = _signed(v)
        elif number == 5 and wire == _LENGTH:
            t = _tensor(buf, v, end)
        elif number == 10 and wire == _LENGTH:
            tensors.append(_tensor(buf, v, end))
        elif number in (22, 23) and wire == _LENGTH:  # sparse_tensor(s)
            tensors.extend(_sparse(buf, v, end))
        elif number in (6, 11) and wire == _LENGTH:  # g, graphs
            graphs.append(_graph(buf, v, end))
    return AttributeInfo(name, i, t, tuple(tensors), tuple(graphs))


def _node(buf: mmap.mmap | bytes, start: int, stop: int) -> NodeInfo:
    op_type = ""
    inputs: list[str] = []
    outputs: list[str] = []
    attributes: list[AttributeInfo] = []
    for number, wire, v, end in _fields(buf, start, stop):
        if wire != _LENGTH:
            continue
        if number == 1:
            inputs.append(_text(buf, v, end))
        elif number == 2:
            outputs.append(_text(buf, v, end))
        elif number == 4:
            op_type = _text(buf, v, end)
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
    for number, wire, v, end in _fields(buf, start, stop):
        if wire != _LENGTH:
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
        for number, wire, v, end in _fields(buf, start, stop)
        if number == 7 and wire == _LENGTH
    ]


def decode_model(buf: mmap.mmap | bytes) -> ModelInfo:
    """The ModelInfo of a serialized ModelProto; WireError when the bytes are malformed."""
    ir_version, graph = 0, None
    opsets: list[tuple[str, int]] = []
    functions: list[NodeInfo] = []
    for number, wire, v, end in _fields(buf, 0, len(buf)):
        if number == 1 and wire == _VARINT:
            ir_version = _signed(v)
        elif number == 7 and wire == _LENGTH:
            graph = _graph(buf, v, end)
        elif number == 8 and wire == _LENGTH:
            domain, version = "", 0
            for n, w, ov, oend in _fields(buf, v, end):
                if n == 1 and w == _LENGTH:
                    domain = _text(buf, ov, oend)
                elif n == 2 and w == _VARINT:
                    version = _signed(ov)
            opsets.append((domain, version))
        elif number == 25 and wire == _LENGTH:
            functions.extend(_function_nodes(buf, v, end))
    return ModelInfo(ir_version, tuple(opsets), graph, tuple(functions))


class _Mapped:
    """A read-only map of a whole file (``mm`` is None for an empty file)."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")  # closed by close()
        try:
            size = os.fstat(self._file.fileno()).st_size
            self.mm = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        except BaseException:
            self._file.close()
            raise

    def close(self) -> None:
        if self.mm is not None:
            self.mm.close()
        self._file.close()

    def __enter__(self) -> _Mapped:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_model_info(path: Path) -> ModelInfo:
    """The ModelInfo of the file at ``path``. OSError when it cannot be read, WireError when it
    is not a well-formed protobuf message."""
    with _Mapped(path) as mapped:
        return decode_model(mapped.mm if mapped.mm is not None else b"")


# ---------------------------------------------------------------------------------------------
# Encoding: a copy with new input and output shapes


def _encode_varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _tag(number: int, wire: int) -> bytes:
    return _encode_varint(number << 3 | wire)


def _length_field(number: int, body: bytes) -> bytes:
    return _tag(number, _LENGTH) + _encode_varint(len(body)) + body


def _encode_dims(
    buf: mmap.mmap | bytes, start: int, stop: int, dims: Sequence[Dim] | None
) -> bytes:
    """A TensorShapeProto holding ``dims``, each keeping the old dim's denotation when the old
    shape (``buf[start:stop]``, empty if none) had a dim at that place."""
    denotations: list[bytes] = []
    for number, wire, v, end in _fields(buf, start, stop):
        if number == 1 and wire == _LENGTH:
            kept = b"".join(
                bytes(buf[dv:dend])
                for n, w, dv, dend in _fields(buf, v, end)
                if n == 3 and w == _LENGTH
            )
            denotations.append(_length_field(3, kept) if kept else b"")
    out = bytearray()
    for i, dim in enumerate(dims or ()):
        body = b""
        if isinstance(dim, int):
            body = _tag(1, _VARINT) + _encode_varint(dim)
        elif isinstance(dim, str):
            body = _length_field(2, dim.encode())
        if i < len(denotations):
            body += denotations[i]
        out += _length_field(1, body)
    return bytes(out)


def _copy_fields_except(
    buf: mmap.mmap | bytes, start: int, stop: int, number_to_replace: int, replacement: bytes
) -> bytes:
    """The message buf[start:stop] with its field ``number_to_replace`` (length-delimited)
    replaced by ``replacement`` (appended if the message had none)."""
    out = bytearray()
    replaced = False
    pos = start
    for number, wire, _, end in _fields(buf, start, stop):
        if number == number_to_replace and wire == _LENGTH:
            if not replaced:
                out += replacement
                replaced = True
        else:
            out += bytes(buf[pos:end])
        pos = end
    if not replaced:
        out += replacement
    return bytes(out)


def _encode_value_info(buf: mmap.mmap | bytes, start: int, stop: int, dims: Sequence[Dim]) -> bytes:
    """The ValueInfoProto buf[start:stop] with its tensor shape set to ``dims``."""

    def tensor_type(ts: int, te: int) -> bytes:
        old = next(
            ((v, end) for n, w, v, end in _fields(buf, ts, te) if n == 2 and w == _LENGTH),
            (0, 0),
        )
        shape = _encode_dims(buf, old[0], old[1], dims)
        return _copy_fields_except(buf, ts, te, 2, _length_field(2, shape))

    def type_proto(ps: int, pe: int) -> bytes:
        old = next(
            ((v, end) for n, w, v, end in _fields(buf, ps, pe) if n == 1 and w == _LENGTH),
            None,
        )
        if old is None:
            return bytes(buf[ps:pe])  # not a tensor: left alone
        return _copy_fields_except(buf, ps, pe, 1, _length_field(1, tensor_type(*old)))

    old_type = next(
        ((v, end) for n, w, v, end in _fields(buf, start, stop) if n == 2 and w == _LENGTH),
        None,
    )
    if old_type is None:
        return bytes(buf[start:stop])
    return _copy_fields_except(buf, start, stop, 2, _length_field(2, type_proto(*old_type)))


Piece = Union[bytes, tuple[int, int]]  # literal bytes, or a (start, stop) range of the source


def _name_of(buf: mmap.mmap | bytes, start: int, stop: int) -> str:
    for number, wire, v, end in _fields(buf, start, stop):
        if number == 1 and wire == _LENGTH:
            return _text(buf, v, end)
    return ""


# Skeletons keep initializers up to this size whole (shape-like values are read by inference).
SKELETON_BYTES = 1024
_SKELETON_FIELDS = (1, 2, 8)  # TensorProto dims, data_type, name


def _skeleton_tensor(buf: mmap.mmap | bytes, start: int, stop: int) -> bytes:
    """The TensorProto buf[start:stop] as its dims, data type and name: no data, no reference to
    external data."""
    out = bytearray()
    pos = start
    for number, _, _, end in _fields(buf, start, stop):
        if number in _SKELETON_FIELDS:
            out += bytes(buf[pos:end])
        pos = end
    return bytes(out)


def _graph_pieces(
    buf: mmap.mmap | bytes,
    start: int,
    stop: int,
    inputs: Mapping[str, Sequence[Dim]],
    outputs: Mapping[str, Sequence[Dim]],
    skeleton: bool = False,
) -> list[Piece]:
    pieces: list[Piece] = []
    pos = start
    for number, wire, v, end in _fields(buf, start, stop):
        shapes = inputs if number == 11 else outputs if number == 12 else None
        name = _name_of(buf, v, end) if shapes is not None and wire == _LENGTH else None
        if number == 13 and wire == _LENGTH:
            pass  # value_info: shapes inferred from the old inputs would now conflict
        elif skeleton and number == 5 and wire == _LENGTH and end - v > SKELETON_BYTES:
            pieces.append(_length_field(5, _skeleton_tensor(buf, v, end)))
        elif shapes is not None and name is not None and name in shapes:
            body = _encode_value_info(buf, v, end, shapes[name])
            pieces.append(_length_field(number, body))
        else:
            pieces.append((pos, end))
        pos = end
    return pieces


def _size(piece: Piece) -> int:
    return len(piece) if isinstance(piece, bytes) else piece[1] - piece[0]


def write_with_shapes(
    source: Path,
    dest: Path,
    inputs: Mapping[str, Sequence[Dim]],
    outputs: Mapping[str, Sequence[Dim]],
    *,
    skeleton: bool = False,
) -> None:
    """Writes ``source`` to ``dest`` with the named graph inputs and outputs given new shapes
    and the graph's ``value_info`` dropped; the rest is copied byte for byte, unread by Python.
    ``skeleton``: the main graph's initializers of more than ``SKELETON_BYTES`` keep only their
    dims, type and name (a file for shape inference, a fraction of the model's size).

    OSError when a file cannot be read or written, WireError when ``source`` is malformed.
    """
    with _Mapped(source) as mapped:
        buf = mapped.mm if mapped.mm is not None else b""
        pieces: list[Piece] = []
        pos = 0
        for number, wire, v, end in _fields(buf, 0, len(buf)):
            if number == 7 and wire == _LENGTH:
                graph = _graph_pieces(buf, v, end, inputs, outputs, skeleton)
                size = sum(_size(p) for p in graph)
                pieces.append(_tag(7, _LENGTH) + _encode_varint(size))
                pieces.extend(graph)
            else:
                pieces.append((pos, end))
            pos = end
        with source.open("rb") as src, dest.open("wb", buffering=0) as dst:
            for piece in _merged(pieces):
                if isinstance(piece, bytes):
                    _write_all(dst.fileno(), piece)
                else:
                    _copy_range(src.fileno(), dst.fileno(), *piece)


def _merged(pieces: list[Piece]) -> Iterator[Piece]:
    """Adjacent source ranges joined into one, so that the copy makes few system calls."""
    run: tuple[int, int] | None = None
    for piece in pieces:
        if isinstance(piece, tuple) and run is not None and run[1] == piece[0]:
            run = (run[0], piece[1])
            continue
        if run is not None:
            yield run
            run = None
        if isinstance(piece, tuple):
            run = piece
        else:
            yield piece
    if run is not None:
        yield run


def _copy_range(src: int, dst: int, start: int, stop: int) -> None:
    """Appends src[start:stop] to dst (at its current offset): in the kernel where it can, else
    through a 1 MiB buffer."""
    offset = start
    copy_file_range = getattr(os, "copy_file_range", None)
    if copy_file_range is not None:
        try:
            while offset < stop:
                done = copy_file_range(src, dst, stop - offset, offset)
                if done <= 0:
                    break
                offset += done
        except OSError:
            pass  # across file systems on some kernels, or not supported: copy it ourselves
    while offset < stop:
        chunk = os.pread(src, min(_CHUNK, stop - offset), offset)
        if not chunk:
            raise OSError(f"unexpected end of file at byte {offset}")
        _write_all(dst, chunk)
        offset += len(chunk)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
