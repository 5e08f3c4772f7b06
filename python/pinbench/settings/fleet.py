"""FleetSettings: where a sweep's points run when not on this machine (Ray or Slurm), and the
check of its cluster and mode.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..base.errors import UsageError
from .checks import is_int

FLEET_MODES = ("spread", "every-host")
RAY_PREFIX = "ray://"
SLURM_CLUSTERS = ("slurm", "slurm:local")  # slurm:local = submitit's local executor


@dataclass(frozen=True)
class FleetSettings:
    """Where a sweep's points run when not on this machine (``pinbench.search.fleet``).

    ``cluster``: ``ray`` (the Ray cluster running on this machine: ``ray start --head``),
    ``ray://HOST:PORT`` or ``HOST:PORT`` (a Ray cluster the user names), ``slurm`` (submitit,
    one exclusive allocation per point) or ``slurm:local`` (submitit's local executor: the same
    jobs as processes here, to try a campaign out). ``mode``: ``spread`` divides the grid among
    identical hosts; ``every-host`` runs the whole grid on each kind of host.

    Example::

        >>> FleetSettings("ray://10.0.0.5:10001", mode="every-host").validate().backend
        'ray'
    """

    cluster: str = "ray"
    mode: str = "spread"
    slurm_folder: str = "pinbench-slurm"  # submitit's job files and logs (an output folder)
    slurm_partitions: tuple[str, ...] = ()  # each a kind of host; () = the default partition
    slurm_hosts: int = 1  # allocations held at once per partition (spread)
    slurm_timeout_min: int = 60  # each job's time limit

    @property
    def backend(self) -> str:
        return "slurm" if self.cluster in SLURM_CLUSTERS else "ray"

    @property
    def ray_address(self) -> str:
        """The address to join (``auto``: the cluster running on this machine). pinbench never
        starts one: Ray's servers listen on every interface (docs/fleet.md)."""
        return "auto" if self.cluster == "ray" else self.cluster

    def validate(self) -> FleetSettings:
        """UsageError (one line) for a cluster or mode that names nothing pinbench knows."""
        c = self.cluster.strip()
        if not (c in ("ray", *SLURM_CLUSTERS) or c.startswith(RAY_PREFIX) or _host_port(c)):
            raise UsageError(
                f"--cluster {c!r}: expected ray, ray://HOST:PORT, HOST:PORT, slurm or slurm:local"
            )
        if self.mode not in FLEET_MODES:
            raise UsageError(f"fleet mode {self.mode!r}: expected {' or '.join(FLEET_MODES)}")
        if not (is_int(self.slurm_hosts) and self.slurm_hosts >= 1):
            raise UsageError(f"--slurm-hosts {self.slurm_hosts!r}: expected an integer >= 1")
        if not (is_int(self.slurm_timeout_min) and self.slurm_timeout_min >= 1):
            raise UsageError(f"--slurm-timeout {self.slurm_timeout_min!r}: expected minutes >= 1")
        return dataclasses.replace(self, cluster=c)


def _host_port(text: str) -> bool:
    host, _, port = text.rpartition(":")
    return bool(host) and port.isdigit()
