"""DeepSparse (``deepsparse==1.8.0``, Python <= 3.11): one engine shared by every stream.

DeepSparse schedules concurrent requests itself, so it gets one engine in every scenario
(``schedules_streams``), built on the first stream's thread with ``num_cores`` = all selected
cores, and each pinbench stream is one request in flight on it:

| scenario | DeepSparse scheduler | ``num_streams`` |
|---|---|---|
| sync | ``single_stream`` | 1 |
| async | ``multi_stream`` | the streams |
| elastic | ``elastic`` | the streams |
| server | ``multi_stream`` | the streams |

The batch is compiled in (DeepSparse's ``batch_size``); the model is the one pinbench runs (its
temporary copy when ``-b`` or ``-shapes`` changed it), with free dimensions left as they are, as
deepsparse.benchmark left them: DeepSparse's own ``input_shapes`` would rewrite the model file in
place, and DeepSparse 1.8.0's compiler aborted the process on a small static transformer graph
that it runs, through its ONNX Runtime fallback, when the sequence dimension is free. ``-pin``
sets the variables DeepSparse reads (``NM_BIND_THREADS_TO_CORES``, ``NM_BIND_THREADS_TO_SOCKETS``)
as deepsparse.benchmark did.

A KV-cache decoder (``model.decoder``) runs with DeepSparse's internal cache unless
``--no-internal-kv-cache``, as deepsparse.benchmark 1.8.0 runs it: ``NM_BENCHMARK_KV_TOKENS``
(``--num-kv-cache-tokens``, the tokens the cache is held at) set before the engine is built, the
engine built with ``cached_outputs`` (one bool per output: its name starts with ``present``), the
cache inputs given with batch 0, and each step ``execute_list_out(inputs, kv_cache)`` with a
``kv_cache(0, 0)`` object of DeepSparse's library (one per stream, where the original shared one
among its threads).

DeepSparse has no per-operator profiler pinbench can read:
``--profile`` says so and runs no profiled pass. Usage analytics are off
(``NM_DISABLE_ANALYTICS=1``, set before deepsparse is imported): a benchmark makes no network
calls.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from typing import TYPE_CHECKING, Any

from ..base.errors import RunError, UsageError, one_line
from ..base.system import quiet_neural_magic
from .base import Engine, EngineOptions, Step

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy as np

    from ..model.spec import LoadedModel
    from .base import LayoutView

SCHEDULERS = {
    "sync": "single_stream",
    "async": "multi_stream",
    "elastic": "elastic",
    "server": "multi_stream",  # as async; the queries arrive open-loop
}
# -pin -> the variables deepsparse.benchmark set for it
PINNING_ENV = {
    "core": {"NM_BIND_THREADS_TO_CORES": "1", "NM_BIND_THREADS_TO_SOCKETS": "0"},
    "numa": {"NM_BIND_THREADS_TO_CORES": "0", "NM_BIND_THREADS_TO_SOCKETS": "1"},
    "none": {"NM_BIND_THREADS_TO_CORES": "0", "NM_BIND_THREADS_TO_SOCKETS": "0"},
}


def import_deepsparse() -> Any:
    """``deepsparse``, imported with its analytics off; UsageError when it cannot load here."""
    quiet_neural_magic()  # read by deepsparse and sparsezoo at import
    if "deepsparse" in sys.modules:
        return sys.modules["deepsparse"]
    try:
        with warnings.catch_warnings():  # its dependencies' deprecation notices are not ours
            warnings.simplefilter("ignore")
            import deepsparse
    except Exception as e:  # e.g. a CPU or an OS its library does not support
        raise UsageError(f"engine 'deepsparse' cannot load here: {one_line(e)}") from e
    return deepsparse


class DeepSparseEngine(Engine):
    """DeepSparse; see the module docstring for the scenario table."""

    name = "deepsparse"
    schedules_streams = True

    def __init__(self, model: LoadedModel, options: EngineOptions) -> None:
        super().__init__(model, options)
        self._deepsparse = import_deepsparse()
        self._instance: Any = None

    @classmethod
    def version(cls) -> str:
        return str(import_deepsparse().__version__)

    def prepare(
        self, layout: LayoutView, *, batch_size: int, input_shapes: Mapping[str, Sequence[int]]
    ) -> None:
        super().prepare(layout, batch_size=batch_size, input_shapes=input_shapes)
        os.environ.update(PINNING_ENV[layout.pinning])  # read when the engine is built

    def create_instance(self, threads: int, *, spinning: bool) -> Any:
        scenario = self.layout.scenario
        cached_outputs = None
        if self.internal_kv_cache:
            # Read by DeepSparse's library when the engine is built (deepsparse.benchmark's way).
            os.environ["NM_BENCHMARK_KV_TOKENS"] = str(self.engine_options.kv_cache_tokens)
            cached_outputs = cached_outputs_of(self.model.outputs)
        try:
            instance = self._deepsparse.Engine(
                model=str(self.model.path),
                batch_size=self.batch_size,
                num_cores=threads,
                num_streams=1 if scenario == "sync" else self.layout.num_streams,
                scheduler=self._deepsparse.Scheduler[SCHEDULERS[scenario]],
                cached_outputs=cached_outputs,
            )
        except Exception as e:
            raise RunError(
                f"DeepSparse cannot compile {self.model.orig_path}: {one_line(e)}"
            ) from e
        self._counted()
        self._instance = instance
        return instance

    @property
    def internal_kv_cache(self) -> bool:
        """The model is a decoder whose cache DeepSparse keeps (see the module docstring)."""
        return self.model.decoder is not None and self.engine_options.internal_kv_cache

    def bind(self, instance: Any, inputs: dict[str, np.ndarray]) -> Step:
        import numpy as np

        if self.internal_kv_cache:
            inputs = internal_cache_inputs(self.model, inputs)
        arrays = [np.ascontiguousarray(a) for a in inputs.values()]
        try:
            if self.internal_kv_cache:
                kv_cache = self._deepsparse.lib.init_deepsparse_lib().kv_cache(0, 0)
                step: Step = functools.partial(instance._eng_net.execute_list_out, arrays, kv_cache)
                self.check_step(step)  # the original's step has no checks to skip
                return step
            # Validated once, here, and timed (the first inference); the step skips the checks.
            self.check_step(functools.partial(instance.run, arrays, True))
        except Exception as e:
            shapes = ", ".join(f"{n}: {a.dtype}{list(a.shape)}" for n, a in inputs.items())
            raise RunError(f"DeepSparse rejected the inputs ({shapes}): {one_line(e)}") from e
        return functools.partial(instance.run, arrays, False)

    def describe(self) -> str:
        """The engine as DeepSparse prints it, as deepsparse.benchmark's JSON holds it."""
        return str(self._instance) if self._instance is not None else super().describe()

    def scheduler(self) -> str:
        return str(self._instance.scheduler) if self._instance is not None else "None"

    def fraction_of_supported_ops(self) -> float | None:
        if self._instance is None:
            return None
        return float(self._instance.fraction_of_supported_ops)

    def options(self) -> dict[str, object]:
        e = self._instance
        if e is None:
            return {"engines": 0}
        return {
            "scheduler": str(e.scheduler),
            "num_cores": e.num_cores,
            "num_streams": e.num_streams,
            "batch_size": e.batch_size,
            "fraction_of_supported_ops": float(e.fraction_of_supported_ops),
            "cpu_avx_type": e.cpu_avx_type,
            "cpu_vnni": e.cpu_vnni,
            "thread_pinning_env": PINNING_ENV[self.layout.pinning],
            "kv_cache": (
                f"internal ({self.engine_options.kv_cache_tokens} tokens)"
                if self.internal_kv_cache
                else "external"
                if self.model.decoder is not None
                else "none"
            ),
            "engines": self.instances_created,
        }


def cached_outputs_of(outputs: Sequence[str]) -> list[bool]:
    """DeepSparse's ``cached_outputs``: which outputs its internal cache keeps (deepsparse
    1.8.0: a name that starts with ``present``)."""
    return [name.startswith("present") for name in outputs]


def internal_cache_inputs(
    model: LoadedModel, inputs: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """``inputs`` with every cache input empty along its batch axis: the internal cache holds
    the past, and deepsparse.benchmark passes the cache inputs so (batch 0)."""
    import numpy as np

    assert model.decoder is not None
    out = dict(inputs)
    for c in model.decoder.caches:
        a = out[c.past]
        shape = list(a.shape)
        shape[c.batch_axis] = 0
        out[c.past] = np.zeros(shape, dtype=a.dtype)
    return out
