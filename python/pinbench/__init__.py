"""pinbench: ONNX model benchmarks on pinned native threads.

The public API is imported lazily, so that ``pinbench --help`` starts instantly::

    import pinbench
    m = pinbench.measure(lambda i: (lambda: None), streams=1, duration=0.5)
    print(m.throughput, m.latency.median)

    r = pinbench.benchmark("squeezenet", time=1, warmup_time=0.5)
    print(r.items_per_sec, pinbench.json_document(r)["pinbench"]["config"]["num_streams"])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .base.errors import PinbenchError, RunError, UsageError

if TYPE_CHECKING:
    from .api import ab, benchmark, benchmark_model, find_qps, json_document, run_sweep
    from .base.stats import LatencyStats
    from .result.measurement import Measurement, StreamMeasurement
    from .result.record import Result
    from .run.measure import StreamError, measure, noop, spin
    from .run.topology import plan_streams, topology
    from .settings import FleetSettings, RunSettings, SweepSettings

__all__ = [
    "FleetSettings",
    "LatencyStats",
    "Measurement",
    "PinbenchError",
    "Result",
    "RunError",
    "RunSettings",
    "StreamError",
    "StreamMeasurement",
    "SweepSettings",
    "UsageError",
    "ab",
    "benchmark",
    "benchmark_model",
    "find_qps",
    "json_document",
    "measure",
    "noop",
    "plan_streams",
    "run_sweep",
    "spin",
    "topology",
]

# Attribute -> the module that defines it.
_LAZY: dict[str, str] = {
    "Measurement": "result.measurement",
    "StreamMeasurement": "result.measurement",
    "StreamError": "run.measure",
    "measure": "run.measure",
    "noop": "run.measure",
    "spin": "run.measure",
    "LatencyStats": "base.stats",
    "Result": "result.record",
    "RunSettings": "settings",
    "SweepSettings": "settings",
    "FleetSettings": "settings",
    "ab": "api",
    "benchmark": "api",
    "benchmark_model": "api",
    "find_qps": "api",
    "json_document": "api",
    "run_sweep": "api",
    "plan_streams": "run.topology",
    "topology": "run.topology",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pinbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
