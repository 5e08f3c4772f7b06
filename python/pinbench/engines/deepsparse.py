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
as deepsparse.benchmark did. DeepSparse has no per-operator profiler pinbench can read:
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
        try:
            instance = self._deepsparse.Engine(
                model=str(self.model.path),
                batch_size=self.batch_size,
                num_cores=threads,
                num_streams=1 if scenario == "sync" else self.layout.num_streams,
                scheduler=self._deepsparse.Scheduler[SCHEDULERS[scenario]],
            )
        except Exception as e:
            raise RunError(
                f"DeepSparse cannot compile {self.model.orig_path}: {one_line(e)}"
            ) from e
        self._counted()
        self._instance = instance
        return instance

    def bind(self, instance: Any, inputs: dict[str, np.ndarray]) -> Step:
        import numpy as np

        arrays = [np.ascontiguousarray(a) for a in inputs.values()]
        try:
            # Validated once, here, and timed (the first inference); the step skips the checks.
            self.check_step(functools.partial(instance.run, arrays, True))
        except Exception as e:
            shapes = ", ".join(f"{n}: {a.dtype}{list(a.shape)}" for n, a in inputs.items())
            raise RunError(f"DeepSparse rejected the inputs ({shapes}): {one_line(e)}") from e
        step: Step = functools.partial(instance.run, arrays, False)
        return step

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
            "engines": self.instances_created,
        }
