"""``load_model``: a model spec resolved, its inputs read, and ``-b`` / ``-shapes`` applied to a
temporary copy (see ``overrides``); ``LoadedModel.path`` names that copy and ``close()`` removes
it. The user's file is only ever read, and only its structure: no tensor data is loaded, and
nothing of the file stays in memory once ``load_model`` returns (see ``onnx_decode``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base.shapes import format_shapes
from .decoder import find_decoder, kv_shapes, plan_kv_shape, with_genai_dims
from .dims import plan_specs
from .graph import (
    default_opset,
    external_locations,
    index_bounds,
    input_specs,
    read_model,
    weight_bytes,
)
from .overrides import (
    check_batch_size,
    check_shapes_fit,
    overridden_shapes,
    overridden_specs,
    shapes_by_name,
    write_copy,
)
from .resolve import resolve_model_path
from .spec import LoadedModel

if TYPE_CHECKING:
    from pathlib import Path

    from .decoder import KvRequest


def load_model(
    spec: str,
    *,
    batch_size: int | None = None,
    input_shapes: str | None = None,
    source: Path | None = None,
    kv_cache: KvRequest | None = None,
) -> LoadedModel:
    """Resolve ``spec``, read its inputs, and apply ``-b`` / ``-shapes`` to a temporary copy.

    ``input_shapes`` is the ``-shapes`` text; ``None`` or ``""`` means no override; ``source``:
    ``spec`` already resolved (``resolve_model_path``), so that a caller can time the two apart.
    ``kv_cache``: when the model is a KV-cache decoder (``model.decoder``), fix its inputs to
    the one forward pass of ``-seq_len`` / ``-input_ids_len`` (``model.kv_shape``) in the copy;
    ``-shapes`` still wins for the inputs it names.
    Without overrides ``path == source_path`` and nothing is copied. Raises UsageError (one
    line) for a missing or non-ONNX file and for overrides that cannot fit the model.

    >>> with load_model("squeezenet", batch_size=4) as model:
    ...     model.describe_inputs()
    'data_0: float32[4,3,224,224]'
    """
    if batch_size is not None:
        check_batch_size(batch_size)
    if input_shapes is not None and not input_shapes.strip():
        input_shapes = None  # the original's default is "": no override
    if source is None:
        source = resolve_model_path(spec)
    info = read_model(spec, source)
    assert info.graph is not None  # read_model checked it
    original = input_specs(info.graph)
    by_name = shapes_by_name(input_shapes, original, batch_size) if input_shapes is not None else {}
    outputs = [output.name for output in info.graph.outputs]
    decoder = find_decoder(original, outputs)
    if decoder is not None:
        decoder = with_genai_dims(decoder, source.parent)
    kv_shape, effective = None, by_name
    if decoder is not None and kv_cache is not None:
        kv_shape = plan_kv_shape(decoder, original, kv_cache.seq_len, kv_cache.input_ids_len)
        planned = kv_shapes(decoder, original, kv_shape, batch_size or 1)
        effective = {**{k: tuple(v) for k, v in planned.items()}, **by_name}
    specs = overridden_specs(original, batch_size, effective)
    # Inputs that -shapes leaves alone show their free dims as -1 here (ONNX's "any").
    applied = (
        [[d if isinstance(d, int) else -1 for d in s.shape] for s in specs] if by_name else None
    )
    data_files = tuple(source.parent / location for location in external_locations(info))
    bounds = index_bounds(info.graph, [s.name for s in original])
    weights, gathered = weight_bytes(info)
    temp_dir, path = None, source
    if batch_size is not None or effective:
        changed = overridden_shapes(info, specs, batch_size is not None, bool(effective))
        if by_name:
            check_shapes_fit(spec, batch_size, input_shapes, original, specs, source, changed)
        temp_dir, path = write_copy(spec, info, source, *changed)
    return LoadedModel(
        orig_path=spec,
        source_path=source,
        path=path,
        inputs=specs,
        outputs=outputs,
        batch_size=batch_size,
        input_shapes=applied,
        opset=default_opset(info),
        ir_version=info.ir_version,
        original_inputs=original,
        index_bounds=bounds,
        shape_overrides=by_name,
        data_files=data_files,
        temp_dir=temp_dir,
        decoder=decoder,
        kv_shape=kv_shape,
        weight_bytes=weights,
        gathered_bytes=gathered,
    )


def suggest_shapes(model: LoadedModel) -> str:
    """A ``-shapes`` value the model's own static dims support, for messages after a failure.

    Free dims get the defaults of ``pinbench.model.dims`` (batch 1).

    >>> with load_model("squeezenet", batch_size=4) as model:
    ...     suggest_shapes(model)
    '-shapes "[1,3,224,224]"'
    """
    specs = model.original_inputs or model.inputs
    shapes = plan_specs([s for s in specs if s.rank_known], batch_size=1).shapes
    if all(s.rank_known for s in specs):
        return f'-shapes "{format_shapes([list(shapes[s.name]) for s in specs])}"'
    return f'-shapes "{format_shapes({n: list(v) for n, v in shapes.items()})}"'
