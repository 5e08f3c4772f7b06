"""Engines pinbench can benchmark, found by name, by ``file.py:Class`` or ``module:Class``.

Where ``-e`` looks, in order:

1. a built-in name: ``onnxruntime``, ``openvino``, ``deepsparse``, ``onnxruntime-genai``
   (``-s generate`` only);
2. ``path/to/file.py:ClassName`` (deepsparse.benchmark's form) or ``package.module:ClassName``;
3. a name registered by an installed package under the entry-point group ``pinbench.engines``,
   e.g. in its ``pyproject.toml``: ``[project.entry-points."pinbench.engines"]``
   ``myengine = "mypackage.engine:MyEngine"``.

The class is either a subclass of :class:`pinbench.engines.base.Engine` or a class in the
original's form (``cls(model_path=..., batch_size=..., num_cores=...)`` with ``run(inputs)``),
which :mod:`pinbench.engines.user` adapts.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..base.errors import PinbenchError, UsageError, one_line

if TYPE_CHECKING:
    from .base import Engine

ENTRY_POINT_GROUP = "pinbench.engines"


@dataclass(frozen=True)
class Builtin:
    """A built-in engine: its wrapper, the package it needs and the extra that installs it."""

    module: str
    cls: str
    package: str
    extra: str  # "" = a dependency of pinbench itself
    max_python: tuple[int, int] | None = None  # the newest Python its package installs on


BUILTIN_ENGINES: dict[str, Builtin] = {
    "onnxruntime": Builtin("pinbench.engines.onnxruntime", "OnnxRuntimeEngine", "onnxruntime", ""),
    "openvino": Builtin("pinbench.engines.openvino", "OpenVinoEngine", "openvino", "openvino"),
    "onnxruntime-genai": Builtin(
        "pinbench.engines.onnxruntime_genai", "OnnxRuntimeGenaiEngine", "onnxruntime_genai", "genai"
    ),
    "deepsparse": Builtin(
        "pinbench.engines.deepsparse",
        "DeepSparseEngine",
        "deepsparse",
        "deepsparse",
        (3, 11),  # deepsparse 1.8.0, the last release that installs
    ),
}


@dataclass(frozen=True)
class EngineStatus:
    """One line of ``pinbench --engines``."""

    name: str
    version: str  # "-" when unknown
    available: bool
    why: str  # "available", or why not and how to mend it
    source: str  # "built-in" or the entry point's target


def engine_class(spec: str | type[Any]) -> type[Engine]:
    """The engine class for ``-e spec`` (or a class given directly); UsageError when it cannot
    be found, imported or used."""
    if isinstance(spec, type):
        return _as_engine(spec, spec.__name__, f"{spec.__module__}.{spec.__qualname__}")
    builtin = BUILTIN_ENGINES.get(spec)
    if builtin is not None:
        return _load_builtin(spec, builtin)
    if ":" in spec:
        from .user import load_user_class

        return _as_engine(load_user_class(spec), spec, spec)
    entry = _entry_points().get(spec)
    if entry is not None:
        return _load_entry_point(entry)
    known = [*BUILTIN_ENGINES, *_entry_points()]
    raise UsageError(
        f"unknown engine {spec!r}: expected one of {', '.join(known)}, a path/to/file.py:Class "
        "or a module:Class (pinbench --engines lists them)"
    )


def list_engines() -> list[EngineStatus]:
    """Every built-in and registered engine: its version, and whether it can run here."""
    statuses = [
        _status(name, lambda n=name: engine_class(n), "built-in") for name in BUILTIN_ENGINES
    ]
    for name, entry in sorted(_entry_points().items()):
        if name not in BUILTIN_ENGINES:
            statuses.append(_status(name, lambda e=entry: _load_entry_point(e), entry.value))
    return statuses


def engines_table() -> str:
    """``pinbench --engines``: one line per engine, ``name  version  status``."""
    statuses = list_engines()
    rows = [("engine", "version", "status")]
    for s in statuses:
        where = "" if s.source == "built-in" else f" (entry point {s.source})"
        rows.append((s.name, s.version, s.why + where))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    return "\n".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in rows)


def _status(name: str, load: Any, source: str) -> EngineStatus:
    try:
        cls = load()
        return EngineStatus(name, cls.version(), True, "available", source)
    except PinbenchError as e:
        return EngineStatus(name, _distribution_version(name), False, str(e), source)
    except Exception as e:  # a broken installation: say so, keep listing the others
        why = f"cannot load: {type(e).__name__}: {one_line(e)}"
        return EngineStatus(name, _distribution_version(name), False, why, source)


def _distribution_version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def _load_builtin(name: str, builtin: Builtin) -> type[Engine]:
    if importlib.util.find_spec(builtin.package) is None:
        how = (
            f"pip install 'pinbench[{builtin.extra}]'" if builtin.extra else "pip install pinbench"
        )
        newest = builtin.max_python
        if newest is not None and sys.version_info[:2] > newest:
            how += f" under Python {newest[0]}.{newest[1]} or older"
        raise UsageError(f"engine {name!r} is not installed: {how}")
    found: type[Engine] = getattr(importlib.import_module(builtin.module), builtin.cls)
    return found


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    if sys.version_info >= (3, 10):
        selected = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    else:  # Python 3.9: a dict of groups
        selected = importlib.metadata.entry_points().get(ENTRY_POINT_GROUP, [])
    return {entry.name: entry for entry in selected}


def _load_entry_point(entry: importlib.metadata.EntryPoint) -> type[Engine]:
    try:
        loaded = entry.load()
    except Exception as e:
        raise UsageError(
            f"engine {entry.name!r} (entry point {entry.value}) cannot be imported: "
            f"{type(e).__name__}: {one_line(e)}"
        ) from e
    return _as_engine(loaded, entry.name, f"entry point {entry.value}")


def _as_engine(obj: object, name: str, where: str) -> type[Engine]:
    """``obj`` as an Engine class: itself when it is one, an adapter for the original's form."""
    from .user import as_engine_class

    return as_engine_class(obj, name, where)
