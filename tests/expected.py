"""What deepsparse.benchmark writes, which pinbench must write too: the JSON keys with their
types, the keys of benchmark_result in order, and the console labels in order."""

from __future__ import annotations

DEEPSPARSE_KEYS: dict[str, type | tuple[type, ...]] = {
    "engine": str,
    "version": str,
    "orig_model_path": str,
    "model_path": str,
    "batch_size": int,
    "input_shapes": (list, type(None)),
    "num_cores": int,
    "scenario": str,
    "scheduler": str,
    "seconds_to_run": (int, float),
    "num_streams": int,
    "benchmark_result": dict,
    "fraction_of_supported_ops": (float, type(None)),
}
RESULT_KEYS = [
    "scenario",
    "items_per_sec",
    "seconds_ran",
    "iterations",
    "median",
    "mean",
    "std",
    "25.0%",
    "50.0%",
    "75.0%",
    "90.0%",
    "95.0%",
    "99.0%",
    "99.9%",
]
CONSOLE_LABELS = [
    "Original Model Path",
    "Batch Size",
    "Scenario",
    "Throughput (items/sec)",
    "Latency Mean (ms/batch)",
    "Latency Median (ms/batch)",
    "Latency Std (ms/batch)",
    "Latency p90 (ms/batch)",
    "Latency p99 (ms/batch)",
    "Latency Min (ms/batch)",
    "Latency Max (ms/batch)",
    "Iterations",
]
