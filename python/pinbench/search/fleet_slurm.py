"""The fleet on Slurm, through submitit: each point is a job of one node, one task, in an
exclusive allocation (``--exclusive``: no other job shares the node while the point runs).

Slurm names its nodes only once a job runs, so the hosts are *slots*: ``--slurm-hosts N``
allocations held at once per partition, each partition one kind of host (``--slurm-partitions
a,b``; none: the cluster's default partition). A point is recorded under the node its job ran
on. Before anything runs, one probe job per partition checks the version and the grid there.

``--cluster slurm:local`` runs the same jobs through submitit's local executor, as processes on
this machine (not exclusive: they share its CPUs), to try a campaign out before a cluster.
"""

from __future__ import annotations

import shutil
import time
from typing import TYPE_CHECKING, Any

from ..base.errors import UsageError, shorten
from ..base.logs import log
from .fleet_host import Slot, TaskFailed, driver_thread_env, probe_host, run_on_host

if TYPE_CHECKING:
    from collections.abc import Hashable, Sequence

    from ..settings import FleetSettings, SweepSettings
    from .fleet_host import PointReport
    from .sweep_grid import GridPoint

INSTALL = "pip install 'pinbench[slurm]'"
POLL_S = 0.1


def import_submitit() -> Any:
    """The submitit module; UsageError (one line) when it is not installed."""
    try:
        import submitit
    except ImportError:
        raise UsageError(
            f"--cluster slurm needs submitit, which is not installed: {INSTALL}"
        ) from None
    return submitit


class SlurmBackend:
    """Slurm (or submitit's local executor) driven through submitit; see the module docstring."""

    backend = "slurm"

    def __init__(self, fleet: FleetSettings) -> None:
        self.submitit = import_submitit()
        self.fleet = fleet
        self.cluster = "local" if fleet.cluster == "slurm:local" else "slurm"
        if self.cluster == "slurm" and shutil.which("sbatch") is None:
            raise UsageError("--cluster slurm: no sbatch on PATH (run it on a Slurm login node)")
        self.thread_env = driver_thread_env()
        self.jobs: dict[Hashable, Any] = {}

    def _executor(self, partition: str | None, name: str) -> Any:
        ex = self.submitit.AutoExecutor(folder=self.fleet.slurm_folder, cluster=self.cluster)
        ex.update_parameters(**job_parameters(self.fleet, partition, name))
        return ex

    def probe(self, sweep: SweepSettings) -> list[Slot]:
        partitions = self.fleet.slurm_partitions or ("",)
        probes = [self._executor(p, "pinbench-probe").submit(probe_host, sweep) for p in partitions]
        out = []
        for part, job in zip(partitions, probes):
            try:
                report = job.result()
            except Exception as e:
                where = part or "the default partition"
                raise UsageError(f"{where}: the probe job failed: {_one_line(e)}") from None
            cpus = len(report.cpus)
            kind = f"{part or 'default'}: {report.environment.get('cpu_model', 'unknown')} x{cpus}"
            out += [
                Slot(f"{part or 'default'}#{i}", kind, cpus, part, report)
                for i in range(self.fleet.slurm_hosts)
            ]
        return out

    def submit(self, slot: Slot, sweep: SweepSettings, point: GridPoint) -> Hashable:
        assert slot.report is not None
        job = self._executor(slot.key, "pinbench-point").submit(
            run_on_host,
            sweep,
            point,
            (),
            self.thread_env,  # the allocation's CPUs, all of them
        )
        self.jobs[job.job_id] = job
        handle: Hashable = job.job_id
        return handle

    def wait(self, handles: Sequence[Hashable], timeout: float) -> list[Hashable]:
        end = time.monotonic() + timeout
        while True:
            ready = [h for h in handles if self.jobs[h].done()]
            if ready or time.monotonic() >= end:
                return ready
            time.sleep(POLL_S)

    def result(self, handle: Hashable) -> PointReport:
        job = self.jobs.pop(handle)
        try:
            report: PointReport = job.result()
        except Exception as e:  # submitit's failed or uncompleted job: the task is lost
            raise TaskFailed(f"job {handle}{_node(job)}: {_one_line(e)}") from None
        return report

    def host_name(self, slot: Slot, report: PointReport | None) -> str:
        return report.hostname if report is not None else slot.name

    def alive(self, slot: Slot) -> bool:
        return True  # Slurm gives the next job another node when one dies

    def cancel(self, handles: Sequence[Hashable]) -> None:
        for h in handles:
            job = self.jobs.pop(h, None)
            if job is not None:
                try:
                    job.cancel(check=False)
                except Exception:  # already ended: nothing left to stop
                    log.debug("cancel", exc_info=True)

    def close(self) -> None:
        self.jobs.clear()


def job_parameters(fleet: FleetSettings, partition: str | None, name: str) -> dict[str, Any]:
    """submitit's parameters of a job: one node, one task, exclusive (``#SBATCH --exclusive``:
    the node is the point's alone), the time limit and the partition."""
    params: dict[str, Any] = {
        "timeout_min": fleet.slurm_timeout_min,
        "nodes": 1,
        "tasks_per_node": 1,
        "name": name,
        "slurm_exclusive": True,
    }
    if partition:
        params["slurm_partition"] = partition
    return params


def _node(job: Any) -> str:
    """`` on NODE`` when Slurm's accounting names the node the job ran on."""
    try:
        node = job.get_info().get("NodeList")
    except Exception:  # the local executor has no accounting
        node = None
    return f" on {node}" if node else ""


def _one_line(e: BaseException) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return shorten(f"{type(e).__name__}: {lines[-1] if lines else ''}", 160)
