"""The per-operator profile of ``--profile DIR``: a profiled pass after the measured window, on
fresh instances built with the engine's profiler on, and the table of its operators. Plain
records, assembled in ``pinbench.run.assemble`` from what the engine reported
(``base.profiling.OperatorProfile``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OperatorRow:
    """One operator type of the table: how many times its nodes ran over the pass, their total
    time, that per inference, and its share of the inferences' time (as the profiler saw both)."""

    op_type: str
    count: int
    total_ms: float
    ms_per_inference: float
    share: float  # NaN when the profiler gave no inference time


@dataclass(frozen=True)
class Profile:
    """A profiled pass and its table.

    ``available`` False: no table, ``reason`` says why (the engine has no profiler, the pass
    failed). ``inference_ms``: the mean inference as the profiler measured it;
    ``profiled_latency_ms``: the mean latency pinbench's runner timed during the pass (the
    profiler's own cost included; the measured window ran without it). ``operators``: every
    operator type, most time first.
    """

    directory: str
    engine: str
    profiler: str
    available: bool
    reason: str = ""
    iterations_per_stream: int = 0
    streams: int = 0
    inferences: int = 0
    inference_ms: float = float("nan")
    profiled_latency_ms: float = float("nan")
    seconds: float = 0.0  # the pass's wall time: its instances built, its iterations run
    operators: tuple[OperatorRow, ...] = ()
    files: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    interrupt: str | None = None  # the exception's name when Ctrl-C (or SIGTERM) cut it short

    @property
    def operators_ms_per_inference(self) -> float:
        """The operators' time per inference, summed."""
        return sum(r.ms_per_inference for r in self.operators)
