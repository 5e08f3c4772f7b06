"""What a person reads: the result on stdout, logs and a progress line on stderr."""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from .results import Result


def result_lines(result: Result) -> list[str]:
    """The original's console lines, same labels and four decimals, plus tail and extremes."""
    c, lat = result.config, result.latency
    lines = [
        f"Original Model Path: {c.orig_model_path}",
        f"Batch Size: {c.batch_size}",
        f"Scenario: {c.scenario}",
        f"Throughput (items/sec): {result.items_per_sec:.4f}",
        f"Latency Mean (ms/batch): {lat.mean:.4f}",
        f"Latency Median (ms/batch): {lat.median:.4f}",
        f"Latency Std (ms/batch): {lat.std:.4f}",
        f"Latency p90 (ms/batch): {lat.percentiles[90.0]:.4f}",
        f"Latency p99 (ms/batch): {lat.percentiles[99.0]:.4f}",
        f"Latency Min (ms/batch): {lat.min:.4f}",
        f"Latency Max (ms/batch): {lat.max:.4f}",
        f"Iterations: {result.iterations}",
    ]
    if result.interrupted:
        lines.append(f"Interrupted: yes, after {result.seconds_ran:.3f} s of measurement")
    from . import server, tuning

    # The server scenario's lines follow the original's; what auto/--find-qps tried ends it.
    return lines + server.lines(result) + extra_lines(result) + tuning.lines(result)


def extra_lines(result: Result) -> list[str]:
    """pinbench's lines after the original's: intervals, variation, cold start and the verdict."""
    lat, validity = result.latency, result.validity
    from .results import first_iteration_ms

    firsts = [first_iteration_ms(s) for s in result.measurement.streams]
    firsts = [v for v in firsts if math.isfinite(v)]
    lines = [
        f"Throughput 95% CI (items/sec): {_interval(result.items_per_sec_ci)}",
        f"Latency Median 95% CI (ms/batch): {_interval(lat.median_ci)}",
        f"Latency CV (std/mean): {lat.cv:.4f}",
    ]
    if firsts:
        lines.append(f"Latency First Iteration (ms/batch): {_firsts(firsts)}")
    reasons = len(validity.reasons)
    lines.append(
        "Verdict: valid"
        if validity.valid
        else f"Verdict: invalid ({reasons} reason{'s' if reasons > 1 else ''})"
    )
    lines.extend(f"Reason: {r.message}" for r in validity.reasons)
    return lines


def _interval(ci: tuple[float, float]) -> str:
    lo, hi = ci
    return f"{lo:.4f} to {hi:.4f}" if math.isfinite(lo) and math.isfinite(hi) else "n/a"


def _firsts(firsts: list[float]) -> str:
    """Every stream's first measured iteration, or their mean and max when there are many."""
    if len(firsts) <= 4:
        return ", ".join(f"{v:.4f}" for v in firsts) + (" (per stream)" if len(firsts) > 1 else "")
    worst = max(range(len(firsts)), key=firsts.__getitem__)
    mean = sum(firsts) / len(firsts)
    return f"mean {mean:.4f}, max {firsts[worst]:.4f} (stream {worst})"


def print_result(result: Result, out: TextIO | None = None) -> None:
    print("\n".join(result_lines(result)), file=out or sys.stdout)


def setup_logging(quiet: bool, debug: bool = False) -> None:
    """Logs go to stderr; -q keeps only warnings and errors."""
    logger = logging.getLogger("pinbench")
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("pinbench: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO)


class Progress:
    """A one-line progress display on stderr, redrawn twice a second from a daemon thread.

    Shown only when stderr is a terminal and the run is longer than 2 s. It wakes rarely and
    prints little, so it costs the measured streams next to nothing.
    """

    def __init__(self, stream: TextIO | None = None, interval: float = 0.5) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def wanted(stream: TextIO, warmup: float, duration: float) -> bool:
        return stream.isatty() and warmup + duration > 2.0

    def start(self, warmup: float, duration: float) -> None:
        if not self.wanted(self.stream, warmup, duration):
            return
        begin = time.monotonic()

        def draw() -> None:
            while not self._stop.wait(self.interval):
                t = time.monotonic() - begin
                if t < warmup:
                    text = f"warming up {t:5.1f} / {warmup:g} s"
                else:
                    text = f"measuring  {min(t - warmup, duration):5.1f} / {duration:g} s"
                self.stream.write(f"\r\x1b[2K{text}")
                self.stream.flush()

        self._thread = threading.Thread(target=draw, name="pinbench-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
