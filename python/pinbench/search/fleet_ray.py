"""The fleet on Ray: each alive node with CPUs is a host; a point is a task that asks for the
node's whole CPU count, pinned to the node (``NodeAffinitySchedulingStrategy``, not soft), and is
never retried by Ray itself (the fleet retries it elsewhere, and records it).

pinbench never starts a Ray cluster itself: Ray's servers (the GCS, the raylet, the workers)
listen on every interface whatever ``ray.init`` is given (``_node_ip_address="127.0.0.1"`` moves
only the dashboard agent to loopback; measured with Ray 2.60), and a Ray cluster has no
authentication: whoever reaches its ports runs code on it. So ``--cluster ray`` joins the cluster
already running on this machine (``ray start --head``, or ``RAY_ADDRESS``), and ``--cluster
ray://HOST:PORT`` or ``HOST:PORT`` the cluster the user names. A process that has already called
``ray.init`` keeps its cluster.

A node's name is its ``pinbench-host:NAME`` custom resource when it has one, else its host name
and the start of its node id; its kind is its ``pinbench-kind:NAME`` resource, else its CPU
model and CPU count.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import TYPE_CHECKING, Any

from ..base.errors import UsageError, shorten
from ..base.logs import log
from .fleet_host import Slot, TaskFailed, driver_thread_env, probe_host, run_on_host

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterator, Sequence

    from ..settings import FleetSettings, SweepSettings
    from .fleet_host import PointReport
    from .sweep_grid import GridPoint

INSTALL = "pip install 'pinbench[ray]'"
HOST_RESOURCE = "pinbench-host:"
KIND_RESOURCE = "pinbench-kind:"
NO_CLUSTER = (
    "no Ray cluster is running here: start one with `ray start --head` (its servers listen on "
    "every interface: see docs/fleet.md) or name one with --cluster ray://HOST:PORT"
)


def import_ray() -> Any:
    """The ray module; UsageError (one line) when it is not installed."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--cluster ray needs Ray, which is not installed: {INSTALL}") from None
    return ray


class RayBackend:
    """A Ray cluster, joined or started on 127.0.0.1; see the module docstring."""

    backend = "ray"

    def __init__(self, fleet: FleetSettings) -> None:
        self.ray = ray = import_ray()
        self.joined = False
        if not ray.is_initialized():
            try:
                with kept_signal_handlers():
                    ray.init(address=fleet.ray_address, log_to_driver=False, logging_level="ERROR")
            except ConnectionError as e:
                local = fleet.cluster == "ray"
                raise UsageError(
                    NO_CLUSTER if local else f"--cluster {fleet.cluster}: {e}"
                ) from None
            except Exception as e:  # Ray's own errors for an address that is no cluster
                raise UsageError(f"--cluster {fleet.cluster}: {shorten(e, 200)}") from None
            self.joined = True
        self.thread_env = driver_thread_env()
        self._probe = ray.remote(probe_host)
        self._point = ray.remote(run_on_host)

    def _strategy(self, slot: Slot) -> Any:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        return NodeAffinitySchedulingStrategy(node_id=slot.key, soft=False)

    def probe(self, sweep: SweepSettings) -> list[Slot]:
        nodes = [n for n in self.ray.nodes() if n.get("Alive") and n["Resources"].get("CPU")]
        slots = []
        for n in nodes:
            res = n["Resources"]
            name = _tagged(res, HOST_RESOURCE) or f"{n['NodeManagerHostname']}/{n['NodeID'][:8]}"
            slots.append(
                Slot(name, _tagged(res, KIND_RESOURCE) or "", int(res["CPU"]), n["NodeID"])
            )
        refs = [
            self._probe.options(num_cpus=0, scheduling_strategy=self._strategy(s)).remote(sweep)
            for s in slots
        ]
        out = []
        for s, ref in zip(slots, refs):
            try:
                report = self.ray.get(ref)
            except self.ray.exceptions.RayError as e:
                raise UsageError(f"host {s.name}: the probe failed: {_one_line(e)}") from None
            kind = s.kind or f"{report.environment.get('cpu_model', 'unknown')} x{s.cpus}"
            out.append(Slot(s.name, kind, s.cpus, s.key, report))
        return out

    def submit(self, slot: Slot, sweep: SweepSettings, point: GridPoint) -> Hashable:
        assert slot.report is not None
        options = self._point.options(
            num_cpus=slot.cpus,  # the whole node: a benchmark owns its host
            scheduling_strategy=self._strategy(slot),
            max_retries=0,
            retry_exceptions=False,
        )
        ref: Hashable = options.remote(sweep, point, slot.report.cpus, self.thread_env)
        return ref

    def wait(self, handles: Sequence[Hashable], timeout: float) -> list[Hashable]:
        if not handles:
            return []
        ready, _ = self.ray.wait(list(handles), num_returns=len(handles), timeout=timeout)
        return list(ready)

    def result(self, handle: Hashable) -> PointReport:
        try:
            report: PointReport = self.ray.get(handle)
        except self.ray.exceptions.RayError as e:
            raise TaskFailed(_one_line(e)) from None
        return report

    def host_name(self, slot: Slot, report: PointReport | None) -> str:
        return slot.name

    def alive(self, slot: Slot) -> bool:
        return any(n["NodeID"] == slot.key and n.get("Alive") for n in self.ray.nodes())

    def cancel(self, handles: Sequence[Hashable]) -> None:
        for ref in handles:
            try:
                self.ray.cancel(ref, force=True)
            except Exception:  # already ended, or its node is gone: nothing left to stop
                log.debug("cancel", exc_info=True)

    def close(self) -> None:
        if self.joined:  # disconnects this driver; the cluster goes on
            self.ray.shutdown()


@contextlib.contextmanager
def kept_signal_handlers() -> Iterator[None]:
    """Python's SIGINT and SIGTERM handlers as they were before the block: ``ray.init`` installs a
    native SIGTERM handler in the driver that prints a stack and exits, so a SIGTERM would lose
    the points that arrived instead of ending the sweep as Ctrl-C does."""
    main = threading.current_thread() is threading.main_thread()
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)} if main else {}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            if handler is not None:  # None: not set from Python, nothing to put back
                signal.signal(sig, handler)


def _tagged(resources: dict[str, float], prefix: str) -> str | None:
    return next((k[len(prefix) :] for k in resources if k.startswith(prefix)), None)


def _one_line(e: BaseException) -> str:
    """Ray's errors carry the remote traceback: the type and the first line of the message."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return shorten(f"{type(e).__name__}: {lines[0] if lines else ''}", 120)
