"""Building the engine instances of a run, on the stream threads, as the layout planned them.

Which instance each stream steps is the layout's (``pinbench.run.layout.plan_instances``). A
shared instance is built by the first of its streams to reach its factory, on that stream's
pinned thread (a CPU of its node, so that the kernel's first-touch policy puts the weights in
that node's memory), while the node's other streams wait for it; every instance of its own is
built on its stream's thread. ``BuildLog`` records each build's time and the memory around it.

Example::

    >>> make_step = step_factory(engine, layout, make_inputs, spinning=False)  # doctest: +SKIP
    >>> step = make_step(0)  # on stream 0's pinned thread  # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..base import allocator
from ..base.process import MemoryReading, read_memory
from ..result.startup import InstanceBuild, StreamBind

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import numpy as np

    from ..engines.base import Engine, Step
    from .layout import Layout


class BuildLog:
    """What the stream factories did: each instance's creation (its time, the RSS around it),
    each stream's factory, and the RSS once the last factory returned. Filled on the stream
    threads under its lock; read once the runner has returned.

    Builds run in parallel, one per stream thread, and RSS is the whole process's: an
    instance's growth is its own only when no other stream's factory ran while it was built;
    otherwise its record says ``overlapped``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: set[int] = set()  # streams in a build, or making and binding inputs
        self._building: dict[int, int] = {}  # stream -> the instance it is building
        self._overlapped: set[int] = set()
        self.instances: list[InstanceBuild] = []
        self.streams: list[StreamBind] = []
        self.before: MemoryReading | None = None  # set by the caller, before the runner
        self.after: MemoryReading | None = None  # when the last factory returned

    @contextmanager
    def active(self, stream: int, building: int | None = None) -> Iterator[None]:
        """Marks ``stream``'s thread as working in its factory (building instance ``building``,
        or its inputs and bind): builds that overlap other work are marked."""
        with self._lock:
            self._overlapped.update(self._building.values())
            if building is not None:
                if self._active:
                    self._overlapped.add(building)
                self._building[stream] = building
            self._active.add(stream)
        try:
            yield
        finally:
            with self._lock:
                self._active.discard(stream)
                self._building.pop(stream, None)

    def build(self, index: int, stream: int, create: Callable[[], Any]) -> Any:
        """``create()``, timed, with the RSS read before and after it."""
        with self.active(stream, index):
            before, start = read_memory().rss_bytes, time.monotonic_ns()
            instance = create()
            end, after = time.monotonic_ns(), read_memory().rss_bytes
        with self._lock:
            overlapped = index in self._overlapped
            self.instances.append(
                InstanceBuild(index, stream, start, end, before, after, overlapped)
            )
        return instance

    def bound(self, record: StreamBind) -> None:
        with self._lock:
            self.streams.append(record)


def step_factory(
    engine: Engine,
    layout: Layout,
    make_inputs: Callable[[int], dict[str, np.ndarray]],
    *,
    spinning: bool,
    log: BuildLog | None = None,
) -> Callable[[int], Step]:
    """make_step(i) for the runner: builds (or shares) stream i's instance on its thread, then
    binds the stream's own inputs to it, recording both in ``log``. The allocator returns freed
    memory at once until the last stream's step is made (``base.allocator``; the caller calls
    ``allocator.built()`` again if the run fails before that)."""
    plan = layout.instances
    built: dict[int, Any] = {}
    locks = [threading.Lock() for _ in plan.instances]
    pending = [layout.num_streams]
    pending_lock = threading.Lock()
    record = log if log is not None else BuildLog()
    allocator.building()

    def instance_for(i: int) -> Any:
        k = plan.of_stream[i]
        # The first of the instance's streams to get here builds it, on its pinned thread; the
        # others of a shared instance wait for it.
        with locks[k]:
            if k not in built:
                threads = layout.streams[i].threads
                built[k] = record.build(
                    k, i, lambda: engine.create_instance(threads, spinning=spinning)
                )
            return built[k]

    def make_step(i: int) -> Step:
        try:
            start = time.monotonic_ns()
            instance = instance_for(i)
            with record.active(i):
                inputs = make_inputs(i)
                bind_start = time.monotonic_ns()
                step = engine.bind(instance, inputs)
                end = time.monotonic_ns()
            k = plan.of_stream[i]
            record.bound(StreamBind(i, k, start, bind_start, end, engine.first_inferences()))
            return step
        finally:
            with pending_lock:
                pending[0] -= 1
                last = pending[0] == 0
            if last:  # every stream's factory has returned: before the clock runs
                engine.instances_built()
                allocator.built()
                record.after = read_memory()

    return make_step
