"""Your own engine: ``-e path/to/file.py:ClassName``, ``-e module:ClassName`` or an entry point.

The class is either

- a subclass of :class:`pinbench.engines.base.Engine` (the full protocol: built on each pinned
  stream thread, inputs bound once, its own options in the JSON), used as it is; or
- a class in deepsparse.benchmark's custom-engine form, adapted here::

      class MyEngine:
          def __init__(self, model_path: str, batch_size: int, num_cores: int): ...
          def run(self, inputs: list[numpy.ndarray]) -> object: ...
          def generate_random_inputs(self) -> list[numpy.ndarray]: ...  # optional

  One object is built per engine instance of the scenario table (per stream in ``async``, one
  shared in ``sync`` and ``elastic``), on the stream's pinned thread, with ``num_cores`` = the
  stream's cores and ``model_path`` = the model as run (a temporary copy when ``-b`` or
  ``-shapes`` changed it). The step is ``run(inputs)`` with the inputs in the model's order:
  pinbench's seeded inputs, or those of ``generate_random_inputs()`` when the class has it (as
  the original did). ``run`` may release the GIL; if it does not, streams take turns.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..base.errors import RunError, UsageError, one_line
from .base import Engine, Step

if TYPE_CHECKING:
    import numpy as np


def load_user_class(spec: str) -> object:
    """The object named by ``path/to/file.py:Name`` or ``package.module:Name``."""
    where, _, attr = spec.rpartition(":")
    if not where or not attr:
        raise UsageError(f"engine {spec!r}: expected path/to/file.py:ClassName or module:ClassName")
    if where.endswith(".py") or "/" in where or Path(where).is_file():
        module = _import_file(spec, Path(where))
    else:
        module = _import_module(spec, where)
    try:
        found: object = getattr(module, attr)
    except AttributeError:
        raise UsageError(f"engine {spec!r}: {where} defines no {attr!r}") from None
    return found


def _import_module(spec: str, where: str) -> Any:
    """Imports ``where`` as ``python -m`` would: the current folder is searched first (a console
    script does not put it on ``sys.path``)."""
    here = str(Path.cwd())
    added = here not in sys.path and "" not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        return importlib.import_module(where)
    except Exception as e:
        raise UsageError(f"engine {spec!r}: cannot import module {where!r}: {_line(e)}") from e
    finally:
        if added:
            sys.path.remove(here)


def _import_file(spec: str, path: Path) -> Any:
    if not path.is_file():
        raise UsageError(f"engine {spec!r}: no such file {path}")
    name = f"pinbench_user_engine_{path.stem}"
    loaded = sys.modules.get(name)
    if loaded is not None and Path(getattr(loaded, "__file__", "")).resolve() == path.resolve():
        return loaded  # imported once per process, as any module
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise UsageError(f"engine {spec!r}: {path} is not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up here
    try:
        module_spec.loader.exec_module(module)
    except Exception as e:
        del sys.modules[name]
        raise UsageError(f"engine {spec!r}: importing {path} failed: {_line(e)}") from e
    return module


def as_engine_class(obj: object, name: str, where: str) -> type[Engine]:
    """``obj`` as an Engine class; UsageError naming ``where`` when it cannot be one."""
    if not isinstance(obj, type):
        raise UsageError(f"engine {where} is not a class")
    if issubclass(obj, Engine):
        if inspect.isabstract(obj):
            missing = ", ".join(sorted(getattr(obj, "__abstractmethods__", ())))
            raise UsageError(f"engine {where} does not implement {missing}")
        if not isinstance(getattr(obj, "name", None), str):
            raise UsageError(f"engine {where} must set the class attribute `name`")
        return obj
    if not callable(getattr(obj, "run", None)):
        raise UsageError(
            # The path is the user's and may be long: the one line keeps what is wrong.
            f"engine {where} is neither a pinbench Engine subclass nor a class with run(inputs)"
        )
    engine_name, user_class = name, obj

    class Adapted(OriginalFormEngine):
        name = engine_name
        wrapped = user_class

    Adapted.__name__ = Adapted.__qualname__ = f"OriginalForm[{obj.__name__}]"
    return Adapted


class OriginalFormEngine(Engine):
    """Adapter for a class in deepsparse.benchmark's custom-engine form (see the module doc).

    REQUIRES: a subclass made by ``as_engine_class`` sets ``wrapped`` and ``name``.
    """

    wrapped: ClassVar[type]

    @classmethod
    def version(cls) -> str:
        module = sys.modules.get(cls.wrapped.__module__)
        found = getattr(cls.wrapped, "__version__", None) or getattr(module, "__version__", None)
        return str(found) if found is not None else "unknown"

    def create_instance(self, threads: int, *, spinning: bool) -> Any:
        cls = self.wrapped
        try:
            instance = cls(
                model_path=str(self.model.path), batch_size=self.batch_size, num_cores=threads
            )
        except Exception as e:
            raise RunError(
                f"engine {self.name}: {cls.__name__}(model_path=..., batch_size="
                f"{self.batch_size}, num_cores={threads}) failed: {_line(e)}"
            ) from e
        self._counted()
        return instance

    def bind(self, instance: Any, inputs: dict[str, np.ndarray]) -> Step:
        arrays = list(inputs.values())
        if callable(getattr(instance, "generate_random_inputs", None)):
            try:
                arrays = list(instance.generate_random_inputs())
            except Exception as e:
                raise RunError(
                    f"engine {self.name}: generate_random_inputs() failed: {_line(e)}"
                ) from e
        step = functools.partial(instance.run, arrays)
        try:
            self.check_step(step)  # fail here, with a clear message, not in the timed loop
        except Exception as e:
            shapes = ", ".join(f"{a.dtype}{list(a.shape)}" for a in arrays)
            raise RunError(
                f"engine {self.name}: run() on inputs {shapes} failed: {_line(e)}"
            ) from e
        return step

    def options(self) -> dict[str, object]:
        return {
            "class": f"{self.wrapped.__module__}.{self.wrapped.__qualname__}",
            "form": "deepsparse.benchmark custom engine (model_path, batch_size, num_cores; run)",
            "inputs": (
                "generate_random_inputs()"
                if callable(getattr(self.wrapped, "generate_random_inputs", None))
                else "pinbench"
            ),
            "batch_size": self.batch_size,
            "instances": self.instances_created,
        }


def _line(e: BaseException) -> str:
    """The user's exception with its type: ``ValueError: message``."""
    text = one_line(e)
    return f"{type(e).__name__}: {text}" if text != type(e).__name__ else text
