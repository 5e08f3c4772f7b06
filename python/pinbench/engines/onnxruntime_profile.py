"""ONNX Runtime's profiler (``SessionOptions.enable_profiling``): its Chrome-trace file read into
per-operator times.

The file is a JSON list of trace events. Each inference is a ``Session`` event named
``model_run`` on the thread that ran it (``tid``: its kernel thread id); each node's kernel is a
``Node`` event named ``<node>_kernel_time`` with its ``args.op_name``, on that same thread (the
sequential executor runs the nodes on the calling thread; an intra-op pool splits a kernel, not
the graph). ``ts`` and ``dur`` are in microseconds. Only the last ``iterations`` inferences of
each thread are counted: the profiled pass's, not the first calls of ``bind()`` before it (the
first one cold).

Example::

    >>> times = read_trace("onnxruntime_instance0_2026-12-01_10-00-00.json", 100)  # doctest: +SKIP
    >>> times.operators[0]  # doctest: +SKIP
    OperatorTime(op_type='Conv', count=2600, total_ns=91920000)
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base.profiling import OperatorTime

KERNEL_SUFFIX = "_kernel_time"


@dataclass(frozen=True)
class TraceTimes:
    """What one trace file holds of the counted inferences."""

    operators: tuple[OperatorTime, ...]  # most time first
    inferences: int  # counted (at most ``iterations`` per thread)
    inference_ns: int  # their model_run time, summed
    without_kernels: int  # counted inferences with no kernel event (the profiler stopped)


def read_trace(path: str | Path, iterations: int) -> TraceTimes:
    """The per-operator times of the last ``iterations`` inferences of each thread in ``path``."""
    events = json.loads(Path(path).read_text())
    return trace_times(events if isinstance(events, list) else [], iterations)


def trace_times(events: list[dict[str, Any]], iterations: int) -> TraceTimes:
    """``read_trace`` on the events already read."""
    runs: dict[object, list[tuple[int, int]]] = {}  # tid -> (ts, end) of each model_run
    kernels: dict[object, list[tuple[int, str, int]]] = {}  # tid -> (ts, op, dur)
    for e in events:
        name, cat = str(e.get("name", "")), e.get("cat")
        if cat == "Session" and name == "model_run":
            ts = int(e.get("ts", 0))
            runs.setdefault(e.get("tid"), []).append((ts, ts + int(e.get("dur", 0))))
        elif cat == "Node" and name.endswith(KERNEL_SUFFIX):
            op = str((e.get("args") or {}).get("op_name", name[: -len(KERNEL_SUFFIX)]))
            kernels.setdefault(e.get("tid"), []).append((int(e.get("ts", 0)), op, int(e["dur"])))
    totals: dict[str, list[int]] = {}  # op -> [count, total ns]
    counted = run_ns = bare = 0
    for tid, spans in runs.items():
        kept = sorted(spans)[-iterations:] if iterations > 0 else []
        if not kept:
            continue
        starts = [s for s, _ in kept]
        with_kernels: set[int] = set()
        for ts, op, dur in kernels.get(tid, []):
            k = bisect.bisect_right(starts, ts) - 1
            if k < 0 or ts > kept[k][1]:
                continue  # before the counted inferences, or between two of them
            with_kernels.add(k)
            entry = totals.setdefault(op, [0, 0])
            entry[0] += 1
            entry[1] += dur * 1000
        counted += len(kept)
        run_ns += sum((end - start) * 1000 for start, end in kept)
        bare += len(kept) - len(with_kernels)
    operators = sorted(
        (OperatorTime(op, count, ns) for op, (count, ns) in totals.items()),
        key=lambda o: (-o.total_ns, o.op_type),
    )
    return TraceTimes(tuple(operators), counted, run_ns, bare)
