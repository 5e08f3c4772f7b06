"""Which engine instance each stream steps, and where it is built.

An instance holds the model's weights (and the engine's prepacked copies of them), so one per
stream multiplies the model's memory by the streams. A stream of one core needs no intra-op
pool: an engine that runs inline on the calling thread (ONNX Runtime with one intra-op thread)
can serve all the one-core streams of a NUMA node from one instance, each stream stepping it on
its own pinned thread with its own inputs and binding. ``--instances`` chooses:

| ``--instances``    | one-core streams                                   | core groups |
|--------------------|----------------------------------------------------|-------------|
| ``auto`` (default) | one per NUMA node if the engine runs inline, else  | one each    |
|                    | one each (``Engine.shares_inline_instances``)      |             |
| ``node``           | one per NUMA node                                  | one each    |
| ``stream``         | one each                                           | one each    |

A stream of a core group always keeps its own instance: its intra-op pool runs on its cores.
The elastic scenario, and an engine that schedules the streams itself (DeepSparse), have one
instance for every stream whatever ``--instances`` says. Streams that are not pinned share one
instance when they share (they have no node).

A shared instance is built by the first of its streams to reach its factory, on that stream's
pinned thread (a CPU of its node, so that the kernel's first-touch policy puts the weights in
that node's memory), while the node's other streams wait for it; every instance of its own is
built on its stream's thread.

Example::

    >>> layout = plan_layout("async", topology(), num_cores=None, num_streams=2,
    ...                      pinning="core", instances="node")  # doctest: +SKIP
    >>> [i.kind for i in layout.instances.instances]  # doctest: +SKIP
    ['node']
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..base import allocator
from ..base.process import MemoryReading, read_memory
from ..result.config import EngineInstance, InstancePlan
from ..result.startup import InstanceBuild, StreamBind

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    import numpy as np

    from .._core import Topology
    from ..engines.base import Engine, Step
    from .layout import Layout, StreamSlot


def plan_instances(
    streams: Sequence[StreamSlot],
    topo: Topology,
    *,
    scenario: str = "async",
    requested: str = "auto",
    engine_schedules: bool = False,
    inline_sharing: bool = False,
    engine: str = "the engine",
) -> InstancePlan:
    """The instance of every stream, by the table in the module docstring.

    ``engine_schedules``: the engine schedules every stream on one instance of its own
    (``Engine.schedules_streams``). ``inline_sharing``: the engine runs a one-core stream
    inline and one instance may be stepped by many threads at once
    (``Engine.shares_inline_instances``, what ``auto`` asks of it).
    """
    one = None
    if engine_schedules:
        one = "shared", f"{engine} schedules every stream on one instance of its own"
    elif scenario == "elastic":
        one = "shared", "elastic: every stream shares one instance over all selected cores"
    elif scenario == "sync":
        one = "stream", "sync runs one stream"
    if one is not None:
        cpus = tuple(sorted({c for s in streams for c in s.cpus}))
        every = tuple(range(len(streams)))
        only = EngineInstance(0, one[0], every, _node_of(cpus, topo), cpus, one[1])
        return InstancePlan(requested, (only,), (0,) * len(streams))
    share = requested == "node" or (requested == "auto" and inline_sharing)
    groups: dict[tuple[str, int | None] | int, list[int]] = {}
    reasons: dict[tuple[str, int | None] | int, str] = {}
    for i, slot in enumerate(streams):
        key: tuple[str, int | None] | int = i
        if slot.threads > 1:
            reason = f"a group of {slot.threads} cores: its intra-op pool runs on its own cores"
        elif not share:
            reason = (
                "--instances stream"
                if requested == "stream"
                else f"{engine} does not run inline on the stream's thread, so each one-core "
                "stream has its own (--instances node shares them)"
            )
        else:
            node = _node_of(slot.cpus, topo) if slot.cpus else None
            key = ("node", node)
            where = f"NUMA node {node}" if node is not None else "no node (not pinned)"
            why = "--instances node" if requested == "node" else f"{engine} runs inline"
            reason = (
                f"the one-core streams of {where} share one instance ({why}): each steps it on "
                "its own pinned thread with its own inputs"
            )
        groups.setdefault(key, []).append(i)
        reasons[key] = reason
    instances: list[EngineInstance] = []
    of_stream = [0] * len(streams)
    for index, (key, members) in enumerate(groups.items()):
        cpus = tuple(sorted({c for m in members for c in streams[m].cpus}))
        kind = "node" if isinstance(key, tuple) else "stream"
        instances.append(
            EngineInstance(index, kind, tuple(members), _node_of(cpus, topo), cpus, reasons[key])
        )
        for m in members:
            of_stream[m] = index
    return InstancePlan(requested, tuple(instances), tuple(of_stream))


def _node_of(cpus: Sequence[int], topo: Topology) -> int | None:
    """The one NUMA node all of ``cpus`` belong to, or None (none given, or several)."""
    node_of_cpu = {c.id: c.node for c in topo.cpus}
    nodes = {node_of_cpu.get(c) for c in cpus}
    return nodes.pop() if len(nodes) == 1 else None


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
