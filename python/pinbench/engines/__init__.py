"""Engines pinbench can benchmark, found by name."""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from .base import Engine

# name -> (module of the wrapper, class, the package it needs, the extra that installs it)
BUILTIN_ENGINES: dict[str, tuple[str, str, str, str]] = {
    "onnxruntime": ("pinbench.engines.onnxruntime", "OnnxRuntimeEngine", "onnxruntime", ""),
    "deepsparse": ("", "", "deepsparse", "deepsparse"),
    "openvino": ("", "", "openvino", "openvino"),
}


def engine_class(name: str) -> type[Engine]:
    """The engine class for ``name``; UsageError when unknown or not installed."""
    entry = BUILTIN_ENGINES.get(name)
    if entry is None:
        raise UsageError(f"unknown engine {name!r}: expected one of {', '.join(BUILTIN_ENGINES)}")
    module, cls, package, extra = entry
    if importlib.util.find_spec(package) is None:
        how = f"pip install 'pinbench[{extra}]'" if extra else f"pip install {package}"
        raise UsageError(f"engine {name!r} is not installed: {how}")
    if not module:
        raise UsageError(f"engine {name!r} is not supported by this version of pinbench yet")
    found: type[Engine] = getattr(importlib.import_module(module), cls)
    return found
