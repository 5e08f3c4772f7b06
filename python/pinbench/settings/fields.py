"""Settings fields by their dotted path from a settings class (``RunSettings.measure.time``):
what the command line's flag table names, and how a command's values become settings.

Example::

    >>> default_at("RunSettings.measure.time")
    10.0
    >>> with_fields(RunSettings("m.onnx"), {"measure.time": 2.0}).measure.time
    2.0
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Any, TypeVar

from .ab import AbSettings
from .run import RunSettings
from .sweep import SweepSettings

# The classes a field path starts from.
ROOTS: dict[str, type] = {c.__name__: c for c in (RunSettings, SweepSettings, AbSettings)}

T = TypeVar("T")


@functools.cache  # the flag table asks for each path while it builds a parser
def field_at(path: str) -> dataclasses.Field[Any]:
    """The dataclass field at ``path``; KeyError naming the path when there is none."""
    root, *names = path.split(".")
    owner: Any = ROOTS.get(root)
    if owner is None or not names:
        raise KeyError(f"{path}: not a field path from {', '.join(ROOTS)}")
    found: dataclasses.Field[Any] | None = None
    for name in names:
        if not (isinstance(owner, type) and dataclasses.is_dataclass(owner)):
            raise KeyError(f"{path}: {name} is below a field that is not a settings group")
        fields = {f.name: f for f in dataclasses.fields(owner)}
        if name not in fields:
            raise KeyError(f"{path}: {getattr(owner, '__name__', owner)} has no field {name}")
        found = fields[name]
        owner = _hints(owner).get(name)
        # an optional group (FleetSettings | None): its fields are the group's
        owner = next((a for a in typing.get_args(owner) if dataclasses.is_dataclass(a)), owner)
    assert found is not None
    return found


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The class's field annotations, evaluated (they are text under postponed evaluation)."""
    return typing.get_type_hints(cls)


def default_at(path: str) -> Any:
    """The default of the field at ``path`` (its factory's value where it has a factory);
    KeyError when the field has none."""
    f = field_at(path)
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    raise KeyError(f"{path}: no default (a value every caller gives)")


def with_fields(obj: T, values: dict[str, Any]) -> T:
    """A copy of the settings ``obj`` with the fields at the given paths (from ``obj``, without
    the class name: ``measure.time``) replaced; the groups on the way are copied, not changed."""
    top: dict[str, Any] = {}
    below: dict[str, dict[str, Any]] = {}
    for path, value in values.items():
        head, _, rest = path.partition(".")
        if rest:
            below.setdefault(head, {})[rest] = value
        else:
            top[head] = value
    for head, inner in below.items():
        top[head] = with_fields(getattr(obj, head), inner)
    return dataclasses.replace(obj, **top)  # type: ignore[type-var]
