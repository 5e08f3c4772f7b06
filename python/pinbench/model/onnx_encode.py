"""A copy of an ONNX file with new input and output shapes, written without reading its weights.

``write_with_shapes(source, dest, ...)`` writes a copy whose graph inputs and outputs carry new
shapes and whose ``value_info`` is dropped: every other byte is copied from the source file by the
kernel (``copy_file_range``) or in 1 MiB chunks, never held whole. Example::

    >>> write_with_shapes(model, copy, {"input": [8, 3, 224, 224]}, {})  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Union

from .onnx_wire import (
    LENGTH,
    VARINT,
    Dim,
    MappedFile,
    encode_varint,
    fields,
    length_field,
    read_text,
    tag,
)

if TYPE_CHECKING:
    import mmap
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

_CHUNK = 1 << 20  # bytes per read when the kernel cannot copy a range itself


def _encode_dims(
    buf: mmap.mmap | bytes, start: int, stop: int, dims: Sequence[Dim] | None
) -> bytes:
    """A TensorShapeProto holding ``dims``, each keeping the old dim's denotation when the old
    shape (``buf[start:stop]``, empty if none) had a dim at that place."""
    denotations: list[bytes] = []
    for number, wire, v, end in fields(buf, start, stop):
        if number == 1 and wire == LENGTH:
            kept = b"".join(
                bytes(buf[dv:dend])
                for n, w, dv, dend in fields(buf, v, end)
                if n == 3 and w == LENGTH
            )
            denotations.append(length_field(3, kept) if kept else b"")
    out = bytearray()
    for i, dim in enumerate(dims or ()):
        body = b""
        if isinstance(dim, int):
            body = tag(1, VARINT) + encode_varint(dim)
        elif isinstance(dim, str):
            body = length_field(2, dim.encode())
        if i < len(denotations):
            body += denotations[i]
        out += length_field(1, body)
    return bytes(out)


def _copy_fields_except(
    buf: mmap.mmap | bytes, start: int, stop: int, number_to_replace: int, replacement: bytes
) -> bytes:
    """The message buf[start:stop] with its field ``number_to_replace`` (length-delimited)
    replaced by ``replacement`` (appended if the message had none)."""
    out = bytearray()
    replaced = False
    pos = start
    for number, wire, _, end in fields(buf, start, stop):
        if number == number_to_replace and wire == LENGTH:
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
            ((v, end) for n, w, v, end in fields(buf, ts, te) if n == 2 and w == LENGTH),
            (0, 0),
        )
        shape = _encode_dims(buf, old[0], old[1], dims)
        return _copy_fields_except(buf, ts, te, 2, length_field(2, shape))

    def type_proto(ps: int, pe: int) -> bytes:
        old = next(
            ((v, end) for n, w, v, end in fields(buf, ps, pe) if n == 1 and w == LENGTH),
            None,
        )
        if old is None:
            return bytes(buf[ps:pe])  # not a tensor: left alone
        return _copy_fields_except(buf, ps, pe, 1, length_field(1, tensor_type(*old)))

    old_type = next(
        ((v, end) for n, w, v, end in fields(buf, start, stop) if n == 2 and w == LENGTH),
        None,
    )
    if old_type is None:
        return bytes(buf[start:stop])
    return _copy_fields_except(buf, start, stop, 2, length_field(2, type_proto(*old_type)))


Piece = Union[bytes, tuple[int, int]]  # literal bytes, or a (start, stop) range of the source


def _name_of(buf: mmap.mmap | bytes, start: int, stop: int) -> str:
    for number, wire, v, end in fields(buf, start, stop):
        if number == 1 and wire == LENGTH:
            return read_text(buf, v, end)
    return ""


# Skeletons keep initializers up to this size whole (shape-like values are read by inference).
SKELETON_BYTES = 1024
_SKELETON_FIELDS = (1, 2, 8)  # TensorProto dims, data_type, name


def _skeleton_tensor(buf: mmap.mmap | bytes, start: int, stop: int) -> bytes:
    """The TensorProto buf[start:stop] as its dims, data type and name: no data, no reference to
    external data."""
    out = bytearray()
    pos = start
    for number, _, _, end in fields(buf, start, stop):
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
    for number, wire, v, end in fields(buf, start, stop):
        shapes = inputs if number == 11 else outputs if number == 12 else None
        name = _name_of(buf, v, end) if shapes is not None and wire == LENGTH else None
        if number == 13 and wire == LENGTH:
            pass  # value_info: shapes inferred from the old inputs would now conflict
        elif skeleton and number == 5 and wire == LENGTH and end - v > SKELETON_BYTES:
            pieces.append(length_field(5, _skeleton_tensor(buf, v, end)))
        elif shapes is not None and name is not None and name in shapes:
            body = _encode_value_info(buf, v, end, shapes[name])
            pieces.append(length_field(number, body))
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
    with MappedFile(source) as mapped:
        buf = mapped.mm if mapped.mm is not None else b""
        pieces: list[Piece] = []
        pos = 0
        for number, wire, v, end in fields(buf, 0, len(buf)):
            if number == 7 and wire == LENGTH:
                graph = _graph_pieces(buf, v, end, inputs, outputs, skeleton)
                size = sum(_size(p) for p in graph)
                pieces.append(tag(7, LENGTH) + encode_varint(size))
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
