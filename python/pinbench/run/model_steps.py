"""The make_step of a model benchmark in a worker process (``--isolation process``).

A worker receives plain records, never live objects: the engine as the settings name it (a
name, ``file.py:Class`` or an importable class), its options, the model as this process loaded
it (``LoadedModel``: paths and input specs; the temporary copy of ``-b``/``-shapes`` stays this
process's, alive until the run ends), the inputs as generated here (seeded, the same for every
stream, as thread streams regenerate them) and the layout. On its pinned stream thread it
resolves the engine class, builds and prepares an engine, copies the inputs (so their memory is
first touched on its own NUMA node) and makes its instance and step (``instances.step_factory``:
one stream per worker, so an instance each). It never imports onnx nor reads the model's graph,
so a worker starts in a fraction of a second plus its engine's own load time.

Memory per worker: its interpreter (about 30-50 MB with numpy and ONNX Runtime imported), its
copy of the inputs and its engine instance (for ONNX Runtime about 2.3x the weights).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ..engines import engine_class
from .instances import step_factory

if TYPE_CHECKING:
    import numpy as np

    from ..engines.base import Engine, EngineOptions, Step
    from ..model.spec import LoadedModel
    from .layout import Layout
    from .prepare import Prepared


class ModelSteps:
    """``make_step(i)`` for stream ``i``'s worker; pickles as its plain records only."""

    def __init__(
        self,
        engine: str | type,
        options: EngineOptions,
        model: LoadedModel,
        inputs: dict[str, np.ndarray],
        batch_size: int,
        shapes: dict[str, list[int]],
        layout: Layout,
        spinning: bool,
    ) -> None:
        self.state: dict[str, Any] = {
            "engine": engine,
            "options": options,
            "model": dataclasses.replace(model, temp_dir=None),  # this process owns the copy
            "inputs": inputs,
            "batch_size": batch_size,
            "shapes": shapes,
            "layout": layout,
            "spinning": spinning,
        }
        self._engine: Engine | None = None

    @classmethod
    def of(
        cls, prepared: Prepared, engine: str | type, layout: Layout, spinning: bool
    ) -> ModelSteps:
        """The records of ``prepared`` (stream 0's inputs stand for every stream's)."""
        return cls(
            engine,
            prepared.engine_options,
            prepared.model,
            prepared.make_inputs(0),
            prepared.batch_size,
            prepared.shapes,
            layout,
            spinning,
        )

    def __getstate__(self) -> dict[str, Any]:
        return self.state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.state = state
        self._engine = None

    def __call__(self, i: int) -> Step:
        """Called once, in the worker, on stream ``i``'s pinned thread."""
        s = self.state
        engine = self._engine = engine_class(s["engine"])(s["model"], s["options"])
        engine.prepare(s["layout"], batch_size=s["batch_size"], input_shapes=s["shapes"])
        inputs: dict[str, np.ndarray] = s["inputs"]
        make_step = step_factory(
            engine,
            s["layout"],
            lambda _: {name: a.copy() for name, a in inputs.items()},
            spinning=s["spinning"],
        )
        return make_step(i)

    def report(self) -> dict[str, Any] | None:
        """What this worker's engine resolved, for the run's record (None before it was built)."""
        e = self._engine
        if e is None:
            return None
        return {
            "name": e.name,
            "version": e.version(),
            "description": e.describe(),
            "options": e.options(),
            "instances": e.instances_created,
            "scheduler": e.scheduler(),
            "fraction_of_supported_ops": e.fraction_of_supported_ops(),
        }
