"""Find a model, read its inputs, and apply ``-b`` / ``-shapes`` without touching the user's file.

A model spec is one of:

- a path to an ``.onnx`` file, or to a folder holding ``model.onnx``;
- a built-in name (see ``BUILTIN_MODELS``): the small "light" models shipped in the ``onnx``
  package's test data; ``light_squeezenet`` (the file's stem) is accepted as well. An existing
  file or folder of the same name wins over a built-in name;
- ``zoo:<stub>``: a SparseZoo stub, through the optional ``sparsezoo`` package;
- ``hf:<org>/<repo>`` or ``hf:<org>/<repo>/<path/in/repo.onnx>``: a file in a Hugging Face model
  repository, through the optional ``huggingface_hub`` package and its own cache (so
  ``HF_HOME`` and ``HF_HUB_OFFLINE`` apply). Without a path, ``model.onnx`` is used, else the only
  ``.onnx`` file of the repository. External data files the model names are fetched too.

Overrides (``-b`` and ``-shapes``) are applied to an in-memory copy of the graph and written to a
temporary folder, with the external data files hard-linked (or, across file systems, copied)
beside it; ``LoadedModel.path`` names that copy, and ``LoadedModel.close()`` removes it. The
user's file is only ever read.

The rule when both are given: ``-shapes`` sets the whole shape of every input it names, and ``-b``
sets dim 0 of every other input (of rank >= 1), fixed or free, as ``deepsparse.benchmark`` does.
Then a dim name that either pinned (``-shapes "input_ids:[1,64]"`` pins ``sequence`` to 64 when
``input_ids`` is ``[batch, sequence]``) takes that value wherever it is still free in the other
inputs, so inputs that share a dim stay consistent.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from pinbench.errors import RunError, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from types import TracebackType

    import numpy as np

__all__ = [
    "BUILTIN_MODELS",
    "MODEL_FILE",
    "Dim",
    "InputSpec",
    "LoadedModel",
    "builtin_model_path",
    "load_model",
    "resolve_model_path",
    "suggest_shapes",
    "type_name",
]

MODEL_FILE = "model.onnx"

# Short name -> file in onnx/backend/test/data/light/ (shipped with the onnx wheel).
BUILTIN_MODELS: dict[str, str] = {
    "alexnet": "light_bvlc_alexnet.onnx",
    "densenet121": "light_densenet121.onnx",
    "inception_v1": "light_inception_v1.onnx",
    "inception_v2": "light_inception_v2.onnx",
    "resnet50": "light_resnet50.onnx",
    "shufflenet": "light_shufflenet.onnx",
    "squeezenet": "light_squeezenet.onnx",
    "vgg19": "light_vgg19.onnx",
    "zfnet512": "light_zfnet512.onnx",
}

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
_TENSOR_EXTERNAL = 1  # onnx.TensorProto.EXTERNAL


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
        from pinbench.shapes import format_shape

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
    temp_dir: Path | None = field(default=None, repr=False)  # owned; removed by close()

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


# --------------------------------------------------------------------------------------------
# Resolving a spec to a file


def builtin_model_path(name: str) -> Path | None:
    """The file of a built-in model name, or None if ``name`` is not one.

    Accepts the short names of ``BUILTIN_MODELS`` and the files' stems (``light_squeezenet``).

    >>> builtin_model_path("squeezenet").name
    'light_squeezenet.onnx'
    """
    key = name.strip().lower().removesuffix(".onnx")
    for short, filename in BUILTIN_MODELS.items():
        stem = filename[: -len(".onnx")]
        if key in (short, stem, f"light_{short}", stem.removeprefix("light_")):
            return _light_dir() / filename
    return None


def _light_dir() -> Path:
    import onnx

    return Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def resolve_model_path(spec: str) -> Path:
    """The ONNX file that ``spec`` names (file, folder, built-in name, ``zoo:``, ``hf:``).

    Raises UsageError when nothing matches, RunError when a remote model cannot be fetched.

    >>> resolve_model_path("squeezenet").name
    'light_squeezenet.onnx'
    """
    if spec.startswith("zoo:"):
        return _resolve_zoo(spec)
    if spec.startswith("hf:"):
        return _resolve_hf(spec)
    if not spec.strip():
        raise UsageError("no model given; pass an .onnx file, a folder, or a built-in name")
    path = Path(spec).expanduser()
    if path.is_dir():
        return _model_in_folder(spec, path)
    if path.exists():
        return path
    builtin = builtin_model_path(spec)
    if builtin is not None:
        if not builtin.is_file():
            raise UsageError(
                f"built-in model {spec!r} is not shipped with the installed onnx package "
                f"({builtin.name} missing); pass an .onnx file instead"
            )
        return builtin
    if os.sep in spec or "/" in spec or spec.endswith(".onnx"):
        raise UsageError(f"model file {spec!r} not found")
    names = ", ".join(BUILTIN_MODELS)
    raise UsageError(
        f"model {spec!r} not found: not a file, a folder, or a built-in model ({names})"
    )


def _model_in_folder(spec: str, folder: Path) -> Path:
    candidate = folder / MODEL_FILE
    if candidate.is_file():
        return candidate
    others = sorted(p.name for p in folder.glob("*.onnx"))
    if others:
        listed = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise UsageError(
            f"folder {spec!r} has no {MODEL_FILE}; pass one of its .onnx files instead ({listed})"
        )
    raise UsageError(f"folder {spec!r} has no {MODEL_FILE} and no other .onnx file")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if not text:
        text = type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _resolve_zoo(spec: str) -> Path:
    try:
        from sparsezoo import Model
    except ImportError:
        raise UsageError(
            f"model {spec!r} is a SparseZoo stub, which needs the sparsezoo package: "
            "pip install 'pinbench[zoo]'"
        ) from None
    try:
        model = Model(spec)
        try:
            # The deployment folder holds the file DeepSparse itself runs.
            path = model.deployment.get_file(MODEL_FILE).path
        except Exception:
            path = model.onnx_model.path
    except Exception as exc:
        raise RunError(f"model {spec!r}: SparseZoo could not provide it: {_one_line(exc)}") from exc
    return Path(str(path))


def _parse_hf_spec(spec: str) -> tuple[str, str | None]:
    """``hf:org/repo[/path.onnx]`` -> (repo id, path in the repo or None)."""
    parts = [p for p in spec[len("hf:") :].strip().split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise UsageError(f"model {spec!r}: expected hf:<org>/<repo> or hf:<org>/<repo>/<file.onnx>")
    # "hf:gpt2/model.onnx" names a file in a repo without an owner.
    if len(parts) == 2 and parts[1].endswith(".onnx"):
        return parts[0], parts[1]
    repo_id = "/".join(parts[:2])
    rest = "/".join(parts[2:])
    return repo_id, rest or None


class _HubUnreachable(RunError):
    """The file is not cached and the hub cannot be asked (offline, or no connection)."""


class _NoSuchFile(UsageError):
    """The hub answered that the repository has no such file."""


def _hf_fetch(spec: str, repo_id: str, filename: str) -> Path:
    from huggingface_hub import hf_hub_download

    try:
        from huggingface_hub import errors
    except ImportError:  # huggingface_hub < 0.23 keeps them in utils
        from huggingface_hub import utils as errors  # type: ignore[no-redef]

    # Order matters: LocalEntryNotFoundError subclasses EntryNotFoundError, and
    # GatedRepoError subclasses RepositoryNotFoundError.
    try:
        return Path(str(hf_hub_download(repo_id=repo_id, filename=filename)))
    except errors.LocalEntryNotFoundError as exc:
        raise _HubUnreachable(
            f"model {spec!r} is not in the local Hugging Face cache and the hub cannot be "
            f"reached: {_one_line(exc)}"
        ) from exc
    except errors.GatedRepoError as exc:
        raise UsageError(
            f"model {spec!r}: repository {repo_id!r} is gated; accept its terms on the hub "
            "and set HF_TOKEN"
        ) from exc
    except errors.RepositoryNotFoundError as exc:
        raise UsageError(
            f"model {spec!r}: no repository {repo_id!r} on the Hugging Face hub "
            "(if it is private, set HF_TOKEN)"
        ) from exc
    except errors.RevisionNotFoundError as exc:
        raise UsageError(f"model {spec!r}: {_one_line(exc)}") from exc
    except errors.EntryNotFoundError as exc:
        raise _NoSuchFile(
            f"model {spec!r}: repository {repo_id!r} has no file {filename!r}"
        ) from exc
    except errors.HfHubHTTPError as exc:
        raise RunError(f"model {spec!r}: the Hugging Face hub failed: {_one_line(exc)}") from exc
    except ValueError as exc:  # HFValidationError: a malformed repo id
        raise UsageError(f"model {spec!r}: {_one_line(exc)}") from exc
    except OSError as exc:
        raise RunError(f"model {spec!r}: cannot fetch {filename!r}: {_one_line(exc)}") from exc


def _hf_repo_onnx_files(spec: str, repo_id: str, offline_error: RunError | None) -> list[str]:
    """The ``.onnx`` files of a repository: from the cache when offline, else from the hub."""
    if offline_error is not None:
        from huggingface_hub import snapshot_download

        try:
            folder = Path(snapshot_download(repo_id=repo_id, local_files_only=True))
        except Exception:
            raise offline_error from None
        found = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.onnx"))
        if not found:  # the hub may hold some that were never fetched
            raise offline_error
        return found
    from huggingface_hub import HfApi

    try:
        files = HfApi().list_repo_files(repo_id=repo_id)
    except Exception as exc:
        raise RunError(f"model {spec!r}: cannot list the repository: {_one_line(exc)}") from exc
    return sorted(f for f in files if f.endswith(".onnx"))


def _resolve_hf(spec: str) -> Path:
    repo_id, filename = _parse_hf_spec(spec)
    try:
        import huggingface_hub  # noqa: F401
    except ImportError:
        raise UsageError(
            f"model {spec!r} is on the Hugging Face hub, which needs the huggingface_hub "
            "package: pip install 'pinbench[hf]'"
        ) from None
    if filename is None:
        try:
            filename = MODEL_FILE
            path = _hf_fetch(spec, repo_id, filename)
        except (_HubUnreachable, _NoSuchFile) as exc:
            offline = exc if isinstance(exc, _HubUnreachable) else None
            found = _hf_repo_onnx_files(spec, repo_id, offline)
            if len(found) != 1:
                if not found:
                    raise UsageError(f"model {spec!r}: repository has no .onnx file") from None
                listed = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
                raise UsageError(
                    f"model {spec!r}: repository has no {MODEL_FILE} and several .onnx files "
                    f"({listed}); name one, e.g. hf:{repo_id}/{found[0]}"
                ) from None
            filename = found[0]
            path = _hf_fetch(spec, repo_id, filename)
    else:
        path = _hf_fetch(spec, repo_id, filename)
    folder = posixpath.dirname(filename)
    for location in _external_locations_of_file(path):
        _hf_fetch(spec, repo_id, posixpath.normpath(posixpath.join(folder, location)))
    return path


# --------------------------------------------------------------------------------------------
# Reading the graph


def _read_model(spec: str, path: Path) -> Any:
    """The ModelProto without its external data; UsageError if the file is not ONNX."""
    import onnx

    try:
        proto = onnx.load(str(path), load_external_data=False)
    except OSError as exc:
        raise UsageError(f"cannot read model file {spec!r}: {_one_line(exc)}") from exc
    except Exception as exc:  # protobuf's DecodeError and friends
        raise UsageError(
            f"model file {spec!r} is not an ONNX model (cannot parse it: {_one_line(exc)})"
        ) from exc
    # Some bytes parse as an empty or nearly empty protobuf message: check what must be there.
    if proto.ir_version <= 0 or not proto.HasField("graph") or not proto.graph.output:
        raise UsageError(
            f"model file {spec!r} is not an ONNX model (no graph, outputs or IR version in it)"
        )
    return proto


def _external_locations_of_file(path: Path) -> list[str]:
    import onnx

    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception:
        return []  # load_model reports the file itself
    return _external_locations(proto)


def _all_tensors(proto: Any) -> Iterator[Any]:
    """Every TensorProto of a model: initializers, sparse ones, and node attributes, nested."""
    graphs = [proto.graph]
    nodes: list[Any] = [node for function in proto.functions for node in function.node]
    while graphs or nodes:
        if graphs:
            graph = graphs.pop()
            yield from graph.initializer
            for sparse in graph.sparse_initializer:
                yield sparse.values
                yield sparse.indices
            nodes.extend(graph.node)
            continue
        node = nodes.pop()
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("g"):
                graphs.append(attr.g)
            graphs.extend(attr.graphs)


def _external_locations(proto: Any) -> list[str]:
    locations: dict[str, None] = {}
    for tensor in _all_tensors(proto):
        if tensor.data_location != _TENSOR_EXTERNAL:
            continue
        for entry in tensor.external_data:
            if entry.key == "location" and entry.value:
                locations[entry.value] = None
    return list(locations)


def _dims_of(value_info: Any) -> tuple[tuple[Dim, ...], bool]:
    """(shape, rank_known) of a ValueInfoProto of tensor type."""
    tensor_type = value_info.type.tensor_type
    if not tensor_type.HasField("shape"):
        return (), False
    dims: list[Dim] = []
    for dim in tensor_type.shape.dim:
        which = dim.WhichOneof("value")
        if which == "dim_value" and dim.dim_value >= 0:
            dims.append(int(dim.dim_value))
        elif which == "dim_param" and dim.dim_param:
            dims.append(str(dim.dim_param))
        else:
            dims.append(None)
    return tuple(dims), True


def _numpy_dtype(elem_type: int) -> np.dtype[Any] | None:
    import numpy as np

    name = _NUMPY_TYPES.get(elem_type)
    return None if name is None else np.dtype(name)


def _input_specs(graph: Any) -> list[InputSpec]:
    initializers = {init.name for init in graph.initializer}
    initializers.update(sparse.values.name for sparse in graph.sparse_initializer)
    specs = []
    for value_info in graph.input:
        if value_info.name in initializers:
            continue  # a weight that IR < 4 models list as an (overridable) input
        if value_info.type.WhichOneof("value") != "tensor_type":
            specs.append(InputSpec(value_info.name, 0, None, (), rank_known=False))
            continue
        elem_type = int(value_info.type.tensor_type.elem_type)
        shape, rank_known = _dims_of(value_info)
        specs.append(
            InputSpec(value_info.name, elem_type, _numpy_dtype(elem_type), shape, rank_known)
        )
    return specs


def _default_opset(proto: Any) -> int:
    for opset in proto.opset_import:
        if opset.domain in ("", "ai.onnx"):
            return int(opset.version)
    return 0


# Ops whose first input's values reach their output unchanged (only moved or re-typed).
_PASS_THROUGH = frozenset(
    {"Cast", "Identity", "Unsqueeze", "Squeeze", "Reshape", "Flatten", "Expand", "Transpose"}
)
# ORT's fused BERT embedding: input index -> index of the table it looks up.
_EMBED_LAYER_NORM_TABLES = {0: 2, 1: 4, 8: 3}


def _index_bounds(graph: Any, input_names: Iterable[str]) -> dict[str, int]:
    """Inputs that feed the indices of a Gather on a constant table -> that table's row count."""
    tables: dict[str, list[int]] = {init.name: list(init.dims) for init in graph.initializer}
    consumers: dict[str, list[tuple[Any, int]]] = {}
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value" and attr.HasField("t"):
                    tables[node.output[0]] = list(attr.t.dims)
        for index, name in enumerate(node.input):
            consumers.setdefault(name, []).append((node, index))
    bounds: dict[str, int] = {}
    for input_name in input_names:
        bound = None
        frontier, seen = [input_name], {input_name}
        while frontier:
            for node, index in consumers.get(frontier.pop(), []):
                rows = _rows_indexed(node, index, tables)
                if rows is not None and rows > 0:
                    bound = rows if bound is None else min(bound, rows)
                elif (
                    node.op_type in _PASS_THROUGH
                    and index == 0
                    and node.output
                    and node.output[0] not in seen
                ):
                    seen.add(node.output[0])
                    frontier.append(node.output[0])
        if bound is not None:
            bounds[input_name] = bound
    return bounds


def _rows_indexed(node: Any, index: int, tables: dict[str, list[int]]) -> int | None:
    """The size of the table axis that input ``index`` of ``node`` indexes, if it does."""
    if node.op_type == "Gather" and index == 1 and node.input[0] in tables:
        dims = tables[node.input[0]]
        axis = next((int(a.i) for a in node.attribute if a.name == "axis"), 0)
        if dims and -len(dims) <= axis < len(dims):
            return dims[axis]
        return None
    if node.op_type == "EmbedLayerNormalization" and index in _EMBED_LAYER_NORM_TABLES:
        table_index = _EMBED_LAYER_NORM_TABLES[index]
        if table_index < len(node.input) and node.input[table_index] in tables:
            dims = tables[node.input[table_index]]
            return dims[0] if dims else None
    return None


# --------------------------------------------------------------------------------------------
# Overrides


def _check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise UsageError(f"-b {batch_size}: batch size must be a positive integer, e.g. -b 1")


def _example_shape(spec: InputSpec, batch_size: int) -> list[int]:
    from pinbench.inputs import plan_specs

    return list(plan_specs([spec], batch_size=batch_size).shapes[spec.name])


def _shapes_by_name(
    text: str, specs: Sequence[InputSpec], batch_size: int | None
) -> dict[str, tuple[int, ...]]:
    """Match a ``-shapes`` value to the inputs; UsageError on a count, name or rank mismatch."""
    from pinbench.shapes import format_shapes, parse_input_shapes

    parsed = parse_input_shapes(text)
    quoted = '"' + " ".join(text.split()) + '"'
    names = [spec.name for spec in specs]
    examples = {
        spec.name: _example_shape(spec, batch_size or 1) for spec in specs if spec.rank_known
    }
    full_example = format_shapes([examples[n] for n in names if n in examples])
    broadcast = False
    if isinstance(parsed, dict):
        unknown = [name for name in parsed if name not in names]
        if unknown:
            raise UsageError(
                f"-shapes {quoted}: the model has no input {unknown[0]!r}; "
                f"its inputs are {', '.join(names)}"
            )
        by_name = {name: tuple(shape) for name, shape in parsed.items()}
    elif len(parsed) == 1 and len(names) > 1:
        broadcast = True  # the original's rule: a single shape applies to every input
        by_name = {name: tuple(parsed[0]) for name in names}
    elif len(parsed) != len(names):
        raise UsageError(
            f"-shapes {quoted}: the model has {len(names)} inputs ({', '.join(names)}), "
            f'got {len(parsed)} shapes; give one per input, e.g. -shapes "{full_example}"'
        )
    else:
        by_name = {name: tuple(shape) for name, shape in zip(names, parsed)}
    for spec in specs:
        shape = by_name.get(spec.name)
        if shape is None or not spec.rank_known or len(shape) == len(spec.shape):
            continue
        example = format_shapes([examples[spec.name]])
        hint = ""
        if broadcast:
            hint = (
                " (a single shape applies to every input; give one per input, "
                f'e.g. -shapes "{full_example}")'
            )
        raise UsageError(
            f"-shapes {quoted}: input {spec.name!r} has rank {len(spec.shape)}, "
            f"got {len(shape)} dims; expected e.g. {example}{hint}"
        )
    return by_name


def _overridden_specs(
    specs: Sequence[InputSpec],
    batch_size: int | None,
    by_name: dict[str, tuple[int, ...]],
) -> list[InputSpec]:
    """The inputs after the overrides: -shapes for the inputs it names, -b for dim 0 of the
    rest; then a dim name pinned that way takes the same value in every input that uses it."""
    pinned: dict[str, int] = {}
    for spec in specs:
        if spec.name in by_name:
            for old, new in zip(spec.shape, by_name[spec.name]):
                if isinstance(old, str):
                    pinned.setdefault(old, new)
    if batch_size is not None:
        for spec in specs:
            if spec.name not in by_name and spec.shape and isinstance(spec.shape[0], str):
                pinned.setdefault(spec.shape[0], batch_size)
    out = []
    for spec in specs:
        shape: tuple[Dim, ...] = spec.shape
        if spec.name in by_name:
            shape = by_name[spec.name]
        elif spec.rank_known and spec.shape:
            if batch_size is not None:
                shape = (batch_size, *shape[1:])
            # Only dims still free take a pinned value: -b keeps precedence over it.
            shape = tuple(pinned.get(d, d) if isinstance(d, str) else d for d in shape)
        if shape == spec.shape and spec.name not in by_name:
            out.append(spec)
        else:
            out.append(InputSpec(spec.name, spec.elem_type, spec.dtype, shape, rank_known=True))
    return out


def _set_dims(value_info: Any, shape: Sequence[Dim]) -> None:
    tensor_shape = value_info.type.tensor_type.shape
    del tensor_shape.dim[:]
    for value in shape:
        dim = tensor_shape.dim.add()
        if isinstance(value, int):
            dim.dim_value = value
        elif isinstance(value, str):
            dim.dim_param = value


def _apply_overrides(
    proto: Any, specs: Sequence[InputSpec], batch_changed: bool, shapes_changed: bool
) -> None:
    """Write ``specs``' shapes into ``proto`` and free the output dims they may change."""
    by_name = {spec.name: spec for spec in specs}
    for value_info in proto.graph.input:
        spec = by_name.get(value_info.name)
        if spec is not None and spec.rank_known and spec.elem_type:
            _set_dims(value_info, spec.shape)
    for value_info in proto.graph.output:
        if value_info.type.WhichOneof("value") != "tensor_type":
            continue
        shape, rank_known = _dims_of(value_info)
        if not rank_known or not shape:
            continue
        # Fixed output dims that the new input shapes may change would make engines warn
        # about a mismatch on every run: free them.
        freed: list[Dim] = list(shape)
        if batch_changed:
            freed[0] = "batch"
        if shapes_changed:
            freed = [
                "batch" if i == 0 else None if isinstance(d, int) else d
                for i, d in enumerate(freed)
            ]
        _set_dims(value_info, freed)
    # Shapes inferred for intermediate values from the old input shapes would now conflict.
    proto.graph.ClearField("value_info")


def _link_or_copy(target: Path, link: Path) -> None:
    """Make ``target`` appear at ``link`` without writing to ``target``.

    A hard link, not a symlink: ONNX Runtime (1.2x+) resolves symlinks and refuses external data
    that resolves outside the model's folder. Where a hard link is impossible (another file
    system), the data is copied.
    """
    link.parent.mkdir(parents=True, exist_ok=True)
    # Resolved first: link() on a symlink (as in the Hugging Face cache) links the symlink.
    real = target.resolve()
    try:
        os.link(real, link)
    except OSError:
        shutil.copy2(real, link)


def _write_copy(spec: str, proto: Any, source: Path) -> tuple[Path, Path]:
    """Write ``proto`` into a new temporary folder beside links to its external data."""
    locations = _external_locations(proto)
    temp_dir = Path(tempfile.mkdtemp(prefix="pinbench-"))
    try:
        for location in locations:
            relative = Path(location)
            if relative.is_absolute() or ".." in relative.parts:
                raise UsageError(
                    f"model {spec!r}: external data location {location!r} is outside the "
                    "model's folder, so its shapes cannot be overridden; move the data beside "
                    "the model"
                )
            data = source.parent / relative
            if not data.exists():
                raise UsageError(
                    f"model {spec!r}: external data file {location!r} not found beside it"
                )
            _link_or_copy(data, temp_dir / relative)
        path = temp_dir / source.name
        path.write_bytes(proto.SerializeToString())
    except UsageError:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    except (OSError, ValueError) as exc:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise RunError(
            f"cannot write the overridden copy of model {spec!r} to {temp_dir}: {_one_line(exc)}"
        ) from exc
    return temp_dir, path


def load_model(
    spec: str, *, batch_size: int | None = None, input_shapes: str | None = None
) -> LoadedModel:
    """Resolve ``spec``, read its inputs, and apply ``-b`` / ``-shapes`` to a temporary copy.

    ``input_shapes`` is the ``-shapes`` text; ``None`` or ``""`` means no override. Without
    overrides ``path == source_path`` and nothing is copied. Raises UsageError (one line) for a
    missing or non-ONNX file and for overrides that cannot fit the model.

    >>> with load_model("squeezenet", batch_size=4) as model:
    ...     model.describe_inputs()
    'data_0: float32[4,3,224,224]'
    """
    if batch_size is not None:
        _check_batch_size(batch_size)
    if input_shapes is not None and not input_shapes.strip():
        input_shapes = None  # the original's default is "": no override
    source = resolve_model_path(spec)
    proto = _read_model(spec, source)
    original = _input_specs(proto.graph)
    by_name = (
        _shapes_by_name(input_shapes, original, batch_size) if input_shapes is not None else {}
    )
    specs = _overridden_specs(original, batch_size, by_name)
    # Inputs that -shapes leaves alone show their free dims as -1 here (ONNX's "any").
    applied = (
        [[d if isinstance(d, int) else -1 for d in s.shape] for s in specs] if by_name else None
    )
    outputs = [output.name for output in proto.graph.output]
    index_bounds = _index_bounds(proto.graph, [s.name for s in original])
    temp_dir, path = None, source
    if batch_size is not None or by_name:
        _apply_overrides(proto, specs, batch_size is not None, bool(by_name))
        temp_dir, path = _write_copy(spec, proto, source)
    return LoadedModel(
        orig_path=spec,
        source_path=source,
        path=path,
        inputs=specs,
        outputs=outputs,
        batch_size=batch_size,
        input_shapes=applied,
        opset=_default_opset(proto),
        ir_version=int(proto.ir_version),
        original_inputs=original,
        index_bounds=index_bounds,
        shape_overrides=by_name,
        temp_dir=temp_dir,
    )


def suggest_shapes(model: LoadedModel) -> str:
    """A ``-shapes`` value the model's own static dims support, for messages after a failure.

    Free dims get the defaults of ``pinbench.inputs`` (batch 1).

    >>> with load_model("squeezenet", batch_size=4) as model:
    ...     suggest_shapes(model)
    '-shapes "[1,3,224,224]"'
    """
    from pinbench.inputs import plan_specs
    from pinbench.shapes import format_shapes

    specs = model.original_inputs or model.inputs
    shapes = plan_specs([s for s in specs if s.rank_known], batch_size=1).shapes
    if all(s.rank_known for s in specs):
        return f'-shapes "{format_shapes([list(shapes[s.name]) for s in specs])}"'
    return f'-shapes "{format_shapes({n: list(v) for n, v in shapes.items()})}"'
