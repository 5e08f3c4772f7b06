"""What pinbench knows of a model: its inputs (``InputSpec``) and the model as loaded
(``LoadedModel``).

Plain records, and the table of ONNX element types to numpy types; nothing here reads a file.
"""

from __future__ import annotations

import shutil
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

    import numpy as np

    from .decoder import Decoder, KvShape

Dim = Union[int, str, None]
"""One dim of an input: int = fixed, str = named free dim, None = anonymous free dim."""

# onnx.TensorProto.DataType values, spelled out so that this module needs no onnx import.
_TYPE_NAMES: dict[int, str] = {
    1: "float32",
    2: "uint8",
    3: "int8",
    4: "uint16",
    5: "int16",
    6: "int32",
    7: "int64",
    8: "string",
    9: "bool",
    10: "float16",
    11: "float64",
    12: "uint32",
    13: "uint64",
    14: "complex64",
    15: "complex128",
    16: "bfloat16",
}
# The input types that the engines take as numpy arrays. bfloat16 and complex are left out:
# numpy has no bfloat16, and ONNX Runtime refuses ml_dtypes' bfloat16 and complex inputs.
_NUMPY_TYPES: dict[int, str] = {
    code: "object" if name == "string" else name
    for code, name in _TYPE_NAMES.items()
    if name not in ("bfloat16", "complex64", "complex128")
}


def type_name(elem_type: int) -> str:
    """The short name of an ONNX tensor element type.

    >>> type_name(1), type_name(7)
    ('float32', 'int64')
    """
    name = _TYPE_NAMES.get(elem_type)
    if name is not None:
        return name
    try:
        import onnx

        return str(onnx.TensorProto.DataType.Name(elem_type)).lower()
    except (ImportError, ValueError):
        return f"type{elem_type}"


@dataclass(frozen=True)
class InputSpec:
    """One real input of a model (graph initializers listed as inputs are not inputs)."""

    name: str
    elem_type: int  # onnx.TensorProto enum; 0 when the input is not a tensor
    dtype: np.dtype[Any] | None  # numpy dtype (object for strings); None if unsupported
    shape: tuple[Dim, ...]
    rank_known: bool = True  # False when the model gives no shape at all (shape is then ())

    @property
    def type_name(self) -> str:
        """``float32``, ``int64``, ... as ``numpy`` and the messages spell it."""
        return type_name(self.elem_type) if self.elem_type else "non-tensor"

    @property
    def is_static(self) -> bool:
        """True when every dim is fixed."""
        return self.rank_known and all(isinstance(d, int) for d in self.shape)

    def describe(self) -> str:
        """``name: float32[1,3,224,224]``; free dims by name, anonymous ones as ``?``.

        >>> InputSpec("m", 7, None, (1, "seq", None)).describe()
        'm: int64[1,seq,?]'
        """
        from ..base.shapes import format_shape

        dims = format_shape(self.shape) if self.rank_known else "[...]"
        return f"{self.name}: {self.type_name}{dims}"


@dataclass
class LoadedModel:
    """A model resolved, inspected and, when asked, overridden; engines load ``path``.

    Use it as a context manager (or call ``close``) to remove the temporary copy.
    """

    orig_path: str  # what the user typed
    source_path: Path  # the resolved file on disk; never written to
    path: Path  # the file engines load: source_path, or the temporary copy with the overrides
    inputs: list[InputSpec]  # after the overrides
    outputs: list[str]
    batch_size: int | None  # the -b applied, if any
    input_shapes: list[list[int]] | None  # the -shapes applied, per input in input order
    opset: int  # of the default (ai.onnx) domain; 0 if the model names none
    ir_version: int
    original_inputs: list[InputSpec] = field(default_factory=list)  # before the overrides
    # Exclusive upper bound for integer inputs that index an embedding table (Gather on an
    # initializer), found in the graph; the random inputs stay below it.
    index_bounds: dict[str, int] = field(default_factory=dict)
    # Exactly what -shapes set, by input name (input_shapes is the same, in input order).
    shape_overrides: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # The external data files the model names, beside source_path (read, never written).
    data_files: tuple[Path, ...] = ()
    temp_dir: Path | None = field(default=None, repr=False)  # owned; removed by close()
    decoder: Decoder | None = None  # the KV cache's inputs and outputs, when it is a decoder
    kv_shape: KvShape | None = None  # the forward pass -seq_len/-input_ids_len fixed, if any
    # Bytes of the stored tensors (initializers, external data included), and of those only
    # gathered from (embedding tables), from the graph's dims and types: no data is read.
    weight_bytes: int = 0
    gathered_bytes: int = 0

    def __post_init__(self) -> None:
        self._finalizer: weakref.finalize[Any, Any] | None = None
        if self.temp_dir is not None:
            # Also runs at garbage collection and at interpreter exit if close() is forgotten.
            self._finalizer = weakref.finalize(
                self, shutil.rmtree, str(self.temp_dir), ignore_errors=True
            )

    @property
    def overridden(self) -> bool:
        """True when ``path`` is a temporary copy holding overrides."""
        return self.path != self.source_path

    def close(self) -> None:
        """Remove the temporary copy, if any. Safe to call twice."""
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> LoadedModel:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def input_names(self) -> list[str]:
        """The names of the real inputs, in order."""
        return [spec.name for spec in self.inputs]

    def describe_inputs(self) -> str:
        """One line for messages, e.g. ``data: float32[1,3,224,224], mask: int64[batch,seq]``."""
        return ", ".join(spec.describe() for spec in self.inputs)


def numpy_dtype(elem_type: int) -> np.dtype[Any] | None:
    """The numpy dtype of an ONNX element type (object for strings); None if unsupported."""
    import numpy as np

    name = _NUMPY_TYPES.get(elem_type)
    return None if name is None else np.dtype(name)
