"""The protobuf wire format as ONNX files use it: reading a message's fields in place, writing
a field, and mapping a file so that reading touches only the pages a decoder looks at.

Field numbers are those of ``onnx.proto`` (proto2: repeated scalars may come packed or not, and
both are read); the messages themselves are decoded in ``onnx_decode`` and rewritten in
``onnx_encode``. Example::

    >>> [f[:3] for f in fields(length_field(8, b"x") + tag(2, VARINT) + b"\\x07", 0, 5)]
    [(8, 2, 2), (2, 0, 7)]
"""

from __future__ import annotations

import mmap
import os
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

Dim = Union[int, str, None]  # as pinbench.model.input_spec.Dim: fixed, named free, anonymous free

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message (truncated, or a bad tag)."""


def read_varint(buf: mmap.mmap | bytes, pos: int, end: int) -> tuple[int, int]:
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


def signed(value: int) -> int:
    """An int64 from its varint (negative values are 10-byte two's complement)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


Field = tuple[int, int, int, int]  # (number, wire type, value or start of bytes, end of bytes)


def fields(buf: mmap.mmap | bytes, start: int, end: int) -> Iterator[Field]:
    """Every field of the message in buf[start:end]; a length-delimited field's value is its
    start, and its end is the fourth item (the end of the field for the other wire types)."""
    pos = start
    while pos < end:
        key, pos = read_varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == VARINT:
            value, pos = read_varint(buf, pos, end)
            yield number, wire, value, pos
        elif wire == LENGTH:
            length, pos = read_varint(buf, pos, end)
            stop = pos + length
            if stop > end:
                raise WireError("a field runs past the end of its message")
            yield number, wire, pos, stop
            pos = stop
        elif wire in (FIXED64, FIXED32):
            pos += 8 if wire == FIXED64 else 4
            if pos > end:
                raise WireError("truncated fixed-size field")
            yield number, wire, pos, pos
        else:
            raise WireError(f"unsupported wire type {wire}")


def read_text(buf: mmap.mmap | bytes, start: int, stop: int) -> str:
    return bytes(buf[start:stop]).decode("utf-8", "replace")


def read_int64s(buf: mmap.mmap | bytes, wire: int, value: int, stop: int) -> list[int]:
    """A repeated int64 field's values, packed or not."""
    if wire == VARINT:
        return [signed(value)]
    if wire != LENGTH:
        raise WireError("an int64 field with a fixed-size wire type")
    out, pos = [], value
    while pos < stop:
        v, pos = read_varint(buf, pos, stop)
        out.append(signed(v))
    return out


def encode_varint(value: int) -> bytes:
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


def tag(number: int, wire: int) -> bytes:
    return encode_varint(number << 3 | wire)


def length_field(number: int, body: bytes) -> bytes:
    return tag(number, LENGTH) + encode_varint(len(body)) + body


class MappedFile:
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

    def __enter__(self) -> MappedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
