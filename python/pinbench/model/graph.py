"""Reading an ONNX graph: the model file's structure, its real inputs, its external data files,
and the integer inputs that index an embedding table.

The file is read by ``onnx_decode`` (the protobuf wire format, tensor data skipped unread), so
neither the ``onnx`` package nor the model's weights are loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base.errors import UsageError, shorten
from .input_spec import Dim, InputSpec, numpy_dtype
from .onnx_decode import GraphInfo, ModelInfo, NodeInfo, TensorInfo, read_model_info
from .onnx_wire import WireError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from .onnx_decode import ValueInfo


def read_model(spec: str, path: Path) -> ModelInfo:
    """The model's structure without any tensor data; UsageError if the file is not ONNX."""
    try:
        info = read_model_info(path)
    except OSError as exc:
        raise UsageError(f"cannot read model file {spec!r}: {shorten(exc)}") from exc
    except WireError as exc:
        raise UsageError(
            f"model file {spec!r} is not an ONNX model (cannot parse it: {shorten(exc)})"
        ) from exc
    # Some bytes parse as an empty or nearly empty protobuf message: check what must be there.
    if info.ir_version <= 0 or info.graph is None or not info.graph.outputs:
        raise UsageError(
            f"model file {spec!r} is not an ONNX model (no graph, outputs or IR version in it)"
        )
    return info


def external_locations_of_file(path: Path) -> list[str]:
    try:
        info = read_model_info(path)
    except (OSError, WireError):
        return []  # load_model reports the file itself
    return external_locations(info)


def _all_tensors(info: ModelInfo) -> Iterator[TensorInfo]:
    """Every tensor of a model: initializers, sparse ones, and node attributes, nested."""
    graphs: list[GraphInfo] = [info.graph] if info.graph is not None else []
    nodes: list[NodeInfo] = list(info.function_nodes)
    while graphs or nodes:
        if graphs:
            graph = graphs.pop()
            yield from graph.initializers
            yield from graph.sparse_initializers
            nodes.extend(graph.nodes)
            continue
        node = nodes.pop()
        for attr in node.attributes:
            if attr.t is not None:
                yield attr.t
            yield from attr.tensors
            graphs.extend(attr.graphs)


def external_locations(info: ModelInfo) -> list[str]:
    locations: dict[str, None] = {}
    for tensor in _all_tensors(info):
        if tensor.external and tensor.location:
            locations[tensor.location] = None
    return list(locations)


def dims_of(value_info: ValueInfo) -> tuple[tuple[Dim, ...], bool]:
    """(shape, rank_known) of a graph input or output of tensor type."""
    if value_info.dims is None:
        return (), False
    return value_info.dims, True


def input_specs(graph: GraphInfo) -> list[InputSpec]:
    initializers = {init.name for init in graph.initializers}
    initializers.update(graph.sparse_names)
    specs = []
    for value_info in graph.inputs:
        if value_info.name in initializers:
            continue  # a weight that IR < 4 models list as an (overridable) input
        if value_info.kind != "tensor":
            specs.append(InputSpec(value_info.name, 0, None, (), rank_known=False))
            continue
        elem_type = value_info.elem_type
        shape, rank_known = dims_of(value_info)
        specs.append(
            InputSpec(value_info.name, elem_type, numpy_dtype(elem_type), shape, rank_known)
        )
    return specs


def default_opset(info: ModelInfo) -> int:
    for domain, version in info.opsets:
        if domain in ("", "ai.onnx"):
            return version
    return 0


# Ops whose first input's values reach their output unchanged (only moved or re-typed).
_PASS_THROUGH = frozenset(
    {"Cast", "Identity", "Unsqueeze", "Squeeze", "Reshape", "Flatten", "Expand", "Transpose"}
)
# ORT's fused BERT embedding: input index -> index of the table it looks up.
_EMBED_LAYER_NORM_TABLES = {0: 2, 1: 4, 8: 3}


def index_bounds(graph: GraphInfo, input_names: Iterable[str]) -> dict[str, int]:
    """Inputs that feed the indices of a Gather on a constant table -> that table's row count."""
    tables: dict[str, list[int]] = {init.name: list(init.dims) for init in graph.initializers}
    consumers: dict[str, list[tuple[NodeInfo, int]]] = {}
    for node in graph.nodes:
        if node.op_type == "Constant" and node.outputs:
            for attr in node.attributes:
                if attr.name == "value" and attr.t is not None:
                    tables[node.outputs[0]] = list(attr.t.dims)
        for index, name in enumerate(node.inputs):
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
                    and node.outputs
                    and node.outputs[0] not in seen
                ):
                    seen.add(node.outputs[0])
                    frontier.append(node.outputs[0])
        if bound is not None:
            bounds[input_name] = bound
    return bounds


def _rows_indexed(node: NodeInfo, index: int, tables: dict[str, list[int]]) -> int | None:
    """The size of the table axis that input ``index`` of ``node`` indexes, if it does."""
    if node.op_type == "Gather" and index == 1 and node.inputs[0] in tables:
        dims = tables[node.inputs[0]]
        axis = next((a.i or 0 for a in node.attributes if a.name == "axis"), 0)
        if dims and -len(dims) <= axis < len(dims):
            return dims[axis]
        return None
    if node.op_type == "EmbedLayerNormalization" and index in _EMBED_LAYER_NORM_TABLES:
        table_index = _EMBED_LAYER_NORM_TABLES[index]
        if table_index < len(node.inputs) and node.inputs[table_index] in tables:
            dims = tables[node.inputs[table_index]]
            return dims[0] if dims else None
    return None


# Bits per element of each TensorProto.DataType that a weight can have (strings have no size).
_ELEMENT_BITS = {
    1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64,
    14: 64, 15: 128, 16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4,
}  # fmt: skip


def tensor_bytes(tensor: TensorInfo) -> int:
    """The bytes of a tensor's data from its dims and type (inline or external alike); 0 for
    strings and unknown types."""
    count = 1
    for d in tensor.dims:
        count *= d
    return (count * _ELEMENT_BITS.get(tensor.data_type, 0) + 7) // 8


def weight_bytes(info: ModelInfo) -> tuple[int, int]:
    """(every stored tensor's bytes, the bytes of those only ever gathered from): an embedding
    table feeding Gather is read one row per token, so a decode step does not read it whole."""
    tensors = list(_all_tensors(info))
    total = sum(tensor_bytes(t) for t in tensors)
    gathered: set[str] = set()
    other_uses: set[str] = set()
    graphs = [info.graph] if info.graph is not None else []
    nodes = [n for g in graphs for n in g.nodes] + list(info.function_nodes)
    for node in nodes:
        for k, name in enumerate(node.inputs):
            (gathered if node.op_type == "Gather" and k == 0 else other_uses).add(name)
    tables = gathered - other_uses
    return total, sum(tensor_bytes(t) for t in tensors if t.name in tables)
