"""The model as loaded (``LoadedModel``): resolved, inspected and, when asked, overridden.

A plain record over a temporary copy it owns; nothing here reads a file. Its inputs are
``InputSpec`` records (``pinbench.model.input_spec``).
"""

from __future__ import annotations

import shutil
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

    from .decoder import Decoder, KvShape
    from .input_spec import InputSpec


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
