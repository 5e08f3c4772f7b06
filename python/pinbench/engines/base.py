"""The engine protocol: how a benchmark builds, feeds and steps an inference engine.

An engine is made once per run on the main thread (it loads nothing heavy there), then:

0. ``prepare(layout, batch_size=..., input_shapes=...)`` is called once on the main thread,
   before any stream starts: the scenario as resolved (scenario, streams, cores per stream,
   pinning, whether one instance is shared), the batch and each input's shape as run. Engines
   that compile for fixed shapes or pick their own scheduler read it here.
1. ``create_instance(threads, spinning)`` is called on a pinned stream thread: the instance (an
   ONNX Runtime session, say) and its thread pool inherit that thread's CPU set; ``threads`` is
   the number of physical cores of the stream's group. In the ``elastic`` scenario one instance is
   made, on the first stream's thread, pinned to every selected core, and shared. An engine with
   ``schedules_streams = True`` (DeepSparse) gets that shared instance in every scenario and maps
   the scenario onto its own scheduler: each stream is then one request in flight on it. An
   engine with ``shares_inline_instances = True`` (ONNX Runtime) runs a one-core stream's
   inference inline, on the calling thread, and may be stepped by many threads at once: under
   ``--instances auto`` the one-core streams of a NUMA node then share one instance, built by
   the first of them on its thread (the run's ``Layout.instances`` says which stream steps
   which).
2. ``bind(instance, inputs)`` is called on each stream thread with that stream's inputs (numpy
   arrays by input name, in the model's input order, made on that thread). It returns the
   zero-argument **step** the runner times. It should run the step once itself, so that an engine
   that rejects the inputs fails here, with a message naming the input, before any timing starts;
   through ``check_step(step, runs)``, which times each call: the stream's first inferences.
   ``instances_built()`` is called once every stream's step is made, before the clock runs (on
   the thread of the last stream to finish): the engine drops what the steps do not need (a
   model object it compiled from, say), so that it is not held through the measurement.
3. ``describe()``, ``version()`` and ``options()`` say what the engine is and which options it
   resolved; ``scheduler()`` and ``fraction_of_supported_ops()`` fill the original's JSON keys of
   those names. ``instances_created`` counts the instances built. All go into the report and JSON.
4. Profiling (``--profile DIR``, optional): an engine with a per-operator profiler names it in
   ``profiler``. After the measured window pinbench makes a fresh engine whose
   ``engine_options.profile_dir`` is DIR; it builds profiled instances (the profiler on, its files
   written into DIR), each stream steps its instance ``iterations`` times, and
   ``profile_results(iterations)`` returns the operators' times. ``profiler = ""`` (the default,
   so every user engine unless it says otherwise) means none: the pass is skipped, saying so.

Failures are ``UsageError`` (the request cannot work as written) or ``RunError`` (the engine
refused the model or the inputs), each with a one-line message.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    import numpy as np

    from ..base.profiling import OperatorProfile
    from ..model.decoder import GenerationRequest
    from ..model.spec import LoadedModel

Step = Callable[[], object]


class LayoutView(Protocol):
    """What an engine reads of the run's layout (``pinbench.run.layout.Layout`` satisfies it)."""

    @property
    def scenario(self) -> str: ...  # async | sync | elastic | server
    @property
    def num_streams(self) -> int: ...
    @property
    def pinning(self) -> str: ...  # core | numa | none
    @property
    def shared_instance(self) -> bool: ...  # one instance serves every stream


@dataclass(frozen=True)
class EngineOptions:
    """Options a user may set for an engine; each engine reads those that apply to it."""

    providers: tuple[str, ...] = ()  # ONNX Runtime execution providers; () = CPU only
    graph_optimization: str = "all"  # disable | basic | extended | all
    spinning: bool | None = None  # intra-op threads spin between ops; None = engine's default
    precision: str | None = None  # OpenVINO inference precision (f32 | bf16 | f16); None = f32
    profile_dir: str | None = None  # build profiled instances writing into this folder (--profile)
    # -s generate: bind() returns a step whose calls run this request's forward passes in turn
    # (only engines with ``generates = True``).
    generation: GenerationRequest | None = None
    # DeepSparse keeps a KV-cache decoder's cache inside the engine (deepsparse.benchmark's
    # default; --no-internal-kv-cache turns it off): set only for a decoder on DeepSparse.
    internal_kv_cache: bool = False
    kv_cache_tokens: int = 1  # --num-kv-cache-tokens: tokens the internal cache holds


class Engine(ABC):
    """Base class of every engine wrapper. Subclasses set ``name`` and implement the steps.

    Example: a minimal engine that calls a function of the inputs::

        class Doubling(Engine):
            name = "doubling"

            @classmethod
            def version(cls) -> str:
                return "1.0"

            def create_instance(self, threads, *, spinning):
                self._counted()
                return lambda arrays: [a * 2 for a in arrays]

            def bind(self, instance, inputs):
                arrays = list(inputs.values())
                return lambda: instance(arrays)

            def options(self):
                return {}
    """

    name: ClassVar[str]
    # True: one instance serves every stream in every scenario, and the engine maps the scenario
    # onto a scheduler of its own (DeepSparse). Every stream then runs on all selected cores and
    # is one request in flight on the shared instance.
    schedules_streams: ClassVar[bool] = False
    # True: with one thread (``create_instance(1, ...)``) an instance runs each inference inline
    # on the calling thread, and several threads may step one instance at once, each through
    # its own ``bind``. ``--instances auto`` then shares one instance among the one-core streams
    # of each NUMA node; False (the safe default for engines that do not say) gives each stream
    # its own. ``--instances node`` shares them anyway.
    shares_inline_instances: ClassVar[bool] = False
    # The per-operator profiler of ``--profile`` in a few words (e.g. "ONNX Runtime's profiler");
    # "" = this engine has none.
    profiler: ClassVar[str] = ""
    # True: with ``engine_options.generation`` set, ``bind()`` returns a step that runs a KV-cache
    # decoder's requests, one forward pass per call (``-s generate``).
    generates: ClassVar[bool] = False

    # Set by prepare(); REQUIRES prepare() before create_instance() for engines that read them.
    layout: LayoutView
    batch_size: int
    input_shapes: dict[str, list[int]]

    def __init__(self, model: LoadedModel, options: EngineOptions) -> None:
        self.model = model
        self.engine_options = options
        self._count_lock = threading.Lock()
        self.instances_created = 0
        self._first_calls: dict[int, list[int]] = {}  # thread ident -> ns of each call

    @classmethod
    @abstractmethod
    def version(cls) -> str:
        """The version of the engine library."""

    def prepare(
        self, layout: LayoutView, *, batch_size: int, input_shapes: Mapping[str, Sequence[int]]
    ) -> None:
        """Called once on the main thread before any stream starts (see the module docstring).

        The default keeps the three as ``layout``, ``batch_size`` and ``input_shapes``.
        """
        self.layout = layout
        self.batch_size = batch_size
        self.input_shapes = {name: list(shape) for name, shape in input_shapes.items()}

    @abstractmethod
    def create_instance(self, threads: int, *, spinning: bool) -> Any:
        """Builds one engine instance on the calling (pinned) thread, for ``threads`` cores."""

    @abstractmethod
    def bind(self, instance: Any, inputs: dict[str, np.ndarray]) -> Step:
        """Returns the step that runs one inference of ``instance`` on ``inputs``."""

    @abstractmethod
    def options(self) -> dict[str, object]:
        """The options as resolved (providers, thread counts, optimisation level...)."""

    def instances_built(self) -> None:
        """Every instance is built and bound: release what the steps do not need (default:
        nothing). Called once, before the clock runs."""
        return

    def check_step(self, step: Step, runs: int = 1) -> None:
        """Runs ``step`` ``runs`` times, as ``bind()`` does before any timing starts (so that
        rejected inputs fail there; exceptions propagate), timing each call on the monotonic
        clock: the calling stream's first inferences (``first_inferences()``)."""
        times: list[int] = []
        try:
            for _ in range(runs):
                start = time.monotonic_ns()
                step()
                times.append(time.monotonic_ns() - start)
        finally:
            with self._count_lock:
                self._first_calls.setdefault(threading.get_ident(), []).extend(times)

    def first_inferences(self) -> tuple[int, ...]:
        """The calling thread's calls timed by ``check_step`` (ns, in order), taken once: () when
        its ``bind()`` ran none."""
        with self._count_lock:
            return tuple(self._first_calls.pop(threading.get_ident(), ()))

    def profile_results(self, iterations: int) -> OperatorProfile | None:
        """After a profiled pass (see the module docstring): the operators' times over the
        ``iterations`` steps every stream made after ``bind()``. None (the default) when the
        engine has none."""
        return None

    def describe(self) -> str:
        """A multi-line description, as the original's ``engine`` JSON key holds."""
        lines = [f"{self.name} {self.version()}:", f"\tonnx_file_path: {self.model.source_path}"]
        lines += [f"\t{k}: {v}" for k, v in self.options().items()]
        return "\n".join(lines)

    def scheduler(self) -> str:
        """The original's ``scheduler`` JSON key: ``"None"`` unless the engine has schedulers."""
        return "None"

    def fraction_of_supported_ops(self) -> float | None:
        """The original's ``fraction_of_supported_ops`` key: None unless the engine reports it."""
        return None

    def _counted(self) -> None:
        with self._count_lock:
            self.instances_created += 1
