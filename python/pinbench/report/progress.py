"""The progress line on stderr while a run is measured."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


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

    def start(self, warmup: float, duration: float, auto_warmup: bool = False) -> None:
        """``auto_warmup``: ``warmup`` is -w auto's bound, and when the window begins is not
        known here: the line then counts the run's time against its longest."""
        if not self.wanted(self.stream, warmup, duration):
            return
        begin = time.monotonic()

        def draw() -> None:
            while not self._stop.wait(self.interval):
                t = time.monotonic() - begin
                if auto_warmup:
                    text = f"running    {t:5.1f} s, at most {warmup + duration:g} s (-w auto)"
                elif t < warmup:
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
