"""Which engine instance each stream steps: built on the stream's pinned thread, or shared.

| scenario | engine instances |
|----------|------------------|
| sync     | 1                |
| async    | one per stream, built on its pinned thread |
| elastic  | one, shared by all streams, built on the first stream's thread |
| server   | as async |
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from ..engines.base import Engine, Step
    from .layout import Layout


def step_factory(
    engine: Engine,
    layout: Layout,
    make_inputs: Callable[[int], dict[str, np.ndarray]],
    *,
    spinning: bool,
) -> Callable[[int], Step]:
    """make_step(i) for the runner: builds (or shares) the engine instance on stream i's thread."""
    shared: list[Any] = []
    shared_lock = threading.Lock()

    def instance_for(i: int) -> Any:
        threads = layout.streams[i].threads
        if not layout.shared_instance:
            return engine.create_instance(threads, spinning=spinning)
        # The first stream to get here builds the shared instance, on its pinned thread.
        with shared_lock:
            if not shared:
                shared.append(engine.create_instance(threads, spinning=spinning))
            return shared[0]

    def make_step(i: int) -> Step:
        instance = instance_for(i)
        return engine.bind(instance, make_inputs(i))

    return make_step
