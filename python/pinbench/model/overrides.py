"""``-b`` and ``-shapes`` applied to a copy of the model, never to the user's file.

Overrides are applied to an in-memory copy of the graph and written to a temporary folder, with
the external data files hard-linked (or, across file systems, copied) beside it.

The rule when both are given: ``-shapes`` sets the whole shape of every input it names, and ``-b``
sets dim 0 of every other input (of rank >= 1), fixed or free, as ``deepsparse.benchmark`` does.
Then a dim name that either pinned (``-shapes "input_ids:[1,64]"`` pins ``sequence`` to 64 when
``input_ids`` is ``[batch, sequence]``) takes that value wherever it is still free in the other
inputs, so inputs that share a dim stay consistent.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base.errors import MESSAGE_ROOM, RunError, UsageError, gist, shorten
from .dims import plan_specs
from .graph import dims_of, external_locations
from .spec import Dim, InputSpec

if TYPE_CHECKING:
    from collections.abc import Sequence


def check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise UsageError(f"-b {batch_size}: batch size must be a positive integer, e.g. -b 1")


def _example_shape(spec: InputSpec, batch_size: int) -> list[int]:
    return list(plan_specs([spec], batch_size=batch_size).shapes[spec.name])


def shapes_by_name(
    text: str, specs: Sequence[InputSpec], batch_size: int | None
) -> dict[str, tuple[int, ...]]:
    """Match a ``-shapes`` value to the inputs; UsageError on a count, name or rank mismatch."""
    from ..base.shapes import format_shapes, parse_input_shapes

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


def overridden_specs(
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


def apply_overrides(
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
        shape, rank_known = dims_of(value_info)
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


# Initializers larger than this go to shape inference as their type and dims only.
_SKELETON_BYTES = 1024


def inference_error(proto: Any) -> str | None:
    """What ONNX's strict shape inference finds wrong with ``proto`` (one line), or None when
    the graph infers cleanly. It reads a skeleton of the model: initializers of more than
    ``_SKELETON_BYTES`` keep their type and dims but not their data, so no copy of the weights
    is made (their values are read only by shape-like inputs, which are small)."""
    import onnx

    light = onnx.ModelProto()
    light.ir_version = proto.ir_version
    light.opset_import.extend(proto.opset_import)
    light.functions.extend(proto.functions)
    graph = light.graph
    for name in ("node", "input", "output", "value_info", "sparse_initializer"):
        getattr(graph, name).extend(getattr(proto.graph, name))
    for tensor in proto.graph.initializer:
        if tensor.ByteSize() <= _SKELETON_BYTES:
            graph.initializer.append(tensor)
            continue
        skeleton = graph.initializer.add()
        skeleton.name, skeleton.data_type = tensor.name, tensor.data_type
        skeleton.dims.extend(tensor.dims)
    try:
        onnx.shape_inference.infer_shapes(light, strict_mode=True)
    except Exception as exc:  # InferenceError, and opsets or IR versions onnx does not know
        return " ".join(str(exc).split()) or type(exc).__name__
    return None


def check_overrides_fit(
    spec: str,
    batch_size: int | None,
    shapes_text: str | None,
    original: Sequence[InputSpec],
    specs: Sequence[InputSpec],
    why: str,
) -> None:
    """UsageError naming the -b / -shapes given and the model's own dims they clash with, for
    overrides that made shape inference fail (``why``) on a model that inferred cleanly before
    them."""
    from ..base.shapes import format_shape

    flags = [f"-b {batch_size}"] if batch_size is not None else []
    if shapes_text:
        flags.append(f'-shapes "{" ".join(shapes_text.split())}"')
    given = " ".join(flags)
    fixed = [
        f"{o.name} as {format_shape(o.shape)}"
        for o, s in zip(original, specs)
        if o.rank_known and any(isinstance(d, int) and d != g for d, g in zip(o.shape, s.shape))
    ]
    head = f"{given} does not fit the model"
    if fixed:
        head += f", which fixes {', '.join(fixed[:2])}"
    why = re.sub(r"^\[ShapeInferenceError\] Inference error\(s\): ", "", " ".join(why.split()))
    why = re.sub(
        r"\(op_type:(\w+)(?:, node name: ([^)]*))?\): \[\w+\] ",
        lambda m: f"{m.group(1)} node {m.group(2)}: " if m.group(2) else f"{m.group(1)} node: ",
        why,
    )
    room = max(40, MESSAGE_ROOM - len(head) - len(": ONNX shape inference fails at "))
    raise UsageError(
        f"{head}: ONNX shape inference fails at {gist(why, room)}",
        detail=f"model {spec!r}: {why}",
    )


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


def write_copy(spec: str, proto: Any, source: Path) -> tuple[Path, Path]:
    """Write ``proto`` into a new temporary folder beside links to its external data."""
    locations = external_locations(proto)
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
            f"cannot write the overridden copy of model {spec!r} to {temp_dir}: {shorten(exc)}"
        ) from exc
    return temp_dir, path
