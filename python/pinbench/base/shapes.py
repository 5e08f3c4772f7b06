"""Parse and format the ``-shapes`` flag.

Two forms are accepted:

- positional, the original's form: ``"[1,3,224,224],[1,128]"``: one bracket per input, in the
  model's input order; a single bracket applies to every input (``deepsparse.benchmark``'s rule).
  An outer pair of brackets, ``"[[1,3,224,224],[1,128]]"``, is tolerated.
- by name: ``"x:[1,3,640,640],mask:[1,128]"``: inputs not named keep their shape.

Whitespace anywhere is ignored. Dims are positive integers; ``[]`` is the shape of a scalar input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Union

from .errors import UsageError

__all__ = ["ACCEPTED_FORMS", "ParsedShapes", "format_shape", "format_shapes", "parse_input_shapes"]

ParsedShapes = Union[list[list[int]], dict[str, list[int]]]

ACCEPTED_FORMS = (
    'accepted forms: "[1,3,224,224],[1,128]" (one per input, in order) '
    'or "x:[1,3,224,224],mask:[1,128]"'
)

# One entry: an optional `name:` then a bracket. The name is everything up to the last colon
# before the bracket, so input names holding '/', '.', or even ':' (e.g. "gpu_0/data_0") work.
_ENTRY = re.compile(r"\s*(?:(?P<name>[^\[\],]*?)\s*:)?\s*\[(?P<dims>[^\[\]]*)\]\s*")


MAX_DIM = 2**63 - 1  # ONNX dims are int64


def _fail(text: str, why: str) -> UsageError:
    return UsageError(f"-shapes {_quote(text)}: {why}; {ACCEPTED_FORMS}")


def _quote(text: str) -> str:
    return '"' + " ".join(text.split()) + '"'


def _parse_dims(text: str, dims: str) -> list[int]:
    body = "".join(dims.split())
    if not body:
        return []
    out: list[int] = []
    for token in body.split(","):
        if not token:
            raise _fail(text, "empty dim between commas")
        if not re.fullmatch(r"[+-]?\d+", token):
            raise _fail(text, f"dim {token!r} is not an integer")
        value = int(token)
        if value <= 0:
            raise _fail(text, f"dim {value} must be a positive integer")
        if value > MAX_DIM:
            raise _fail(text, f"dim {value} is beyond the largest ONNX dim (2**63 - 1)")
        out.append(value)
    return out


def _strip_outer_brackets(body: str) -> str:
    # "[[1,2],[3,4]]" -> "[1,2],[3,4]"; a lone "[1,2]" has no inner bracket and stays as is.
    if body.startswith("[[") and body.endswith("]]"):
        return body[1:-1].strip()
    return body


def parse_input_shapes(text: str) -> ParsedShapes:
    """Parse a ``-shapes`` value into per-input shapes, positional or by input name.

    Raises UsageError (one line, showing the accepted forms) on bad syntax, non-integer or
    non-positive dims, an empty value, a repeated name, or named and positional entries mixed.

    >>> parse_input_shapes("[1,3,224,224],[1,128]")
    [[1, 3, 224, 224], [1, 128]]
    >>> parse_input_shapes("x: [1, 3, 640, 640], mask:[1,128]")
    {'x': [1, 3, 640, 640], 'mask': [1, 128]}
    """
    body = _strip_outer_brackets(text.strip())
    if not body:
        raise _fail(text, "no shape given")
    names: list[str | None] = []
    shapes: list[list[int]] = []
    pos = 0
    while pos < len(body):
        match = _ENTRY.match(body, pos)
        if match is None or match.end() == pos:
            raise _fail(text, f"cannot read {body[pos:]!r}")
        name = match.group("name")
        names.append(name.strip() if name is not None else None)
        shapes.append(_parse_dims(text, match.group("dims")))
        pos = match.end()
        if pos < len(body):
            if body[pos] != ",":
                raise _fail(text, f"expected ',' before {body[pos:]!r}")
            pos += 1
            if pos == len(body):
                raise _fail(text, "trailing ','")
    named = [n for n in names if n is not None]
    if not named:
        return shapes
    if len(named) != len(names):
        raise _fail(text, "mix of named and positional shapes; name every input or none")
    if "" in named:
        raise _fail(text, "empty input name before ':'")
    by_name: dict[str, list[int]] = {}
    for name, shape in zip(named, shapes):
        if name in by_name:
            raise _fail(text, f"input {name!r} is given twice")
        by_name[name] = shape
    return by_name


def format_shape(shape: Sequence[int | str | None]) -> str:
    """Format one shape as the flag writes it: ints as is, named dims by name, unknown as '?'.

    >>> format_shape([1, "seq", None])
    '[1,seq,?]'
    """
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def format_shapes(shapes: Sequence[Sequence[int]] | Mapping[str, Sequence[int]]) -> str:
    """Format shapes in the form ``parse_input_shapes`` reads back (without the quotes).

    >>> format_shapes([[1, 3, 224, 224], [1, 128]])
    '[1,3,224,224],[1,128]'
    >>> format_shapes({"x": [1, 3], "mask": [1, 128]})
    'x:[1,3],mask:[1,128]'
    """
    if isinstance(shapes, Mapping):
        return ",".join(f"{name}:{format_shape(shape)}" for name, shape in shapes.items())
    return ",".join(format_shape(shape) for shape in shapes)
