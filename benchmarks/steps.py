"""Step factories that the benchmarks' worker processes can import by name.

Process isolation sends ``make_step`` to each worker pickled, by reference; a script's own
functions live in ``__main__``, which a worker cannot import, so they live here.
"""

from __future__ import annotations

from collections.abc import Callable


def noop() -> None:
    """The Python no-op step."""


def make_noop(i: int) -> Callable[[], None]:
    """make_step(i) -> the no-op step."""
    return noop
