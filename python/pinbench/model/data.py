"""Inputs from a file (``--data``): ``.npz`` with one array per input, or ``.npy`` for a
single-input model; never unpickled."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..base.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import numpy.typing as npt

    from .input_spec import InputSpec
    from .spec import LoadedModel


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
    from ..base.shapes import format_shape

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


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive's first entry, or an empty one


def check_format(path: Path, source: str) -> None:
    """UsageError unless ``path`` is what its suffix says: an .npy file (numpy's header) or an
    .npz archive (a zip whose members are .npy files), before numpy would read other bytes as
    a pickle and call them "pickled objects"."""
    suffix = path.suffix.lower()
    with path.open("rb") as f:
        head = f.read(len(_NPY_MAGIC))
    if suffix == ".npy" and head != _NPY_MAGIC:
        raise UsageError(
            f"--data {source!r} is not a valid .npy file (no NumPy header, as numpy.save writes)"
        )
    if suffix != ".npz":
        return
    if not head.startswith(_ZIP_MAGICS):
        raise UsageError(
            f"--data {source!r} is not a valid .npz file (not a zip archive, as numpy.savez writes)"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                with archive.open(member) as f:
                    if f.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
                        raise UsageError(
                            f"--data {source!r} is not a valid .npz file: its member "
                            f"{member!r} is not an .npy array"
                        )
    except zipfile.BadZipFile as exc:
        raise UsageError(f"--data {source!r} is not a valid .npz file ({exc})") from exc


def load_inputs(path: str | Path, model: LoadedModel) -> dict[str, npt.NDArray[Any]]:
    """Read inputs from ``.npz`` (one array per input) or ``.npy`` (a single-input model).

    Arrays are matched by input name, or as ``arr_0, arr_1, ...`` in input order (what
    ``numpy.savez(path, *arrays)`` writes); never unpickled. Raises UsageError naming the input
    on a missing array, a wrong rank or fixed dim, or a dtype that cannot be cast safely
    (integers that fit the input's type are narrowed).

    >>> import numpy, tempfile, pathlib
    >>> from pinbench.model.load import load_model
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
        check_format(path, source)
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
