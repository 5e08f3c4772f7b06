"""Per-operator times as an engine's profiler reports them (``--profile DIR``): plain records an
engine returns (``Engine.profile_results``) and ``pinbench.run.assemble`` turns into the table.

Example::

    >>> p = OperatorProfile("demo", (OperatorTime("Conv", 20, 8_000_000),), 10, 9_000_000)
    >>> p.operators[0].total_ns / p.inferences / 1e6  # ms per inference
    0.8
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OperatorTime:
    """One operator type over the profiled inferences: how many times a node of that type ran
    (its nodes x the inferences) and their total time in ns, as the profiler measured it."""

    op_type: str
    count: int
    total_ns: int


@dataclass(frozen=True)
class OperatorProfile:
    """What a profiled pass measured, over ``inferences`` inferences (every stream's).

    ``inference_ns``: the inferences' total time as the profiler measured it (ONNX Runtime: its
    ``model_run`` events; OpenVINO: the sum of its per-layer counters, since it has no whole
    inference figure); the operators' shares are of it. ``files``: what the profiler wrote.
    """

    profiler: str
    operators: tuple[OperatorTime, ...]
    inferences: int
    inference_ns: int
    files: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # what the figures leave out or approximate, in words
