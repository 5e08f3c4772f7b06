"""Reading an ONNX graph: the model file's proto, its real inputs, its external data files, and
the integer inputs that index an embedding table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..base.errors import UsageError, shorten
from .spec import Dim, InputSpec, numpy_dtype

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

_TENSOR_EXTERNAL = 1  # onnx.TensorProto.EXTERNAL


def read_model(spec: str, path: Path) -> Any:
    """The ModelProto without its external data; UsageError if the file is not ONNX."""
    import onnx

    try:
        proto = onnx.load(str(path), load_external_data=False)
    except OSError as exc:
        raise UsageError(f"cannot read model file {spec!r}: {shorten(exc)}") from exc
    except Exception as exc:  # protobuf's DecodeError and friends
        raise UsageError(
            f"model file {spec!r} is not an ONNX model (cannot parse it: {shorten(exc)})"
        ) from exc
    # Some bytes parse as an empty or nearly empty protobuf message: check what must be there.
    if proto.ir_version <= 0 or not proto.HasField("graph") or not proto.graph.output:
        raise UsageError(
            f"model file {spec!r} is not an ONNX model (no graph, outputs or IR version in it)"
        )
    return proto


def external_locations_of_file(path: Path) -> list[str]:
    import onnx

    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception:
        return []  # load_model reports the file itself
    return external_locations(proto)


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


def external_locations(proto: Any) -> list[str]:
    locations: dict[str, None] = {}
    for tensor in _all_tensors(proto):
        if tensor.data_location != _TENSOR_EXTERNAL:
            continue
        for entry in tensor.external_data:
            if entry.key == "location" and entry.value:
                locations[entry.value] = None
    return list(locations)


def dims_of(value_info: Any) -> tuple[tuple[Dim, ...], bool]:
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


def input_specs(graph: Any) -> list[InputSpec]:
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
        shape, rank_known = dims_of(value_info)
        specs.append(
            InputSpec(value_info.name, elem_type, numpy_dtype(elem_type), shape, rank_known)
        )
    return specs


def default_opset(proto: Any) -> int:
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


def index_bounds(graph: Any, input_names: Iterable[str]) -> dict[str, int]:
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
