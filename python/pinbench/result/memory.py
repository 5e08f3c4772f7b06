"""The process's memory around a run: resident set size (RSS) before and after the engine
instances were built, what each instance's creation added, and the peak; with process
isolation, each worker's proportional set size (PSS) too. Plain records; read on
the stream threads and the main thread (``pinbench.run.instances``, ``pinbench.run.execute``),
assembled in ``pinbench.run.assemble``.

Every figure is the whole process's, in bytes (``base.process.read_memory``: ``VmRSS`` of
``/proc/self/status``; the peak is ``getrusage``'s ``ru_maxrss``). While instances are built,
glibc hands freed large blocks back at once (``base.allocator``), so an RSS read then counts what
the build kept, not what it freed; the reading after the instances follows ``malloc_trim``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InstanceMemory:
    """The RSS around one instance's ``create_instance()``, on the thread that built it.

    ``overlapped``: another stream's factory (a build, inputs made, a bind) ran at some time
    during this build, so ``growth_bytes`` holds part of that work too; when False it is this
    instance's own cost (what its creation kept resident; its arena's growth in the first
    inferences is counted in the streams that ran them, not here).
    """

    index: int
    built_by: int  # the stream whose thread built it
    rss_before_bytes: int | None
    rss_after_bytes: int | None
    overlapped: bool

    @property
    def growth_bytes(self) -> int | None:
        if self.rss_before_bytes is None or self.rss_after_bytes is None:
            return None
        return self.rss_after_bytes - self.rss_before_bytes


@dataclass(frozen=True)
class WorkerMemory:
    """One worker process of ``--isolation process``, read by the worker itself at the end of
    the measured window (its instance still alive), in bytes (None: unreadable, or the worker
    sent nothing). ``pss_bytes``: its proportional set size, shared pages split between the
    processes that map them, so the workers' PSS add up to what they hold together."""

    stream: int
    pid: int
    pss_bytes: int | None
    rss_bytes: int | None
    peak_rss_bytes: int | None


@dataclass(frozen=True)
class Memory:
    """The memory figures of one run (None where a reading failed).

    ``rss_before_instances_bytes``: on the main thread just before the runner started (the
    model read, the engine made, no instance yet). ``rss_after_instances_bytes``: once every
    stream's factory returned (every instance built, every stream's inputs made and bound and
    its first inferences run, what is free handed back), before the warmup. Their difference,
    ``instances_growth_bytes``, is what the instances and the streams on them hold.
    ``peak_rss_bytes``: the process's peak from its start to the end of the measured window.
    With ``--isolation process`` these are the supervisor's (the instances live in the
    workers), and ``workers`` holds each worker's own figures.
    """

    rss_before_instances_bytes: int | None
    rss_after_instances_bytes: int | None
    peak_rss_bytes: int | None
    instances: tuple[InstanceMemory, ...] = ()
    workers: tuple[WorkerMemory, ...] = ()

    @property
    def workers_pss_bytes(self) -> int | None:
        """The workers' PSS added up: what they hold together; None without workers or when
        one could not be read."""
        pss = [w.pss_bytes for w in self.workers]
        return sum(pss) if pss and None not in pss else None  # type: ignore[arg-type]

    @property
    def instances_growth_bytes(self) -> int | None:
        before, after = self.rss_before_instances_bytes, self.rss_after_instances_bytes
        return after - before if before is not None and after is not None else None
