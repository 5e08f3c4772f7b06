"""The engine protocol: how a benchmark builds, feeds and steps an inference engine.

An engine is made once per run on the main thread (it loads nothing heavy there), then:

1. ``create_instance(threads, spinning)`` is called on a pinned stream thread: the instance (an
   ONNX Runtime session, say) and its thread pool inherit that thread's CPU set; ``threads`` is
   the number of physical cores of the stream's group. In the ``elastic`` scenario one instance is
   made, on the first stream's thread, pinned to every selected core, and shared.
2. ``bind(instance, inputs)`` is called on each stream thread with that stream's inputs (numpy
   arrays by input name, made on that thread). It returns the zero-argument **step** the runner
   times. It should run the step once itself, so that an engine that rejects the inputs fails
   here, with a message naming the input, before any timing starts.
3. ``describe()`` and ``options()`` say what the engine is and which options it resolved; they
   go into the report and the JSON.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np

    from ..models import LoadedModel

Step = Callable[[], object]


@dataclass(frozen=True)
class EngineOptions:
    """Options a user may set for an engine; each engine reads those that apply to it."""

    providers: tuple[str, ...] = ()  # ONNX Runtime execution providers; () = CPU only
    graph_optimization: str = "all"  # disable | basic | extended | all
    spinning: bool | None = None  # intra-op threads spin between ops; None = engine's default


class Engine(ABC):
    """Base class of every engine wrapper. Subclasses set ``name`` and implement the three steps."""

    name: ClassVar[str]

    def __init__(self, model: LoadedModel, options: EngineOptions) -> None:
        self.model = model
        self.engine_options = options
        self._count_lock = threading.Lock()
        self.instances_created = 0

    @classmethod
    @abstractmethod
    def version(cls) -> str:
        """The version of the engine library."""

    @abstractmethod
    def create_instance(self, threads: int, *, spinning: bool) -> Any:
        """Builds one engine instance on the calling (pinned) thread, for ``threads`` cores."""

    @abstractmethod
    def bind(self, instance: Any, inputs: dict[str, np.ndarray]) -> Step:
        """Returns the step that runs one inference of ``instance`` on ``inputs``."""

    @abstractmethod
    def options(self) -> dict[str, object]:
        """The options as resolved (providers, thread counts, optimisation level...)."""

    def describe(self) -> str:
        """A multi-line description, as the original's ``engine`` JSON key holds."""
        lines = [f"{self.name} {self.version()}:", f"\tonnx_file_path: {self.model.source_path}"]
        lines += [f"\t{k}: {v}" for k, v in self.options().items()]
        return "\n".join(lines)

    def _counted(self) -> None:
        with self._count_lock:
            self.instances_created += 1
