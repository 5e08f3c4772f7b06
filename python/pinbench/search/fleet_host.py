"""What runs on a fleet's host (``pinbench.search.fleet``): the probe before anything runs, and a
point, run through ``measure_point`` as a local sweep runs it, on a host the task owns. Also the
records both sides share: the reports, a slot, a task's failure."""

from __future__ import annotations

import dataclasses
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..base.errors import PinbenchError, shorten
from ..base.logs import quiet_logs
from ..base.version import pinbench_version
from ..engines import engine_class
from ..run.environment import capture_environment
from ..run.prepare import prepare
from .sweep_grid import GridPoint, check_grid, request_settings
from .sweep_runner import ERROR_CHARS, failed_point, measure_point

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..result.record import Result
    from ..result.sweep_record import SweepPoint
    from ..settings import SweepSettings

# The thread variables a task sets as they are on the driver (unset there: unset on the host).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class TaskFailed(Exception):
    """A task ended without a point: its host died, its worker crashed, it was cancelled."""


@dataclass(frozen=True)
class HostReport:
    """What a host's probe found, before anything runs."""

    hostname: str
    version: str
    environment: dict[str, Any]
    cpus: tuple[int, ...]  # the CPUs a task may use there
    models: tuple[str, ...] = ()  # the grid as checked there
    cores: tuple[int, ...] = ()
    points: tuple[GridPoint, ...] = ()
    error: str | None = None  # why the grid cannot run there


@dataclass(frozen=True)
class PointReport:
    """A point as its host measured it, with the host's environment record."""

    point: SweepPoint[Result]
    hostname: str
    environment: dict[str, Any]


def probe_host(sweep: SweepSettings) -> HostReport:
    """Runs on a host: its version, environment and the grid checked there."""
    env = capture_environment().to_dict()
    cpus = tuple(sorted(os.sched_getaffinity(0)))
    report = HostReport(socket.gethostname(), pinbench_version(), env, cpus)
    try:
        with quiet_logs():
            grid = check_grid(sweep)
    except PinbenchError as e:
        return dataclasses.replace(report, error=shorten(e, ERROR_CHARS))
    return dataclasses.replace(report, models=grid.models, cores=grid.cores, points=grid.points)


def run_on_host(
    sweep: SweepSettings,
    point: GridPoint,
    cpus: Sequence[int],
    thread_env: dict[str, str | None],
) -> PointReport:
    """Runs on a host that the task owns: the affinity and thread variables set, then the point
    run as a local sweep runs it (``measure_point``)."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    for name, value in thread_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    at_batch = request_settings(point, sweep.base)
    try:
        with quiet_logs():
            prepared = prepare(at_batch)
    except Exception as e:
        done = failed_point(point, sweep, e)
    else:
        with prepared:
            done = measure_point(point, sweep, engine_class(point.engine), prepared, at_batch)
    return PointReport(done, socket.gethostname(), capture_environment().to_dict())


def driver_thread_env() -> dict[str, str | None]:
    """The thread variables of this machine, for the tasks to set on their hosts."""
    return {name: os.environ.get(name) for name in THREAD_VARIABLES}


@dataclass(frozen=True)
class Slot:
    """A place a point can run: a Ray node, or one of a Slurm partition's allocations."""

    name: str
    kind: str
    cpus: int
    key: Any = None  # the backend's handle on it (a node id, a partition)
    report: HostReport | None = None
