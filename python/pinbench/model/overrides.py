"""``-b`` and ``-shapes`` applied to a copy of the model, never to the user's file.

Overrides are written into a copy in a temporary folder (``onnx_encode.write_with_shapes``: only
the graph's input and output shapes are re-encoded, every other byte is copied as it is), with
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
from typing import TYPE_CHECKING

from ..base.errors import MESSAGE_ROOM, RunError, UsageError, gist, shorten
from .dims import plan_specs
from .graph import dims_of, external_locations
from .input_spec import Dim, InputSpec
from .onnx_encode import write_with_shapes
from .onnx_wire import WireError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .onnx_decode import ModelInfo

Shapes = dict[str, tuple[Dim, ...]]  # graph input or output name -> its new shape


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


def overridden_shapes(
    info: ModelInfo, specs: Sequence[InputSpec], batch_changed: bool, shapes_changed: bool
) -> tuple[Shapes, Shapes]:
    """(inputs, outputs): the new shape of every graph input that ``specs`` describe, and the
    outputs with the fixed dims that the new input shapes may change freed."""
    assert info.graph is not None  # read_model checked it
    by_name = {spec.name: spec for spec in specs}
    inputs: Shapes = {}
    for value_info in info.graph.inputs:
        spec = by_name.get(value_info.name)
        if spec is not None and spec.rank_known and spec.elem_type:
            inputs[value_info.name] = tuple(spec.shape)
    outputs: Shapes = {}
    for value_info in info.graph.outputs:
        if value_info.kind != "tensor":
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
        outputs[value_info.name] = tuple(freed)
    return inputs, outputs


def inference_error(source: Path, folder: Path, inputs: Shapes, outputs: Shapes) -> str | None:
    """What ONNX's strict shape inference finds wrong with ``source`` given the ``inputs`` and
    ``outputs`` shapes (one line), or None when the graph infers cleanly.

    It reads a skeleton of the model, written into ``folder`` and removed again
    (``onnx_encode.write_with_shapes(skeleton=True)``): the weights' dims, not their data, so
    neither the weights nor a copy of them is read. Costs the ``onnx`` import, so it runs for
    ``-shapes`` only."""
    import onnx

    path = folder / ".skeleton.onnx"
    try:
        write_with_shapes(source, path, inputs, outputs, skeleton=True)
        model = onnx.load(str(path), load_external_data=False)
        onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except (OSError, WireError):
        return None  # the real copy's writer or the engine will say what is wrong
    except Exception as exc:  # InferenceError, and opsets or IR versions onnx does not know
        return " ".join(str(exc).split()) or type(exc).__name__
    finally:
        path.unlink(missing_ok=True)
    return None


def check_shapes_fit(
    spec: str,
    batch_size: int | None,
    shapes_text: str | None,
    original: Sequence[InputSpec],
    specs: Sequence[InputSpec],
    source: Path,
    changed: tuple[Shapes, Shapes],
) -> None:
    """UsageError when ONNX shape inference takes the model as it is but not with the new
    shapes ``changed`` (inputs, outputs): the ``-shapes`` given named against the model's dims.
    A graph that does not infer cleanly as it is tells nothing about the shapes: then nothing
    is said, and the engine judges."""
    with tempfile.TemporaryDirectory(prefix="pinbench-") as folder:
        if inference_error(source, Path(folder), {}, {}) is not None:
            return
        why = inference_error(source, Path(folder), *changed)
    if why is not None:
        check_overrides_fit(spec, batch_size, shapes_text, original, specs, why)


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


def write_copy(
    spec: str, info: ModelInfo, source: Path, inputs: Shapes, outputs: Shapes
) -> tuple[Path, Path]:
    """Write a copy of ``source`` with the new ``inputs`` and ``outputs`` shapes (and no
    inferred ``value_info``) into a new temporary folder, beside links to its external data."""
    locations = external_locations(info)
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
        write_with_shapes(source, path, inputs, outputs)
    except UsageError:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    except (OSError, WireError, ValueError) as exc:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise RunError(
            f"cannot write the overridden copy of model {spec!r} to {temp_dir}: {shorten(exc)}"
        ) from exc
    return temp_dir, path
