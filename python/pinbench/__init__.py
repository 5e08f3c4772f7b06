"""pinbench: ONNX model benchmarks on pinned native threads.

The public API is imported lazily, so that ``pinbench --help`` starts instantly::

    import pinbench
    m = pinbench.measure(lambda i: (lambda: None), streams=1, duration=0.5)
    print(m.throughput, m.latency.median)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import PinbenchError, RunError, UsageError

if TYPE_CHECKING:
    from .measurement import Measurement, StreamError, StreamMeasurement, measure, noop, spin
    from .model_benchmark import benchmark, benchmark_model
    from .pinning import plan_streams, topology
    from .results import Result
    from .stats import LatencyStats

__all__ = [
    "LatencyStats",
    "Measurement",
    "PinbenchError",
    "Result",
    "RunError",
    "StreamError",
    "StreamMeasurement",
    "UsageError",
    "benchmark",
    "benchmark_model",
    "measure",
    "noop",
    "plan_streams",
    "spin",
    "topology",
]

# Attribute -> the module that defines it. Extended by the benchmark API.
_LAZY: dict[str, str] = {
    "Measurement": "measurement",
    "StreamError": "measurement",
    "StreamMeasurement": "measurement",
    "measure": "measurement",
    "noop": "measurement",
    "spin": "measurement",
    "LatencyStats": "stats",
    "Result": "results",
    "benchmark": "model_benchmark",
    "benchmark_model": "model_benchmark",
    "plan_streams": "pinning",
    "topology": "pinning",
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
