"""The layout of a run: how many streams, which CPUs each, and how many engine threads.

| scenario | streams | engine instances                | cores                              |
|----------|---------|---------------------------------|------------------------------------|
| sync     | 1       | 1                               | all selected cores                 |
| async    | N       | one per stream, on its thread   | disjoint core groups, one a stream |
| elastic  | N       | one, shared by all streams      | one pool over all selected cores   |
| server   | N       | as async                        | as async; queries arrive open-loop |
| generate | 1, or N | as async                        | as async; each call of a request   |

"One per stream" is the rule for streams of a core group; one-core streams share one instance
per NUMA node when ``--instances`` (auto, node) says so. An engine with ``schedules_streams``
(DeepSparse) gets one shared instance in every scenario and maps the scenario onto its own
scheduler; every stream then runs on all selected cores.

Which instance each stream steps (``plan_instances``). An instance holds the model's weights
(and the engine's prepacked copies of them), so one per stream multiplies the model's memory by
the streams. A stream of one core needs no intra-op pool: an engine that runs inline on the
calling thread (ONNX Runtime with one intra-op thread) can serve all the one-core streams of a
NUMA node from one instance, each stream stepping it on its own pinned thread with its own inputs
and binding. ``--instances`` chooses:

| ``--instances``    | one-core streams                                   | core groups |
|--------------------|----------------------------------------------------|-------------|
| ``auto`` (default) | one per NUMA node if the engine runs inline, else  | one each    |
|                    | one each (``Engine.shares_inline_instances``)      |             |
| ``node``           | one per NUMA node                                  | one each    |
| ``stream``         | one each                                           | one each    |

A stream of a core group always keeps its own instance: its intra-op pool runs on its cores.
The elastic scenario, and an engine that schedules the streams itself (DeepSparse), have one
instance for every stream whatever ``--instances`` says. Streams that are not pinned share one
instance when they share (they have no node). The instances are built on the stream threads
(``pinbench.run.instances``).

Example::

    >>> layout = plan_layout("async", topology(), num_cores=None, num_streams=2,
    ...                      pinning="core", instances="node")  # doctest: +SKIP
    >>> [i.kind for i in layout.instances.instances]  # doctest: +SKIP
    ['node']
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..base.errors import UsageError
from ..base.logs import log
from ..result.config import EngineInstance, InstancePlan
from ..settings import INSTANCE_MODES, parse_scenario
from .topology import plan_streams, union_cpus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._core import Topology


@dataclass(frozen=True)
class StreamSlot:
    """What one stream runs on: its CPU set (empty = unpinned) and its engine thread count."""

    cpus: tuple[int, ...]
    threads: int


@dataclass(frozen=True)
class Layout:
    """The resolved shape of a run: what actually runs, recorded as such in the JSON."""

    scenario: str
    num_cores: int
    num_streams: int
    num_streams_reason: str
    pinning: str
    shared_instance: bool  # one instance serves every stream (elastic, or the engine's scheduler)
    streams: tuple[StreamSlot, ...]
    instances: InstancePlan  # which engine instance each stream steps, and why
    isolation: str = "thread"  # thread | process: each stream a worker process (run/isolation.py)


def default_num_streams(scenario: str, num_cores: int, shared: bool = False) -> tuple[int, str]:
    """The number of streams when the user gives none, and why (``shared``: the engine
    schedules the streams on one instance of its own)."""
    if scenario == "sync":
        return 1, "sync runs one stream"
    if scenario == "generate":
        return 1, (
            "generate runs one request at a time on every selected core; set -nstreams for "
            "concurrent requests, each on cores of its own"
        )
    if scenario in ("async", "server"):
        each = (
            "each one request in flight on the engine's multi-stream scheduler"
            if shared
            else "each with its own single-threaded engine instance"
        )
        return num_cores, (
            f"one stream per physical core ({num_cores} selected), {each}; set -nstreams to change"
        )
    n = max(1, num_cores // 2)
    return n, f"half the selected cores ({num_cores} // 2), as deepsparse.benchmark chose"


def plan_layout(
    scenario: str,
    topo: Topology,
    *,
    num_cores: int | None,
    num_streams: int | None,
    pinning: str,
    smt: bool = False,
    shared: bool = False,
    instances: str = "auto",
    inline_sharing: bool = False,
    engine: str = "the engine",
    isolation: str = "thread",
) -> Layout:
    """Plans streams, CPU sets and engine instances for a scenario; UsageError when impossible.

    ``shared``: the engine serves every scenario from one instance with its own scheduler
    (``Engine.schedules_streams``); every stream then runs on all selected cores.
    ``instances`` (auto | stream | node) and ``inline_sharing`` (``Engine.
    shares_inline_instances``) choose the instances of the other cases (``plan_instances``).
    ``isolation`` "process" gives each stream a worker process, so no instance can be shared.
    """
    scenario = parse_scenario(scenario)
    _check_instances(instances, isolation, scenario, shared)
    cores = _selected_cores(topo, num_cores)
    streams, reason = _streams(scenario, cores, num_streams, shared)

    # num_cores as given (None: all): on a hybrid CPU, all cores over fewer streams than core
    # types means the performance cores only, and -ncores over them is an error (a stream's
    # group never mixes core types; see csrc/core/affinity.h).
    if scenario in ("async", "server", "generate") and not shared:
        plans = plan_streams(topo, streams, cores=num_cores, pinning=pinning, smt=smt)
        sharing = Counter(tuple(p.cores) for p in plans)  # numa: streams of one node share it
        slots = tuple(
            StreamSlot(tuple(p.cpus), max(1, len(p.cores) // sharing[tuple(p.cores)]))
            for p in plans
        )
    else:
        plans = plan_streams(topo, 1, cores=num_cores, pinning=pinning, smt=smt)
        cpus = tuple(union_cpus(plans))
        threads = len(plans[0].cores) if topo.hybrid else cores
        slots = tuple(StreamSlot(cpus, threads) for _ in range(streams))
    used = len({c for p in plans for c in p.cores})
    if topo.hybrid and used < cores:
        log.info(
            "hybrid CPU: %d of the %d selected cores run (%s); a stream's cores are of one type",
            used,
            cores,
            ", ".join(sorted({topo.cores[c].core_type for p in plans for c in p.cores})),
        )
        cores = used
    plan = plan_instances(
        slots,
        topo,
        scenario=scenario,
        requested="stream" if isolation == "process" else instances,
        engine_schedules=shared,
        inline_sharing=inline_sharing,
        engine=engine,
    )
    return Layout(
        scenario=scenario,
        num_cores=cores,
        num_streams=streams,
        num_streams_reason=reason,
        pinning=pinning,
        shared_instance=scenario == "elastic" or shared,
        streams=slots,
        instances=plan,
        isolation=isolation,
    )


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


def _check_instances(instances: str, isolation: str, scenario: str, shared: bool) -> None:
    if instances not in INSTANCE_MODES:
        raise UsageError(
            f"unknown --instances {instances!r}: expected one of {', '.join(INSTANCE_MODES)}"
        )
    if isolation == "process" and (shared or scenario == "elastic"):
        why = (
            "this engine serves every stream from one instance of its own scheduler"
            if shared
            else "-s elastic shares one engine instance between the streams"
        )
        raise UsageError(
            f"--isolation process gives each stream a process of its own, but {why}: "
            "use --isolation thread"
        )


def _selected_cores(topo: Topology, num_cores: int | None) -> int:
    cores = len(topo.cores) if num_cores is None else num_cores
    if cores < 1:
        raise UsageError(f"-ncores must be at least 1, got {cores}")
    if cores > len(topo.cores):
        raise UsageError(
            f"-ncores {cores}: only {len(topo.cores)} physical cores are available to this "
            f"process (CPUs {_fmt(topo.allowed)})"
        )
    return cores


def _streams(scenario: str, cores: int, num_streams: int | None, shared: bool) -> tuple[int, str]:
    """The number of streams and why: the scenario's default, or as asked where it can run."""
    if num_streams is None:
        return default_num_streams(scenario, cores, shared)
    if num_streams < 1:
        raise UsageError(f"-nstreams must be at least 1, got {num_streams}")
    if num_streams > cores and scenario != "sync":
        raise UsageError(
            f"-nstreams {num_streams}: {scenario} runs at most one stream per selected core "
            f"({cores}); lower -nstreams or raise -ncores"
        )
    return (1, "sync runs one stream") if scenario == "sync" else (num_streams, "set by -nstreams")


def _fmt(cpus: list[int]) -> str:
    from .. import _core

    return _core.format_cpu_list(cpus)
