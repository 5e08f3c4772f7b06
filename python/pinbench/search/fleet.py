"""``pinbench sweep ... --cluster ray|ray://ADDRESS|slurm``: one sweep's grid run on many hosts.

Before anything runs, every host is probed (a task on each Ray node, a job per Slurm partition):
its pinbench version (a mismatch with this machine's is a usage error), its environment record
and the grid as checked there (``check_grid``: ``--cores max`` is that host's cores; a grid that
cannot run on a host is a usage error naming it).

**A benchmark owns its host.** The driver hands a point only to a free host, so at most one point
runs on a host at a time, and the task asks for all of the host's CPUs (Ray: the node's whole CPU
count, pinned to the node; Slurm: an exclusive allocation). On the host the task sets its own CPU
affinity (all the CPUs the host gives it) and the thread variables as they are on this machine
(Ray sets ``OMP_NUM_THREADS`` to a task's CPU count when it is unset), then runs the point
through ``measure_point``, the function a local sweep point runs, and returns the point with the
host's environment record.

Modes: ``spread`` divides the grid among the hosts of one kind (the kind most hosts have; the
others stay idle, and a line says so); ``every-host`` runs the whole grid once per kind of host,
divided among the hosts of that kind.

**Nothing lost.** Each point is handed to ``on_point`` as it arrives (the command rewrites its
JSON then). A task that fails, or a host that dies, is retried once on another host of the same
kind (the retry and the first error are recorded on the point and in ``Fleet.retries``); without
such a host the point is a failure naming its host. Ctrl-C cancels the tasks in flight and the
sweep ends with the points that arrived, marked interrupted.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..base.errors import RunError, UsageError, shorten
from ..base.logs import log
from ..base.signals import take_latched
from ..base.version import pinbench_version
from ..result.fleet import Fleet, Host, Retry
from ..result.fleet_best import best_by_kind
from .fleet_host import PointReport, Slot, TaskFailed
from .sweep_frontier import assemble_sweep
from .sweep_grid import Grid, GridPoint
from .sweep_runner import ERROR_CHARS, failed_point

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Sequence

    from ..result.record import Result
    from ..result.sweep_record import Sweep, SweepPoint
    from ..settings import FleetSettings, SweepSettings

WAIT_S = 0.25  # how long the driver waits for a task before it looks for Ctrl-C again


# --- the backends' one interface -----------------------------------------------------------------


class Backend(Protocol):
    """A cluster as the fleet drives it (``fleet_ray``, ``fleet_slurm``)."""

    backend: str

    def probe(self, sweep: SweepSettings) -> list[Slot]:
        """Every slot, each with its probe's report."""
        ...

    def submit(self, slot: Slot, sweep: SweepSettings, point: GridPoint) -> Hashable:
        """Starts ``point`` on ``slot``; the handle to wait on."""
        ...

    def wait(self, handles: Sequence[Hashable], timeout: float) -> list[Hashable]:
        """The handles whose tasks ended within ``timeout`` seconds."""
        ...

    def result(self, handle: Hashable) -> PointReport:
        """The task's report; TaskFailed (one line) when it ended without one."""
        ...

    def host_name(self, slot: Slot, report: PointReport | None) -> str:
        """The name the points of ``slot`` are recorded under."""
        ...

    def alive(self, slot: Slot) -> bool: ...

    def cancel(self, handles: Sequence[Hashable]) -> None: ...

    def close(self) -> None: ...


# --- the driver ----------------------------------------------------------------------------------


@dataclass
class _Job:
    index: int  # the point's place in the document
    point: GridPoint
    kind: str
    tried: list[Slot] = field(default_factory=list)
    first_error: str | None = None


def check_hosts(slots: Sequence[Slot], version: str) -> None:
    """UsageError (one line) when a host runs another pinbench than ``version`` or cannot run
    the grid; before anything runs."""
    if not slots:
        raise UsageError("the cluster has no host with CPUs to run on")
    for s in slots:
        assert s.report is not None
        if s.report.version != version:
            raise UsageError(
                f"host {s.name} runs pinbench {s.report.version}, this machine {version}: "
                "install the same pinbench on every host"
            )
        if s.report.error is not None:
            raise UsageError(f"host {s.name}: {s.report.error}")


def plan_jobs(slots: Sequence[Slot], mode: str) -> list[_Job]:
    """The points to run and the kind of host each needs: ``spread``, the grid once on the kind
    most hosts have; ``every-host``, the grid once per kind."""
    kinds: dict[str, list[Slot]] = {}
    for s in slots:
        kinds.setdefault(s.kind, []).append(s)
    if mode == "spread":
        chosen = max(kinds, key=lambda k: len(kinds[k]))
        idle = [s.name for s in slots if s.kind != chosen]
        if idle:
            log.warning(
                "fleet --spread: %d host(s) of another kind left idle (%s); --every-host "
                "compares kinds",
                len(idle),
                ", ".join(idle),
            )
        kinds = {chosen: kinds[chosen]}
    jobs: list[_Job] = []
    for kind, own in kinds.items():
        report = own[0].report
        assert report is not None
        jobs += [_Job(len(jobs) + i, p, kind) for i, p in enumerate(report.points)]
    return jobs


def run_fleet(
    sweep: SweepSettings,
    backend: Backend,
    on_point: Callable[[Sweep[Result]], None] | None = None,
) -> Sweep[Result]:
    """Runs the grid of ``sweep`` on the backend's hosts; see the module docstring.

    REQUIRES: ``sweep`` validated, with ``sweep.fleet`` set.

    Example::

        >>> fleet = FleetSettings("ray://10.0.0.5:10001", mode="every-host")
        >>> s = SweepSettings(base, streams=(1, 2), fleet=fleet).validate()
        >>> run_fleet(s, connect(s.fleet)).fleet.best_by_kind  # doctest: +SKIP
    """
    slots = backend.probe(sweep)
    check_hosts(slots, pinbench_version())
    for s in slots:
        log.info("fleet host %s: %s, %d CPU(s)", s.name, s.kind, s.cpus)
    run = _FleetRun(sweep, backend, slots, plan_jobs(slots, _mode(sweep)), on_point)
    return run.run()


def _mode(sweep: SweepSettings) -> str:
    assert sweep.fleet is not None
    return sweep.fleet.mode


class _FleetRun:
    """One fleet sweep in progress: the queue, the tasks in flight and the points arrived."""

    def __init__(
        self,
        sweep: SweepSettings,
        backend: Backend,
        slots: Sequence[Slot],
        jobs: list[_Job],
        on_point: Callable[[Sweep[Result]], None] | None,
    ) -> None:
        self.sweep, self.backend, self.slots, self.on_point = sweep, backend, list(slots), on_point
        self.jobs = jobs
        self.queue: deque[_Job] = deque(jobs)
        self.free = {s.name for s in slots}
        self.dead: set[str] = set()
        self.inflight: dict[Hashable, tuple[_Job, Slot]] = {}
        self.done: dict[int, SweepPoint[Result]] = {}
        self.retries: list[Retry] = []
        self.hosts: dict[tuple[str, str], Host] = {}

    def run(self) -> Sweep[Result]:
        interrupt = None
        try:
            while self.queue or self.inflight:
                self._start_free()
                ready = self.backend.wait(list(self.inflight), WAIT_S)
                for handle in ready:
                    self._arrived(handle)
        except KeyboardInterrupt as e:
            # the signal latched by the command line names it: Ray's wait turns the exception a
            # SIGTERM handler raises into a KeyboardInterrupt
            interrupt = take_latched() or type(e).__name__
            self.backend.cancel(list(self.inflight))
            log.warning(
                "fleet sweep interrupted after %d of %d configurations; %d task(s) cancelled",
                len(self.done),
                len(self.jobs),
                len(self.inflight),
            )
        return self.assemble(interrupt)

    def _start_free(self) -> None:
        for job in list(self.queue):
            slot = self._free_slot(job)
            if slot is None:
                if not self._candidates(job):
                    self.queue.remove(job)
                    self._give_up(job)
                continue
            self.queue.remove(job)
            self.free.discard(slot.name)
            self.inflight[self.backend.submit(slot, self.sweep, job.point)] = (job, slot)

    def _candidates(self, job: _Job) -> list[Slot]:
        tried = {s.name for s in job.tried}
        return [
            s
            for s in self.slots
            if s.kind == job.kind and s.name not in self.dead and s.name not in tried
        ]

    def _free_slot(self, job: _Job) -> Slot | None:
        return next((s for s in self._candidates(job) if s.name in self.free), None)

    def _arrived(self, handle: Hashable) -> None:
        job, slot = self.inflight.pop(handle)
        self.free.add(slot.name)
        try:
            report = self.backend.result(handle)
        except TaskFailed as e:
            self._task_failed(job, slot, str(e))
            return
        name = self.backend.host_name(slot, report)
        self._host(name, slot, report.environment)
        if job.tried:
            failed = job.tried[0]
            assert job.first_error is not None
            self.retries.append(
                Retry(_command(job), self.backend.host_name(failed, None), job.first_error, name)
            )
        point = dataclasses.replace(
            report.point, host=name, host_kind=slot.kind, retried_from=job.first_error
        )
        self._record(job, point)

    def _task_failed(self, job: _Job, slot: Slot, error: str) -> None:
        name = self.backend.host_name(slot, None)
        if not self.backend.alive(slot):
            self.dead.add(slot.name)
            self.free.discard(slot.name)
            why = f"host {name} died: {error}"
        else:
            why = f"task failed on host {name}: {error}"
        log.warning("fleet: %s", why)
        if not job.tried:
            job.tried.append(slot)
            job.first_error = shorten(why, ERROR_CHARS)
            self.queue.appendleft(job)  # retried once elsewhere, ahead of the others
            return
        job.tried.append(slot)
        first = self.backend.host_name(job.tried[0], None)
        self.retries.append(Retry(_command(job), first, job.first_error or why, name))
        self._record(job, self._failed(job, why, name))

    def _give_up(self, job: _Job) -> None:
        """No host of the job's kind is left to (re)try it on."""
        first = job.tried[0] if job.tried else None
        host = None if first is None else self.backend.host_name(first, None)
        why = job.first_error or f"no host of kind {job.kind} left"
        if first is not None:
            self.retries.append(Retry(_command(job), host or "?", why, None))
            why = f"no other host of kind {job.kind} to retry on after: {why}"
        self._record(job, self._failed(job, why, host))

    def _failed(self, job: _Job, why: str, host: str | None) -> SweepPoint[Result]:
        failed = failed_point(job.point, self.sweep, RunError(why))
        return dataclasses.replace(
            failed, host=host, host_kind=job.kind, retried_from=job.first_error
        )

    def _host(self, name: str, slot: Slot, environment: dict[str, Any]) -> None:
        if (name, slot.kind) not in self.hosts:
            self.hosts[name, slot.kind] = Host(name, slot.kind, slot.cpus, environment)

    def _record(self, job: _Job, point: SweepPoint[Result]) -> None:
        self.done[job.index] = point
        what = f"{point.model}, {point.engine}, {point.num_cores} core(s), {point.scenario}"
        if point.error is not None:
            log.warning("fleet %d/%d on %s: %s: failed: %s", len(self.done), len(self.jobs),
                        point.host, what, point.error)  # fmt: skip
        else:
            log.info("fleet %d/%d on %s: %s, batch %d, %d stream(s): %.1f items/s",
                     len(self.done), len(self.jobs), point.host, what, point.batch_size,
                     point.num_streams, point.items_per_sec)  # fmt: skip
        if self.on_point is not None:
            self.on_point(self.assemble(None))

    def assemble(self, interrupt: str | None) -> Sweep[Result]:
        """The sweep of the points arrived so far, in plan order, with the fleet's record."""
        points = [self.done[i] for i in sorted(self.done)]
        reports = [s.report for s in self.slots if s.report is not None]
        grid = Grid(
            models=tuple(dict.fromkeys(m for r in reports for m in r.models)),
            engines=self.sweep.engines,
            cores=tuple(sorted({c for r in reports for c in r.cores})),
            points=tuple(j.point for j in self.jobs),
            classes={},
        )
        sweep = assemble_sweep(self.sweep, grid, points, interrupt)
        return dataclasses.replace(sweep, fleet=self._record_of(points, grid.models))

    def _record_of(self, points: list[SweepPoint[Result]], models: Sequence[str]) -> Fleet:
        assert self.sweep.fleet is not None
        probed = [
            Host(self.backend.host_name(s, None), s.kind, s.cpus, s.report.environment)
            for s in self.slots
            if s.report is not None
            and self.backend.backend == "ray"  # a Slurm slot is no host until a job reports one
            and (self.backend.host_name(s, None), s.kind) not in self.hosts
        ]
        # Jobs finish in any order; the record lists kinds as probed and hosts by name within one.
        kind_order = {k: i for i, k in enumerate(dict.fromkeys(s.kind for s in self.slots))}
        found = (*self.hosts.values(), *probed)
        hosts = tuple(sorted(found, key=lambda h: (kind_order.get(h.kind, 0), h.name)))
        return Fleet(
            backend=self.backend.backend,
            cluster=self.sweep.fleet.cluster,
            mode=self.sweep.fleet.mode,
            hosts=hosts,
            retries=tuple(self.retries),
            best_by_kind=best_by_kind(points, models, hosts, self.sweep.latency_slo_ms),
        )


def _command(job: _Job) -> str:
    return f"{job.point.model} {job.point.engine} c{job.point.num_cores} {job.point.scenario} " \
        f"b{job.point.batch_size} s{job.point.num_streams}"  # fmt: skip


def require_extra(fleet: FleetSettings) -> None:
    """UsageError (one line) when the backend's extra is not installed; checked before the
    backend connects (``api`` checks it after the output guard, and removes the job folder the
    guard made when it fails)."""
    if fleet.backend == "slurm":
        from .fleet_slurm import import_submitit

        import_submitit()
    else:
        from .fleet_ray import import_ray

        import_ray()


def connect(sweep: SweepSettings) -> Backend:
    """The backend of ``sweep.fleet``; UsageError (one line) when its extra is not installed
    or the cluster cannot be reached."""
    assert sweep.fleet is not None
    if sweep.fleet.backend == "slurm":
        from .fleet_slurm import SlurmBackend

        return SlurmBackend(sweep.fleet)
    from .fleet_ray import RayBackend

    return RayBackend(sweep.fleet)
