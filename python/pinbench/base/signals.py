"""Signals the command line turns into exceptions, latched so that none is lost.

Python runs a signal's handler at the next bytecode of the main thread, wherever that is. When
that is inside a finalizer (``__del__``, a weakref callback) or under a library's ``except
BaseException``, the exception the handler raises is swallowed, and a Ctrl-C sent just before
a run started would let the whole run go on. The command line's handlers (``latching``) also
record the signal here, and the runner looks (``take_latched``) before it starts the streams: a
signal that was swallowed before the run still ends it. The API leaves Python's own handlers
alone, so nothing is latched there.

Example::

    >>> import signal
    >>> _ = signal.signal(signal.SIGTERM, latching(KeyboardInterrupt))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

_latched: list[str] = []  # the exceptions' names, in the order the signals came


def latching(exc: type[BaseException]) -> Callable[[int, FrameType | None], None]:
    """A signal handler that records the signal, then raises ``exc`` (a KeyboardInterrupt)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        _latched.append(exc.__name__)
        raise exc

    return handler


def take_latched() -> str | None:
    """The name of the exception of the first signal latched since the last call (None: none
    came), and the latch cleared. Called on the main thread."""
    first = _latched[0] if _latched else None
    _latched.clear()
    return first
