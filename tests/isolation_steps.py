"""Step factories a worker process can import by name (process isolation's tests)."""

from __future__ import annotations

import ctypes
import importlib
import os
import time
from collections.abc import Callable
from pathlib import Path


def noop(i: int) -> Callable[[], None]:
    """A Python no-op step."""

    def step() -> None:
        pass

    return step


def pinned_from_birth(i: int) -> Callable[[], None]:
    """A no-op step whose factory fails unless the worker's main thread (pinned when the process
    was spawned, before anything ran in it) has the same CPUs as this, its stream thread."""
    main = Path(f"/proc/self/task/{os.getpid()}/status").read_text()
    allowed = next(ln for ln in main.splitlines() if ln.startswith("Cpus_allowed_list:"))
    mine = os.sched_getaffinity(0)
    if parse_cpus(allowed.split(":", 1)[1]) != mine:
        raise RuntimeError(f"main thread {allowed.strip()}, stream thread {sorted(mine)}")
    return noop(i)


def parse_cpus(text: str) -> set[int]:
    """'0-2,5' -> {0, 1, 2, 5}."""
    out: set[int] = set()
    for part in text.strip().split(","):
        lo, _, hi = part.partition("-")
        out |= set(range(int(lo), int(hi or lo) + 1))
    return out


class Crash:
    """make_step whose stream ``stream`` crashes on its call ``at`` (0-based, warmup calls
    included): ``segv`` reads address 0, ``abort`` calls abort(), ``exit`` calls os._exit(7),
    ``raise`` raises ValueError, ``hang`` sleeps 1000 s. Every call of that stream first sleeps
    ``pause`` seconds, so that the other streams surely measure before it crashes."""

    def __init__(self, stream: int, at: int, how: str, pause: float = 0.0) -> None:
        self.stream, self.at, self.how, self.pause = stream, at, how, pause

    def __call__(self, i: int) -> Callable[[], None]:
        calls = [0]
        armed = i == self.stream
        at, how, pause = self.at, self.how, self.pause

        def step() -> None:
            if armed and pause:
                time.sleep(pause)
            if armed and calls[0] == at:
                if how == "segv":
                    ctypes.string_at(0)
                elif how == "abort":
                    os.abort()
                elif how == "exit":
                    os._exit(7)
                elif how == "hang":
                    time.sleep(1000)
                else:
                    raise ValueError(f"call {at} of stream {i}")
            calls[0] += 1

        return step


class Unloadable:
    """Pickles as a call that imports a module no worker has: its worker cannot load the job."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (importlib.import_module, ("no_such_module_for_pinbench",))
