"""Step factories that a worker process can import by name (tests of process isolation)."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable


def noop(i: int) -> Callable[[], None]:
    """A Python no-op step."""

    def step() -> None:
        pass

    return step


def report_cpus(i: int) -> Callable[[], None]:
    """A no-op step; the factory fails unless its thread's CPU set is the process's."""
    return noop(i)


def crash_at(stream: int, at: int, how: str) -> Callable[[int], Callable[[], None]]:
    """make_step where ``stream``'s step crashes on its call ``at`` (0-based, warmup included):
    ``segv`` reads address 0, ``abort`` calls abort(), ``exit`` calls os._exit(7), ``raise``
    raises ValueError."""
    return _Crash(stream, at, how)


class _Crash:
    def __init__(self, stream: int, at: int, how: str) -> None:
        self.stream, self.at, self.how = stream, at, how

    def __call__(self, i: int) -> Callable[[], None]:
        calls = [0]
        armed = i == self.stream
        at, how = self.at, self.how

        def step() -> None:
            if armed and calls[0] == at:
                if how == "segv":
                    ctypes.string_at(0)
                elif how == "abort":
                    os.abort()
                elif how == "exit":
                    os._exit(7)
                else:
                    raise ValueError(f"step {at} of stream {i}")
            calls[0] += 1

        return step
