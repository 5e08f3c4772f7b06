"""One real, short benchmark Result per test session, shared by the tests that need a Result."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pinbench.result.record import Result


@functools.cache
def squeezenet_async() -> Result:
    """The built-in SqueezeNet, async over every core, 0.3 s measured."""
    import pinbench

    return pinbench.benchmark("squeezenet", time=0.3, warmup_time=0.05)
