"""Engines whose inference busy-waits a fixed time (deepsparse.benchmark's custom-engine form),
for measuring pinbench's own statistics: a known difference, or none at all."""

from __future__ import annotations

import time
from typing import Any


class Spin1000us:
    """Busy-waits 1.000 ms per inference, holding its core."""

    SPIN_NS = 1_000_000

    def __init__(self, model_path: str, batch_size: int, num_cores: int) -> None:
        self.spin_ns = self.SPIN_NS

    def run(self, inputs: list[Any]) -> None:
        end = time.perf_counter_ns() + self.spin_ns
        while time.perf_counter_ns() < end:
            pass


class Spin1100us(Spin1000us):
    """Busy-waits 1.100 ms: 10% slower than Spin1000us."""

    SPIN_NS = 1_100_000
