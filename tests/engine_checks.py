"""The scenario checks every engine passes, on real models, for tests/engines/test_engine_*.py.

``check_scenario(engine, scenario, model)`` runs ``pinbench.benchmark`` briefly and checks what
the scenario table promises: the number of streams, each stream's CPU set as planned and as read
back on its thread, disjoint core groups in ``async`` (unless the engine schedules the streams
itself), the number of engine instances, and the original's JSON keys. The models: light
SqueezeNet (``squeezenet``, from the onnx package) and a generated BERT-like transformer with
int64 inputs (``transformer_model(folder)``).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pinbench
from pinbench.engines import engine_class
from pinbench.result.record import Result

import onnx_factory as factory
from expected import DEEPSPARSE_KEYS

NCORES = len(os.sched_getaffinity(0))
FAST: dict[str, Any] = {"time": 0.2, "warmup_time": 0.05}
SCENARIOS = ("sync", "async", "elastic")


def transformer_model(folder: Path) -> Path:
    """The generated transformer: input_ids, attention_mask, token_type_ids int64[batch, seq]."""
    return factory.make_transformer_model(folder)


def traced(engine: str | type[Any]) -> tuple[type[Any], dict[int, set[int]]]:
    """The engine's class, with steps that record the CPUs their thread may use when they run
    (by kernel thread id): an engine that re-pins the thread it is built on shows here."""
    cls = engine_class(engine)
    seen: dict[int, set[int]] = {}

    def bind(self: Any, instance: Any, inputs: Any) -> Any:
        step = cls.bind(self, instance, inputs)

        def step_and_record() -> object:
            seen.setdefault(threading.get_native_id(), os.sched_getaffinity(0))
            return step()

        return step_and_record

    return type(cls.__name__, (cls,), {"bind": bind}), seen


def check_scenario(engine: str | type[Any], scenario: str, model: str, **kwargs: Any) -> Result:
    """Runs ``model`` on ``engine`` in ``scenario`` and checks the scenario table; returns it."""
    cls, seen = traced(engine)
    shared = cls.schedules_streams
    streams = 1 if scenario == "sync" else NCORES
    r = pinbench.benchmark(
        model,
        engine=cls,
        scenario=scenario,
        num_streams=None if scenario == "sync" else streams,
        **FAST,
        **kwargs,
    )
    m = r.measurement
    assert r.iterations > 0
    assert len(m.streams) == streams
    allowed = set(os.sched_getaffinity(0))
    for s in m.streams:
        assert seen[s.thread_id] == set(s.planned_cpus), "a stream ran off its planned CPUs"
        assert s.iterations > 0
    if scenario == "async" and not shared:
        assert [len(s.planned_cpus) for s in m.streams] == [1] * NCORES
        assert set().union(*(set(s.planned_cpus) for s in m.streams)) == allowed  # disjoint
        # One instance per stream, or per NUMA node where the engine runs one-core streams
        # inline (pinbench.run.layout).
        nodes = len(pinbench.topology().nodes)
        assert r.config.engine_instances == (nodes if cls.shares_inline_instances else NCORES)
    else:
        assert all(set(s.planned_cpus) == allowed for s in m.streams)
        assert r.config.engine_instances == 1
    d = pinbench.json_document(r)
    assert set(d) >= set(DEEPSPARSE_KEYS)
    assert d["pinbench"]["config"]["engine"]["name"] == r.config.engine_name
    assert d["benchmark_result"]["iterations"] == r.iterations
    return r
