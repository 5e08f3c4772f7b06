"""Shapes for a model's inputs: every free dim gets a documented value.

Free dims
---------
A dim the model leaves free gets one value per name (inputs sharing a dim name agree), chosen
from the name first, then from the dim's place:

=========================  =====================================  ===================
dim                        recognised by                          value
=========================  =====================================  ===================
batch                      dim 0 of any input; names with         ``batch_size`` (-b)
                           ``batch``, or ``N``, ``B``, ``bs``
sequence                   names with ``seq``, ``sequence``,      ``seq_len``, else
                           ``length``, ``len``, ``tokens``,       128
                           ``ctx``, ``context``; an unnamed last
                           dim of an integer input (token ids)
past_sequence              names with ``past``, ``cache``         0
total sequence             names with ``total``, and sums such    computed: past +
                           as ``past_sequence_length + 1``        sequence, ...
height, width              names with ``height``, ``width``,      224
                           ``h``, ``w``, ``image_size``; free
                           spatial dims of a 4-D input
channels                   names with ``channel(s)``, ``c``,      3
                           ``ch``; a free dim 1 of a 4-D input
anything else (``other``)  —                                      128
=========================  =====================================  ===================

Why these: 1 (the original's choice for every free dim) is rejected by many models: detectors
need multiples of 32, voice-activity models need whole frames, attention needs a real sequence.
128 is a multiple of 32 and 64, a common sequence length, and small enough to stay cheap.
A past (KV cache) length of 0 runs a decoder as its first call (prefill with an empty cache),
the one past length every decoder accepts; dims written as sums (``past_sequence_length +
sequence_length``, as Hugging Face Optimum exports them) are computed from their parts so that
``total = past + sequence`` holds. Set any shape outright with ``-shapes`` by input name.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..base.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from .input_spec import InputSpec
    from .spec import LoadedModel

DEFAULT_DIMS: dict[str, int] = {
    "batch": 1,  # replaced by batch_size
    "sequence": 128,  # replaced by seq_len
    "past_sequence": 0,
    "height": 224,
    "width": 224,
    "channels": 3,
    "other": 128,
}

_REASONS = {
    "batch": "batch size",
    "sequence": "sequence length",
    "past_sequence": "past (cache) length",
    "height": "image height",
    "width": "image width",
    "channels": "image channels",
    "other": "default for a free dim",
}

_PAST = {"past", "cache", "cached", "history"}
_BATCH = {"batch", "batchsize", "bsz"}
_BATCH_NAMES = {"n", "b", "bs"}
_SEQUENCE = {
    "seq",
    "sequence",
    "seqlen",
    "length",
    "len",
    "tokens",
    "token",
    "ntokens",
    "ctx",
    "context",
}
_HEIGHT = {"height", "h"}
_WIDTH = {"width", "w"}
_IMAGE = {"image", "img"}
_IMAGE_SIZE = {"size", "res", "resolution"}
_CHANNELS = {"channels", "channel", "c", "ch"}


@dataclass(frozen=True)
class DimChoice:
    """The value chosen for one free dim, and why."""

    dim: str  # the dim's name, or "input[i]" for an unnamed dim
    value: int
    reason: str


@dataclass(frozen=True)
class ShapePlan:
    """Concrete shapes for every input, and the choices made for the free dims."""

    shapes: dict[str, tuple[int, ...]]
    choices: list[DimChoice] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the console, e.g. ``batch=1 (batch size), seq=128 (sequence length)``."""
        if not self.choices:
            return "no free dims"
        return ", ".join(f"{c.dim}={c.value} ({c.reason})" for c in self.choices)


def _tokens(name: str) -> list[str]:
    """``past_sequenceLength`` -> ``['past', 'sequence', 'length']``."""
    return [t.lower() for t in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)]


def _category(name: str) -> str | None:
    """The kind of dim a name says it is, or None if the name says nothing."""
    tokens = set(_tokens(name))
    if tokens & _PAST:
        return "past_sequence"
    if "total" in tokens:
        return "total"
    if tokens & _BATCH or name.strip().lower() in _BATCH_NAMES:
        return "batch"
    if tokens & _SEQUENCE:
        return "sequence"
    if tokens & _HEIGHT:
        return "height"
    if tokens & _WIDTH:
        return "width"
    if tokens & _IMAGE and tokens & _IMAGE_SIZE:
        return "height"
    if tokens & _CHANNELS:
        return "channels"
    return None


def _positional_category(spec: InputSpec, position: int) -> str:
    """The kind of an unnamed (or unrecognised) dim from where it sits."""
    rank = len(spec.shape)
    if position == 0:
        return "batch"
    if spec.dtype is not None and spec.dtype.kind in "iu" and position == rank - 1:
        return "sequence"  # token ids and masks: [batch, sequence]
    if rank == 4 and spec.dtype is not None and spec.dtype.kind == "f":
        channels_last = spec.shape[3] in (1, 3, 4) and spec.shape[1] not in (1, 3, 4)
        if channels_last:
            return {1: "height", 2: "width", 3: "channels"}[position]
        return {1: "channels", 2: "height", 3: "width"}[position]
    return "other"


class _Evaluator:
    """Values of named dims, computing sums like ``past_sequence_length + 1`` from their parts."""

    def __init__(self, base: Mapping[str, int], fallback: Mapping[str, str]) -> None:
        self.base = base  # category -> value
        self.fallback = fallback  # dim name -> category from its place, if the name says nothing

    def value(self, name: str) -> tuple[int, str]:
        computed = self._expression(name)
        if computed is not None:
            return computed, "computed from its parts"
        category = _category(name)
        if category == "total":
            value = self.base["past_sequence"] + self.base["sequence"]
            return value, "past + sequence length"
        if category is None:
            category = self.fallback.get(name, "other")
        return self.base[category], _REASONS[category]

    def _expression(self, name: str) -> int | None:
        if not any(op in name for op in "+-*/"):
            return None
        try:
            tree = ast.parse(name.strip(), mode="eval")
        except SyntaxError:
            return None
        try:
            result = self._eval(tree.body)
        except (ValueError, ZeroDivisionError):
            return None
        return result if result >= 0 else None

    def _eval(self, node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            category = _category(node.id) or "other"
            if category == "total":
                return self.base["past_sequence"] + self.base["sequence"]
            return self.base[category]
        if isinstance(node, ast.BinOp):
            left, right = self._eval(node.left), self._eval(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, (ast.FloorDiv, ast.Div)):
                return left // right
        raise ValueError("not a dim expression")


def _check_positive(flag: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise UsageError(f"{flag} {value}: must be a positive integer")


def plan_specs(
    specs: Sequence[InputSpec], *, batch_size: int = 1, seq_len: int | None = None
) -> ShapePlan:
    """Concrete shapes for ``specs``: fixed dims kept, free dims chosen as the table says.

    >>> import numpy as np
    >>> from pinbench.model.input_spec import InputSpec
    >>> ids = InputSpec("ids", 7, np.dtype("int64"), ("batch", "seq"))
    >>> plan_specs([ids], batch_size=2).shapes
    {'ids': (2, 128)}
    """
    _check_positive("-b", batch_size)
    if seq_len is not None:
        _check_positive("-seq_len", seq_len)
    base = dict(DEFAULT_DIMS)
    base["batch"] = batch_size
    base["sequence"] = seq_len if seq_len is not None else DEFAULT_DIMS["sequence"]
    # A name the model uses anywhere at dim 0 is the batch, wherever else it appears.
    fallback: dict[str, str] = {}
    for spec in specs:
        for position, dim in enumerate(spec.shape):
            if isinstance(dim, str) and (position == 0 or dim not in fallback):
                fallback[dim] = _positional_category(spec, position)
    evaluator = _Evaluator(base, fallback)
    named: dict[str, int] = {}
    choices: list[DimChoice] = []
    shapes: dict[str, tuple[int, ...]] = {}
    for spec in specs:
        if not spec.rank_known:
            raise UsageError(
                f"input {spec.name!r} has no shape in the model; set one with "
                f'-shapes "{spec.name}:[...]" or give its values with --data'
            )
        shape = []
        for position, dim in enumerate(spec.shape):
            if isinstance(dim, int):
                shape.append(dim)
            elif isinstance(dim, str):
                if dim not in named:
                    named[dim], reason = evaluator.value(dim)
                    choices.append(DimChoice(dim, named[dim], reason))
                shape.append(named[dim])
            else:
                category = _positional_category(spec, position)
                choices.append(
                    DimChoice(f"{spec.name}[{position}]", base[category], _REASONS[category])
                )
                shape.append(base[category])
        shapes[spec.name] = tuple(shape)
    return ShapePlan(shapes, choices)


def plan_shapes(
    model: LoadedModel, *, batch_size: int | None = None, seq_len: int | None = None
) -> ShapePlan:
    """The shapes ``generate_inputs`` will use, with the choice made for each free dim.

    ``batch_size`` defaults to the model's ``-b`` override, else 1.

    >>> from pinbench.model.load import load_model
    >>> with load_model("squeezenet") as model:
    ...     plan_shapes(model, batch_size=2).describe()
    'no free dims'
    """
    if batch_size is None:
        batch_size = model.batch_size if model.batch_size is not None else 1
    return plan_specs(model.inputs, batch_size=batch_size, seq_len=seq_len)


def resolve_shapes(
    model: LoadedModel, *, batch_size: int | None = None, seq_len: int | None = None
) -> dict[str, tuple[int, ...]]:
    """Concrete shape of every input, by name (see the table in the module docstring).

    >>> from pinbench.model.load import load_model
    >>> with load_model("squeezenet") as model:
    ...     resolve_shapes(model)
    {'data_0': (1, 3, 224, 224)}
    """
    return plan_shapes(model, batch_size=batch_size, seq_len=seq_len).shapes
