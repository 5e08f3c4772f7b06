"""The first half of a benchmark: the model resolved and loaded, the inputs planned, the engine
class found and the machine read, once per model and input configuration.

A search (auto streams, find-qps, a sweep at one batch size) runs many layouts over one Prepared.

Example::

    >>> settings = RunSettings.from_kwargs("squeezenet").validate()  # doctest: +SKIP
    >>> with prepare(settings) as p:  # doctest: +SKIP
    ...     print(p.model.describe_inputs(), p.batch_size)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..base.errors import RunError, UsageError
from ..base.logs import log
from ..base.system import available_memory
from ..engines import engine_class
from ..engines.base import EngineOptions
from ..engines.generation import check_decoder
from ..model.data import load_inputs
from ..model.decoder import GenerationRequest, KvRequest
from ..model.dims import resolve_shapes
from ..model.inputs import check_inputs_fit, generate_inputs
from ..model.load import load_model
from ..model.overrides import check_batch_size
from ..model.resolve import resolve_model_path
from ..result.startup import StartMarks
from .topology import topology

if TYPE_CHECKING:
    from types import TracebackType

    import numpy as np

    from .._core import Topology
    from ..engines.base import Engine
    from ..model.spec import LoadedModel
    from ..settings import RunSettings

MakeInputs = Callable[[int], dict[str, "np.ndarray"]]


@dataclass
class Prepared:
    """A loaded model with its inputs' plan and engine class; ``close()`` removes temporary
    copies (use it as a context manager)."""

    settings: RunSettings  # the settings it was prepared for (model and inputs)
    model: LoadedModel
    engine_class: type[Engine]
    engine_options: EngineOptions
    make_inputs: MakeInputs  # stream index -> its inputs, made on that stream's thread
    shapes: dict[str, list[int]]  # each input's shape as run
    input_source: str  # "generated (seed N)" or "from FILE"
    batch_size: int  # the batch that items/sec counts
    topology: Topology
    # Where the start-up is counted from, and its marks so far (model read, ...).
    start: StartMarks = field(default_factory=lambda: StartMarks("call", time.monotonic_ns()))
    announced: bool = False  # the model and its inputs were logged

    def announce(self) -> None:
        """Logs the model and its inputs, once: only after everything that can be checked
        before a run has been (``run.execute.checked_engine``), so no line precedes a usage
        error."""
        if self.announced:
            return
        self.announced = True
        log.info("model %s: %s", self.model.orig_path, self.model.describe_inputs())
        shapes = ", ".join(f"{k}{v}" for k, v in self.shapes.items())
        log.info("inputs %s: %s", self.input_source, shapes)
        self._announce_kv_cache()

    def _announce_kv_cache(self) -> None:
        """What the KV-cache flags did: the forward pass they fixed, who holds the cache; a
        warning when they were given for a model that is no decoder."""
        s, decoder, shape = self.settings, self.model.decoder, self.model.kv_shape
        if decoder is None:
            # -seq_len alone is no mistake: it sets the free sequence dims of any model.
            if s.kv_cache.given():
                log.warning(
                    "-input_ids_len and the KV-cache options apply to KV-cache decoders (an "
                    "input named past_key_values..., past_key_N or past.N); this model has none"
                )
            return
        what = f"KV-cache decoder ({decoder.convention}, {len(decoder.caches)} cache inputs)"
        if shape is not None:
            log.info(
                "%s: one forward pass of %d new token(s) at a context of %d (past %d; "
                "sequence length from %s)",
                what,
                shape.input_ids_len,
                shape.seq_len,
                shape.past_len,
                shape.seq_len_source,
            )
        elif not s.generates:
            log.info("%s: shapes as the model and -shapes give them "
                     "(--disable-kv-cache-overrides)", what)  # fmt: skip
        engine = self.engine_class.name
        if engine == "onnxruntime-genai":  # its generator holds the cache
            return
        if self.engine_options.internal_kv_cache:
            log.info(
                "the KV cache is internal to DeepSparse (the engine built with cached_outputs, "
                "NM_BENCHMARK_KV_TOKENS=%d from --num-kv-cache-tokens; the past inputs run with "
                "batch 0), as deepsparse.benchmark runs it; --no-internal-kv-cache: external",
                self.engine_options.kv_cache_tokens,
            )
        elif engine != "deepsparse" and s.kv_cache.internal_kv_cache is not False:
            log.info(
                "the KV cache is external with %s: its tensors are inputs and outputs, as "
                "deepsparse.benchmark's --no-internal-kv-cache runs it",
                engine,
            )

    def close(self) -> None:
        self.model.close()

    def __enter__(self) -> Prepared:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def prepare(settings: RunSettings, start: StartMarks | None = None) -> Prepared:
    """Resolves and loads the model, plans its inputs and finds the engine class.

    ``start``: where the start-up is counted from (default: this call); the ``imports``,
    ``resolve`` and ``model`` marks are set on it. REQUIRES: ``settings`` validated. Raises
    UsageError / RunError with one line.
    """
    start = start or StartMarks("call", time.monotonic_ns())
    start.mark("imports", time.monotonic_ns())
    topo = topology()
    cls = engine_class(settings.engine.engine)
    inputs = settings.inputs
    if inputs.batch_size is not None:
        check_batch_size(inputs.batch_size)  # before a zoo: or hf: download
    model_file = resolve_model_path(settings.model)
    start.mark("resolve", time.monotonic_ns())
    loaded = load_model(
        settings.model,
        batch_size=inputs.batch_size,
        input_shapes=inputs.input_shapes or None,
        source=model_file,
        kv_cache=kv_request(settings),
    )
    try:
        make_inputs, shapes, source = input_maker(loaded, settings)
        # Without -b the model keeps its own dims (free ones get the documented defaults, batch
        # 1), and the batch that items/sec counts is dim 0 of the first input as run.
        batch = inputs.batch_size or batch_of(shapes)
        e = settings.engine
        options = EngineOptions(
            e.providers,
            e.graph_optimization,
            e.spinning,
            e.precision,
            generation=generation_request(settings, cls, loaded),
            internal_kv_cache=loaded.decoder is not None and internal_kv_cache(settings, cls.name),
            kv_cache_tokens=settings.kv_cache.num_kv_cache_tokens or 1,  # the original's default
        )
        start.mark("model", time.monotonic_ns())
        return Prepared(
            settings, loaded, cls, options, make_inputs, shapes, source, batch, topo, start
        )
    except BaseException:
        loaded.close()
        raise


def generation_request(
    settings: RunSettings, cls: type[Engine], model: LoadedModel
) -> GenerationRequest | None:
    """-s generate's request (None in the other scenarios); UsageError when the engine or the
    model cannot run it."""
    if not settings.generates:
        return None
    if not cls.generates:
        raise UsageError(
            f"-s generate runs on engines that feed a decoder's cache back call by call "
            f"(onnxruntime); {cls.name} does not"
        )
    check_decoder(model.decoder, model.orig_path)
    g = settings.generation
    return GenerationRequest(
        g.prompt_tokens, g.new_tokens, g.depth, g.tokens == "greedy", settings.inputs.seed
    )


def internal_kv_cache(settings: RunSettings, engine: str) -> bool:
    """Whether DeepSparse keeps a decoder's cache itself: its engine, and
    --no-internal-kv-cache not given (deepsparse 1.8.0's default is the internal cache)."""
    return engine == "deepsparse" and settings.kv_cache.internal_kv_cache is not False


def kv_request(settings: RunSettings) -> KvRequest | None:
    """What the KV-cache flags fix on a decoder: one forward pass in the single-call
    scenarios; nothing with ``--disable-kv-cache-overrides`` or for generation requests (whose
    calls change the lengths)."""
    if settings.kv_cache.disable_kv_cache_overrides or settings.generates:
        return None
    return KvRequest(settings.inputs.sequence_length, settings.kv_cache.input_ids_length)


def batch_of(shapes: dict[str, list[int]]) -> int:
    """The batch of inputs as run: dim 0 of the first input (1 for a scalar)."""
    first = next(iter(shapes.values()), [])
    return first[0] if first else 1


def input_maker(
    model: LoadedModel, settings: RunSettings
) -> tuple[MakeInputs, dict[str, list[int]], str]:
    """(make_inputs(stream), shapes, source). Inputs are made (or copied) on each stream thread,
    so their memory is first touched on that stream's NUMA node."""
    inputs = settings.inputs
    if inputs.data:
        given = load_inputs(inputs.data, model)
        return (
            lambda i: {k: v.copy() for k, v in given.items()},
            {k: list(v.shape) for k, v in given.items()},
            f"from {inputs.data}",
        )
    batch, seed, seq = inputs.batch_size or 1, inputs.seed, inputs.sequence_length

    def make(i: int) -> dict[str, Any]:
        return generate_inputs(model, batch_size=batch, seed=seed, seq_len=seq)

    planned = resolve_shapes(model, batch_size=batch, seq_len=seq)
    check_inputs_fit(model, planned, available_memory())
    # Generated once here, to validate and report; each stream regenerates the same on its thread.
    try:
        sample = make(0)
    except MemoryError as e:
        check_inputs_fit(model, planned, 0)  # raises RunError with the sizes
        raise RunError(f"out of memory generating the inputs: {e}") from e
    return make, {k: list(v.shape) for k, v in sample.items()}, f"generated (seed {seed})"
