"""Inputs for a model: seeded random values that the model accepts, or arrays from a file.

Callers make the inputs once, before the timed loop.

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
anything else              —                                      128
=========================  =====================================  ===================

Why these: 1 (the original's choice for every free dim) is rejected by many models: detectors
need multiples of 32, voice-activity models need whole frames, attention needs a real sequence.
128 is a multiple of 32 and 64, a common sequence length, and small enough to stay cheap.
A past (KV cache) length of 0 runs a decoder as its first call (prefill with an empty cache),
the one past length every decoder accepts; dims written as sums (``past_sequence_length +
sequence_length``, as Hugging Face Optimum exports them) are computed from their parts so that
``total = past + sequence`` holds. Set any shape outright with ``-shapes`` by input name.

Values
------
Floats are uniform in [0, 1); bools are True; strings are short decimal words. Integers are valid
by default: an input that feeds the indices of a Gather on a constant table (an embedding),
directly or through Cast/Unsqueeze/Reshape-like ops, gets ids in [0, rows); names with ``mask``
get ones; ``token_type_ids`` / ``segment_ids`` get zeros; ``position_ids`` count 0, 1, ... along
the last dim; any other integer input gets values in [0, 2): valid as an index into any
non-empty axis of size >= 2, as a flag, and as a count.
"""

from __future__ import annotations

import ast
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pinbench.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    import numpy.typing as npt

    from pinbench.models import InputSpec, LoadedModel

__all__ = [
    "DEFAULT_DIMS",
    "DimChoice",
    "ShapePlan",
    "generate_inputs",
    "load_inputs",
    "plan_shapes",
    "plan_specs",
    "resolve_shapes",
]

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

    >>> from pinbench.models import InputSpec
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

    >>> from pinbench.models import load_model
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

    >>> from pinbench.models import load_model
    >>> with load_model("squeezenet") as model:
    ...     resolve_shapes(model)
    {'data_0': (1, 3, 224, 224)}
    """
    return plan_shapes(model, batch_size=batch_size, seq_len=seq_len).shapes


# --------------------------------------------------------------------------------------------
# Random values


def _integers(
    spec: InputSpec,
    shape: tuple[int, ...],
    dtype: np.dtype[Any],
    rng: np.random.Generator,
    bound: int | None,
) -> npt.NDArray[Any]:
    name = spec.name.lower()
    limit = int(np.iinfo(dtype).max) + 1
    high = min(bound, limit) if bound is not None else 2
    if "mask" in name:
        return np.full(shape, min(1, high - 1), dtype=dtype)
    if "token_type" in name or "segment" in name:
        return np.zeros(shape, dtype=dtype)
    if "position" in name:
        count = shape[-1] if shape else 1
        positions = np.arange(count, dtype=np.int64)
        modulus = min(bound, limit) if bound is not None else limit
        if count > modulus:  # wrap rather than index past the table or overflow the type
            positions %= modulus
        return np.ascontiguousarray(np.broadcast_to(positions.astype(dtype), shape))
    return rng.integers(0, high, size=shape, dtype=dtype)


def _random_values(
    spec: InputSpec, shape: tuple[int, ...], rng: np.random.Generator, bound: int | None
) -> npt.NDArray[Any]:
    dtype = spec.dtype
    if dtype is None:
        raise _unsupported(spec)
    if dtype.kind == "f":
        floats = rng.random(shape, dtype=np.float64 if dtype.itemsize == 8 else np.float32)
        return floats.astype(dtype, copy=False)
    if dtype.kind == "b":
        return np.ones(shape, dtype=np.bool_)
    if dtype.kind in "iu":
        return _integers(spec, shape, dtype, rng, bound)
    if dtype.kind == "O":
        words = rng.integers(0, 1000, size=shape).astype(str)
        return words.astype(object)
    raise _unsupported(spec)


def _unsupported(spec: InputSpec) -> UsageError:
    return UsageError(
        f"input {spec.name!r} has type {spec.type_name}, which pinbench cannot generate; "
        "give its values with --data inputs.npz"
    )


def generate_inputs(
    model: LoadedModel,
    *,
    batch_size: int | None = None,
    seed: int = 0,
    seq_len: int | None = None,
) -> dict[str, npt.NDArray[Any]]:
    """Seeded random inputs that the model accepts (see the module docstring for the values).

    The same seed gives the same arrays; each input draws from its own stream, so changing one
    input's shape leaves the others' values alone.

    >>> from pinbench.models import load_model
    >>> with load_model("squeezenet") as model:
    ...     arrays = generate_inputs(model, seed=1)
    >>> arrays["data_0"].shape, arrays["data_0"].dtype
    ((1, 3, 224, 224), dtype('float32'))
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"--seed {seed}: must be a non-negative integer")
    for spec in model.inputs:
        if spec.dtype is None:  # before the shapes: -shapes cannot mend this one
            raise _unsupported(spec)
    shapes = resolve_shapes(model, batch_size=batch_size, seq_len=seq_len)
    arrays: dict[str, npt.NDArray[Any]] = {}
    for index, spec in enumerate(model.inputs):
        rng = np.random.default_rng([seed, index])
        bound = model.index_bounds.get(spec.name)
        arrays[spec.name] = _random_values(spec, shapes[spec.name], rng, bound)
    return arrays


# --------------------------------------------------------------------------------------------
# Arrays from a file


def _fits_integer(array: npt.NDArray[Any], target: np.dtype[Any]) -> bool:
    """True when an integer array's values all fit ``target`` (a lossless narrowing)."""
    if array.dtype.kind not in "iub" or target.kind not in "iu":
        return False
    if array.size == 0:
        return True
    info = np.iinfo(target)
    return bool(int(array.min()) >= info.min and int(array.max()) <= info.max)


def _conform(spec: InputSpec, array: npt.NDArray[Any], where: str) -> npt.NDArray[Any]:
    """``array`` in the input's dtype, after checking its rank and fixed dims."""
    from pinbench.shapes import format_shape

    got = format_shape(list(array.shape))
    if spec.rank_known and array.ndim != len(spec.shape):
        raise UsageError(
            f"input {spec.name!r} has rank {len(spec.shape)} "
            f"({format_shape(spec.shape)}), {where} gives shape {got}"
        )
    if spec.rank_known:
        for position, (want, have) in enumerate(zip(spec.shape, array.shape)):
            if isinstance(want, int) and want != have:
                raise UsageError(
                    f"input {spec.name!r} needs shape {format_shape(spec.shape)}, {where} gives "
                    f"{got} (dim {position}); save matching data or change -b/-shapes"
                )
    target = spec.dtype
    if target is None or array.dtype == target:
        return np.ascontiguousarray(array)
    if target.kind == "O":
        if array.dtype.kind in "US":
            return np.ascontiguousarray(array.astype(str).astype(object))
    elif np.can_cast(array.dtype, target, casting="safe") or _fits_integer(array, target):
        return np.ascontiguousarray(array.astype(target))
    raise UsageError(
        f"input {spec.name!r} takes {spec.type_name}, {where} has {array.dtype} that cannot be "
        f"cast safely; save it with .astype(numpy.{target.name if target.kind != 'O' else 'str_'})"
    )


def _match_keys(keys: Iterable[str], specs: Sequence[InputSpec], source: str) -> dict[str, str]:
    """Input name -> key in the .npz file; by name, or ``arr_0, arr_1, ...`` in input order."""
    keys = list(keys)
    names = [spec.name for spec in specs]
    positional = [f"arr_{i}" for i in range(len(keys))]
    if keys and sorted(keys) == sorted(positional) and not set(keys) & set(names):
        if len(keys) != len(names):
            raise UsageError(
                f"--data {source!r} holds {len(keys)} unnamed arrays, the model has "
                f"{len(names)} inputs ({', '.join(names)}); save one per input"
            )
        return {name: f"arr_{i}" for i, name in enumerate(names)}
    unknown = [key for key in keys if key not in names]
    if unknown:
        raise UsageError(
            f"--data {source!r} has array {unknown[0]!r}, which is not an input; "
            f"the inputs are {', '.join(names)}"
        )
    for name in names:
        if name not in keys:
            raise UsageError(
                f"--data {source!r} has no array for input {name!r}; save one with "
                f"numpy.savez(path, **{{{name!r}: array, ...}})"
            )
    return {name: name for name in names}


def load_inputs(path: str | Path, model: LoadedModel) -> dict[str, npt.NDArray[Any]]:
    """Read inputs from ``.npz`` (one array per input) or ``.npy`` (a single-input model).

    Arrays are matched by input name, or as ``arr_0, arr_1, ...`` in input order (what
    ``numpy.savez(path, *arrays)`` writes); never unpickled. Raises UsageError naming the input
    on a missing array, a wrong rank or fixed dim, or a dtype that cannot be cast safely
    (integers that fit the input's type are narrowed).

    >>> import numpy, tempfile, pathlib
    >>> from pinbench.models import load_model
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "x.npy"
    >>> numpy.save(file, numpy.zeros((1, 3, 224, 224), numpy.float32))
    >>> with load_model("squeezenet") as model:
    ...     load_inputs(file, model)["data_0"].shape
    (1, 3, 224, 224)
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise UsageError(f"--data file {source!r} not found")
    suffix = path.suffix.lower()
    specs = model.inputs
    try:
        if suffix == ".npy":
            if len(specs) != 1:
                raise UsageError(
                    f"--data {source!r} holds one array, the model has {len(specs)} inputs "
                    f"({', '.join(s.name for s in specs)}); use an .npz file with one per input"
                )
            array = np.load(path, allow_pickle=False)
            return {specs[0].name: _conform(specs[0], array, f"--data {source!r}")}
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                keys = _match_keys(npz.files, specs, source)
                return {
                    spec.name: _conform(spec, npz[keys[spec.name]], f"--data {source!r}")
                    for spec in specs
                }
    except UsageError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        why = " ".join(str(exc).split()) or type(exc).__name__
        if "allow_pickle" in why:
            why = "it holds pickled objects, which are never loaded; save strings as str arrays"
        raise UsageError(f"--data {source!r}: cannot read it: {why}") from exc
    raise UsageError(
        f"--data {source!r}: expected an .npz file (one array per input) or an .npy file "
        "(single-input model)"
    )
