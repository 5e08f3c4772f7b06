"""One input of a model as pinbench knows it (``InputSpec``), and the table of ONNX element types
to numpy types. Plain records; nothing here reads a file. Example::

    >>> InputSpec("ids", 7, None, ("batch", 128)).describe()
    'ids: int64[batch,128]'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    import numpy as np

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


def numpy_dtype(elem_type: int) -> np.dtype[Any] | None:
    """The numpy dtype of an ONNX element type (object for strings); None if unsupported."""
    import numpy as np

    name = _NUMPY_TYPES.get(elem_type)
    return None if name is None else np.dtype(name)
