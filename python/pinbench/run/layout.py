"""The layout of a run: how many streams, which CPUs each, and how many engine threads.

| scenario | streams | engine instances                | cores                              |
|----------|---------|---------------------------------|------------------------------------|
| sync     | 1       | 1                               | all selected cores                 |
| async    | N       | one per stream, on its thread   | disjoint core groups, one a stream |
| elastic  | N       | one, shared by all streams      | one pool over all selected cores   |
| server   | N       | as async                        | as async; queries arrive open-loop |
| generate | 1, or N | as async                        | as async; each call of a request   |

"One per stream" is the rule for streams of a core group; one-core streams share one instance
per NUMA node when ``--instances`` (auto, node) says so (``pinbench.run.instances``). An engine
with ``schedules_streams`` (DeepSparse) gets one shared instance in every scenario and maps the
scenario onto its own scheduler; every stream then runs on all selected cores.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..base.errors import UsageError
from ..base.logs import log
from ..settings import INSTANCE_MODES, parse_scenario
from .instances import plan_instances
from .topology import plan_streams, union_cpus

if TYPE_CHECKING:
    from .._core import Topology
    from ..result.config import InstancePlan


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
    shares_inline_instances``) choose the instances of the other cases (``run.instances``).
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
