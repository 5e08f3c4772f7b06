"""The ``pinbench`` logger: logs go to stderr through it, never to stdout."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

log = logging.getLogger("pinbench")


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """Keeps info logs out and warnings in, e.g. while a search runs one benchmark per trial."""
    level = log.level
    if level <= logging.INFO:
        log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)
