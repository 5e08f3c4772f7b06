"""Seeded random inputs that a model accepts, made once per stream before the timed loop.

Floats are uniform in [0, 1); bools are True; strings are short decimal words. Integers are valid
by default: an input that feeds the indices of a Gather on a constant table (an embedding),
directly or through Cast/Unsqueeze/Reshape-like ops, gets ids in [0, rows); names with ``mask``
get ones; ``token_type_ids`` / ``segment_ids`` get zeros; ``position_ids`` count 0, 1, ... along
the last dim; any other integer input gets values in [0, 2): valid as an index into any
non-empty axis of size >= 2, as a flag, and as a count. A KV-cache decoder's positions count on
from its past length, its causal mask is causal and ``use_cache_branch`` says whether there is a
past (``model.decoder.decoder_values``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..base.errors import RunError, UsageError
from ..base.shapes import format_shape
from .dims import resolve_shapes

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy.typing as npt

    from .input_spec import InputSpec
    from .spec import LoadedModel

# Bytes per element of a string input: the object pointer and a short str beside it.
_OBJECT_BYTES = 64


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

    >>> from pinbench.model.load import load_model
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
    if model.decoder is not None:
        from .decoder import decoder_values

        past = model.kv_shape.past_len if model.kv_shape is not None else 0
        arrays = decoder_values(model.decoder, arrays, past)
    return arrays


def input_nbytes(model: LoadedModel, shapes: Mapping[str, Sequence[int]]) -> dict[str, int]:
    """Bytes each input of these shapes takes, by name (exact Python ints: no overflow).

    >>> from pinbench.model.load import load_model
    >>> with load_model("squeezenet") as model:
    ...     input_nbytes(model, {"data_0": [2, 3, 224, 224]})
    {'data_0': 1204224}
    """
    out = {}
    for spec in model.inputs:
        itemsize = spec.dtype.itemsize if spec.dtype is not None else 8
        if spec.dtype is not None and spec.dtype.kind == "O":
            itemsize = _OBJECT_BYTES
        out[spec.name] = math.prod(int(d) for d in shapes[spec.name]) * itemsize
    return out


def check_inputs_fit(
    model: LoadedModel,
    shapes: Mapping[str, Sequence[int]],
    available: int | None,
    *,
    copies: int = 1,
) -> int:
    """The bytes of one copy of the inputs; RunError when ``copies`` of them (one per stream)
    need more than ``available`` bytes (None: unknown, not checked)."""
    sizes = input_nbytes(model, shapes)
    one = sum(sizes.values())
    if available is None or one * copies <= available:
        return one
    name = max(sizes, key=sizes.__getitem__)
    spec = next(s for s in model.inputs if s.name == name)
    what = f"{name} {spec.type_name}{format_shape(list(shapes[name]))}"
    if len(sizes) > 1:
        what = f"the largest, {what}, is {_size(sizes[name])}"
    need = f"{_size(one)} per stream x {copies} streams" if copies > 1 else _size(one)
    raise RunError(
        f"the inputs need {need}, more than the {_size(available)} of memory available "
        f"({what}); lower -b or -shapes"
    )


def _size(nbytes: int) -> str:
    """``1.5 GiB``, ``12.0 MiB``; huge counts in powers of ten of GiB."""
    gib = nbytes / 2**30
    if gib >= 1e6:
        return f"{gib:.2e} GiB"
    return f"{gib:.1f} GiB" if gib >= 1 else f"{nbytes / 2**20:.1f} MiB"
