"""A background thread that reads the CPU counters while the streams run, outside their threads.

It wakes every ``interval`` seconds (default 0.1), reads ``/proc/stat`` and the per-thread and
total CPU time of this process and its child processes (``base.cpu_time``), and stamps each reading
with the runner's steady clock, so that readings can be matched to the measured window afterwards.
One read (counters, and each thread's CPU mask by one system call) costs 80-700 microseconds of
one CPU and takes the GIL for that long (it is this process's own time, so it is not counted as
interference).

Once the measured window has opened (``window_opened()``, from the runner's ``on_measure``) it
wakes every ``WINDOW_INTERVAL_S`` instead, unless threads' masks were still changing just before
(an engine that remasks its threads as it runs, read densely throughout). The interference needs
the readings that bracket the window: the last before it opens (one of the dense readings, at
most ``interval`` early) and the first after it closes (``stop()``'s, as the run returns); in
between only the masks, the clock frequencies and the energy counters' wrap are read, and those
need no tenth of a second. Why: where a stream holds every CPU, each reading preempts one of its
threads and may hold the GIL its next call needs; measured on onnxruntime-genai decode on both
CPUs of a 2-CPU machine, reading every 0.1 s through the window cost 3.1% of the tokens/s (1 CPU,
with one left free: 0.5%).

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
WINDOW_INTERVAL_S = 0.5  # once the measured window is open (see the module docstring)
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
        self._sparse = False  # set once the window opened, with no thread's mask moving

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

    def window_opened(self) -> None:
        """The measured window has opened: read every ``WINDOW_INTERVAL_S`` from the next
        reading on (the frequencies at each), unless a thread's mask changed in the last
        ``WINDOW_INTERVAL_S``: an engine that remasks its threads as it runs (OpenVINO's
        executor, many times a second) is read densely through the window too, or the masks a
        thread ran under would be missed (sparse readings left 5 of 20 OpenVINO runs beside a
        hog with moves the verdict could not put down to the engine)."""
        since = _core.now_ns() - int(WINDOW_INTERVAL_S * 1e9)
        histories = list(self.affinity.values())  # one call: the sampler thread adds to it
        moving = any(t >= since for history in histories for t, _ in history[1:])
        self._sparse = not moving

    @property
    def current_interval(self) -> float:
        """Seconds between readings now: ``interval``, or ``WINDOW_INTERVAL_S`` once sparse."""
        return max(self.interval, WINDOW_INTERVAL_S) if self._sparse else self.interval

    def _run(self) -> None:
        n = 0
        while not self._stop.wait(self.current_interval):
            n += 1
            frequencies = self._sparse or n % FREQUENCY_EVERY == 0
            self.readings.append(self.read(frequencies=frequencies))

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
