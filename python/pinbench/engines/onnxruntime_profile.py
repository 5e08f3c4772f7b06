"""ONNX Runtime's profiler (``SessionOptions.enable_profiling``): its Chrome-trace file read into
per-operator times.

The file is a JSON list of trace events. Each inference is a ``Session`` event named
``model_run`` on the thread that ran it (``tid``: its kernel thread id); each node's kernel is a
``Node`` event named ``<node>_kernel_time`` with its ``args.op_name``, on that same thread (the
sequential executor runs the nodes on the calling thread; an intra-op pool splits a kernel, not
the graph). ``ts`` and ``dur`` are in microseconds. Each thread's first ``skip`` inferences are
``bind()``'s calls before the pass (the first one cold) and are left out; at most ``iterations``
after them are counted. ONNX Runtime keeps a session's first 1,000,000 events and drops the rest,
ending the file with a ``profile_truncated`` event that says how many it dropped.

The file is read a line at a time (ONNX Runtime writes one event per line), keeping only the
events counted: a truncated file is some 600 MB, which ``json.load`` would hold as several GB.

Example::

    >>> times = read_trace("onnxruntime_instance0_2026-12-01.json", 100, skip=2)  # doctest: +SKIP
    >>> times.operators[0]  # doctest: +SKIP
    OperatorTime(op_type='Conv', count=2600, total_ns=91920000)
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base.profiling import OperatorTime

if TYPE_CHECKING:
    from collections.abc import Iterator

KERNEL_SUFFIX = "_kernel_time"


@dataclass(frozen=True)
class TraceTimes:
    """What one trace file holds of the counted inferences."""

    operators: tuple[OperatorTime, ...]  # most time first
    inferences: int  # counted (at most ``iterations`` per thread)
    inference_ns: int  # their model_run time, summed
    without_kernels: int  # counted inferences with no kernel event
    dropped_events: int = 0  # what the profiler did not record past its limit


WANTED = ('"model_run"', KERNEL_SUFFIX + '"', '"profile_truncated"')


def read_trace(path: str | Path, iterations: int, skip: int = 0) -> TraceTimes:
    """The per-operator times in ``path`` of each thread's inferences after its first ``skip``,
    at most ``iterations`` of them."""
    return trace_times(list(_events(Path(path))), iterations, skip)


def _events(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        first = f.readline().strip()
        if first != "[":  # not one event per line: read it whole
            whole = json.loads(first + f.read())
            yield from (e for e in whole if isinstance(e, dict)) if isinstance(whole, list) else ()
            return
        for line in f:
            if any(w in line for w in WANTED):
                event = json.loads(line.strip().rstrip(","))
                if isinstance(event, dict):
                    yield event


def trace_times(events: list[dict[str, Any]], iterations: int, skip: int = 0) -> TraceTimes:
    """``read_trace`` on the events already read."""
    runs: dict[object, list[tuple[int, int]]] = {}  # tid -> (ts, end) of each model_run
    kernels: dict[object, list[tuple[int, str, int]]] = {}  # tid -> (ts, op, dur)
    dropped = 0
    for e in events:
        name, cat = str(e.get("name", "")), e.get("cat")
        if name == "profile_truncated":
            dropped += int((e.get("args") or {}).get("dropped_event_count", 0))
        elif cat == "Session" and name == "model_run":
            ts = int(e.get("ts", 0))
            runs.setdefault(e.get("tid"), []).append((ts, ts + int(e.get("dur", 0))))
        elif cat == "Node" and name.endswith(KERNEL_SUFFIX):
            op = str((e.get("args") or {}).get("op_name", name[: -len(KERNEL_SUFFIX)]))
            kernels.setdefault(e.get("tid"), []).append((int(e.get("ts", 0)), op, int(e["dur"])))
    totals: dict[str, list[int]] = {}  # op -> [count, total ns]
    counted = run_ns = bare = 0
    for tid, spans in runs.items():
        kept = sorted(spans)[skip : skip + max(iterations, 0)]
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
    return TraceTimes(tuple(operators), counted, run_ns, bare, dropped)
