"""onnxruntime-genai: a model folder with ``genai_config.json`` run through genai's own
generator, under ``-s generate`` only (``pip install 'pinbench[genai]'``).

Each stream builds its own ``og.Model`` on its pinned thread (so the ONNX Runtime session
inside, and its intra-op pool, inherit the stream's CPU set), from the folder's config with an
overlay of the stream's thread counts: ``session_options`` ``intra_op_num_threads`` = the
stream's cores, one inter-op thread, spinning as pinbench decides for ONNX Runtime (genai's
config takes any other string key as a session config entry). One generator per stream is made
in ``bind()``, its KV cache allocated once there (the builder's models share the past and
present buffers, of ``max_length`` tokens).

The step's calls are those of ``-s generate`` (``engines.generation``): call 0 of a request
rewinds the generator to ``depth`` tokens (kept from the first request; ``rewind_to`` keeps
the cache), appends the prompt's tokens (genai runs the prefill there) and picks the first
token with ``generate_next_token()``; each later call is one ``generate_next_token()``: the
forward pass of the last token and the pick. ``--tokens fixed`` appends the first prompt token
instead of picking. ``min_length`` = ``max_length`` keeps an end-of-sequence token from ending
a request early, so every request has the same calls.

``bind()`` checks one request against the generator's own sequence: after each call it must
hold the tokens fed (and the one picked); the cache lengths that proves are recorded as
``generation_cache_lengths_checked``, as ONNX Runtime's engine records its presents'.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..base.errors import RunError, UsageError, gist, one_line
from .base import Engine, EngineOptions, Step

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ..model.decoder import GenerationRequest
    from ..model.spec import LoadedModel
    from .base import LayoutView

GENAI_CONFIG = "genai_config.json"
_GRAPH_LEVELS = {
    "disable": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}


class GenaiStep:
    """The step of one stream (see the module docstring); not thread-safe: one per stream,
    called by that stream's thread only."""

    def __init__(
        self, og: Any, model: Any, request: GenerationRequest, batch: int, vocab: int
    ) -> None:
        self.request = request
        self.batch = batch
        prompt = max(request.prompt_tokens, 1)
        rng = np.random.default_rng([request.seed, 7])
        # genai takes int32 token ids; made once, so no call allocates them.
        self._prompt = rng.integers(0, vocab, (batch, prompt)).astype(np.int32)
        self._first = np.ascontiguousarray(self._prompt[:, :1])
        self._depth = rng.integers(0, vocab, (batch, request.depth)).astype(np.int32)
        self.max_length = request.depth + prompt + request.calls
        params = og.GeneratorParams(model)
        params.set_search_options(
            max_length=self.max_length,
            min_length=self.max_length,
            do_sample=False,
            batch_size=batch,
        )
        self.generator = og.Generator(model, params)
        if request.depth:
            self.generator.append_tokens(self._depth)  # kept by every request's rewind
        self._fresh = True  # the generator holds the depth tokens only
        self.call = 0

    def __call__(self) -> None:
        k, g, r = self.call, self.generator, self.request
        if k == 0:
            if not self._fresh:
                g.rewind_to(r.depth)
            self._fresh = False
            g.append_tokens(self._prompt if r.prefill else self._first)
            if r.greedy:
                g.generate_next_token()
        elif r.greedy:
            g.generate_next_token()
        else:
            g.append_tokens(self._first)
        self.call = k + 1 if k + 1 < r.calls else 0

    def check_request(self) -> list[int]:
        """Runs one request through the step; returns the cache length after each call, read
        from the generator's sequence (tokens fed, plus the one picked when greedy). RunError
        when the sequence did not grow by the tokens of each call."""
        r = self.request
        lengths = []
        for k in range(r.calls):
            self()
            held = len(self.generator.get_sequence(0))
            fed = r.past_length(k) + r.new_length(k)
            if held != fed + int(r.greedy):
                raise RunError(
                    f"-s generate: call {k} fed {r.new_length(k)} token(s) after "
                    f"{r.past_length(k)}, and onnxruntime-genai's sequence holds {held} tokens, "
                    f"not {fed + int(r.greedy)}"
                )
            lengths.append(fed)
        return lengths


class OnnxRuntimeGenaiEngine(Engine):
    """onnxruntime-genai's generator on the CPU (see the module docstring)."""

    name = "onnxruntime-genai"
    generates = True

    def __init__(self, model: LoadedModel, options: EngineOptions) -> None:
        super().__init__(model, options)
        import onnxruntime_genai as og

        self._og = og
        # genai's telemetry is on by default; a benchmark wants no work beside its own.
        og.disable_telemetry_events()
        self.folder = Path(model.source_path).parent
        if not (self.folder / GENAI_CONFIG).is_file():
            raise UsageError(
                f"-e onnxruntime-genai runs a model folder with {GENAI_CONFIG} (as "
                f"onnxruntime_genai.models.builder writes it); {model.orig_path} has none"
            )
        if options.providers and list(options.providers) != ["CPUExecutionProvider"]:
            raise UsageError("-e onnxruntime-genai runs on the CPU; leave out --providers")
        if options.graph_optimization not in _GRAPH_LEVELS:
            raise UsageError(
                f"unknown graph optimization level {options.graph_optimization!r}: expected one "
                f"of {', '.join(_GRAPH_LEVELS)}"
            )
        try:
            config = json.loads((self.folder / GENAI_CONFIG).read_text())
            self.vocab = int(config.get("model", {}).get("vocab_size") or 2)
        except (ValueError, AttributeError, TypeError) as e:
            raise UsageError(f"{GENAI_CONFIG} in {model.orig_path} is not valid: {e}") from e
        self._overlays: list[dict[str, Any]] = []
        self._cache_lengths: list[int] = []
        self._max_length = 0

    @classmethod
    def version(cls) -> str:
        import onnxruntime_genai

        return str(onnxruntime_genai.__version__)

    def prepare(
        self, layout: LayoutView, *, batch_size: int, input_shapes: Mapping[str, Sequence[int]]
    ) -> None:
        super().prepare(layout, batch_size=batch_size, input_shapes=input_shapes)
        if layout.scenario != "generate" or self.engine_options.generation is None:
            raise UsageError(
                f"-e onnxruntime-genai runs -s generate only (its generator runs whole "
                f"requests), not -s {layout.scenario}; -e onnxruntime runs the folder's "
                "model.onnx one call at a time"
            )

    def overlay(self, threads: int, spinning: bool) -> dict[str, Any]:
        """The JSON laid over the folder's genai_config.json for one stream's model."""
        flag = "1" if spinning else "0"
        session = {
            "intra_op_num_threads": threads,
            "inter_op_num_threads": 1,
            "graph_optimization_level": _GRAPH_LEVELS[self.engine_options.graph_optimization],
            # Any other string key is a session config entry, as ONNX Runtime's engine sets it.
            "session.intra_op.allow_spinning": flag,
            "session.inter_op.allow_spinning": "0",
        }
        return {"model": {"decoder": {"session_options": session}}}

    def create_instance(self, threads: int, *, spinning: bool) -> Any:
        og = self._og
        overlay = self.overlay(threads, spinning)
        try:
            config = og.Config(str(self.folder))
            config.clear_providers()  # the CPU
            config.overlay(json.dumps(overlay))
            model = og.Model(config)
        except Exception as e:
            raise RunError(
                f"onnxruntime-genai cannot load {self.model.orig_path}: {gist(one_line(e), 110)}",
                detail=one_line(e),
            ) from e
        self._counted()
        with self._count_lock:
            self._overlays.append(overlay)
        return model

    def bind(self, instance: Any, inputs: dict[str, Any]) -> Step:
        request = self.engine_options.generation
        assert request is not None  # prepare() refused the other scenarios
        try:
            step = GenaiStep(self._og, instance, request, self.batch_size, self.vocab)
            lengths = step.check_request()
            self.check_step(step, min(2, request.calls))
            for _ in range(request.calls - min(2, request.calls)):
                step()  # the cursor at a request's start when the runner begins
        except RunError:
            raise
        except Exception as e:
            raise RunError(
                f"onnxruntime-genai rejected -s generate's request on {self.model.orig_path}: "
                + gist(one_line(e), 100),
                detail=one_line(e),
            ) from e
        with self._count_lock:
            self._cache_lengths = lengths
            self._max_length = step.max_length
        return step

    def options(self) -> dict[str, object]:
        with self._count_lock:
            overlays = list(self._overlays)
        threads = sorted({o["model"]["decoder"]["session_options"]["intra_op_num_threads"]
                          for o in overlays})  # fmt: skip
        first = overlays[0] if overlays else self.overlay(0, False)
        return {
            "providers": ["cpu"],
            "intra_op_num_threads": threads[0] if len(threads) == 1 else threads,
            "genai_config": str(self.folder / GENAI_CONFIG),
            "config_overlay": first if len(overlays) <= 1 else overlays,
            "search": {"max_length": self._max_length, "min_length": self._max_length},
            "telemetry": "disabled",
            "models": self.instances_created,
            **(
                {"generation_cache_lengths_checked": self._cache_lengths}
                if self._cache_lengths
                else {}
            ),
        }
