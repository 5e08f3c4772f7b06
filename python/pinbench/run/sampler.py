"""A background thread that reads the CPU counters while the streams run, outside their threads.

It wakes every ``interval`` seconds (default 0.1), reads ``/proc/stat`` and the per-thread and
total CPU time of this process and its child processes (``base.cpu_time``), and stamps each reading
with the runner's steady clock, so that readings can be matched to the measured window afterwards.
One read (counters, and each thread's CPU mask by one system call) costs a few hundred
microseconds of one CPU and takes the GIL only for that long: 0.2-0.5% of a core at the default
interval (it is this process's own time, so it is not counted as
interference).

With a ``Rapl`` it reads the energy counters too, at every reading (``energy``): often enough that
a counter wraps at most once between two of them.

Example::

    with WindowSampler() as sampler:
        m = measure(...)
    readings, affinity = sampler.readings, sampler.affinity
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .. import _core
from ..base.cpu_time import (
    CpuReading,
    read_children,
    read_cpu_busy,
    read_process_ticks,
    read_thread_ticks,
    thread_affinity,
)
from ..base.cpufreq import UNKNOWN, read_frequencies

if TYPE_CHECKING:
    from types import TracebackType

    from ..base.energy import EnergyReading, Rapl


DEFAULT_INTERVAL_S = 0.1
FREQUENCY_EVERY = 5  # readings: the clock frequencies every 0.5 s (a file per CPU each time)


class WindowSampler:
    """Reads the CPU counters at ``start()``, every ``interval`` seconds, and at ``stop()``; and
    the current frequency of ``cpus`` (those the streams run on) at both ends and every
    ``FREQUENCY_EVERY`` readings between."""

    def __init__(
        self,
        interval: float = DEFAULT_INTERVAL_S,
        proc_root: str = "/proc",
        *,
        cpus: list[int] | None = None,
        sysfs_root: str = "/sys",
        rapl: Rapl | None = None,
    ) -> None:
        self.interval = interval
        self.proc_root = proc_root
        self.sysfs_root = sysfs_root
        self.cpus = list(cpus or [])
        self.frequency_source = UNKNOWN
        self.readings: list[CpuReading] = []
        # tid -> (steady ns first read, CPUs), a new entry each time a thread's mask changes
        self.affinity: dict[int, list[tuple[int, list[int]]]] = {}
        self.rapl = rapl if rapl is not None and rapl.domains else None
        self.energy: list[EnergyReading] = []  # with each reading, when rapl has domains
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def read(self, *, frequencies: bool = False) -> CpuReading:
        """One reading now, with the CPU mask of every thread of the run."""
        root = self.proc_root
        children = read_children(root)  # the worker processes of --isolation process
        threads = read_thread_ticks(root, children)
        t_masks = _core.now_ns()
        for tid in threads:
            # Every reading, not once: an engine may pin its pool's threads after creating
            # them, and OpenVINO's executor widens a stream thread's mask to every CPU while it
            # runs a request and narrows it again after, many times a second. A thread whose
            # mask changed in the window may have run on any CPU of any of its masks.
            cpus = thread_affinity(tid, root)
            history = self.affinity.setdefault(tid, [])
            if cpus is not None and (not history or history[-1][1] != cpus):
                history.append((t_masks, cpus))
        mhz = None
        if frequencies and self.cpus:
            mhz, self.frequency_source = read_frequencies(self.cpus, self.sysfs_root, root)
        if self.rapl is not None:
            self.energy.append(self.rapl.read())
        t = _core.now_ns()
        return CpuReading(t, read_cpu_busy(root), read_process_ticks(root, children), threads, mhz)

    def start(self) -> None:
        self.readings.append(self.read(frequencies=True))
        self._thread = threading.Thread(target=self._run, name="pinbench-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.readings.append(self.read(frequencies=True))

    def _run(self) -> None:
        n = 0
        while not self._stop.wait(self.interval):
            n += 1
            self.readings.append(self.read(frequencies=n % FREQUENCY_EVERY == 0))

    def __enter__(self) -> WindowSampler:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
