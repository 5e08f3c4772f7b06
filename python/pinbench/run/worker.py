"""A worker process of process isolation: ``python -m pinbench.run.worker DIR STREAM PARENT_PID``.

Started by the native supervisor (see ``run/isolation.py``), already pinned to its stream's CPUs,
in a process group of its own, the run's shared region as descriptor 3, stdout and stderr into
``DIR/stream-STREAM.log``. In order: it asks to die with its parent (and leaves at once if the
parent is already gone); maps the region; puts the parent's ``sys.path`` first and loads
``DIR/job.pickle``; runs its one stream with the native stream loop (``_core.run_worker``: the
same loop as a thread stream, meeting the other workers in the region); writes what it measured
to ``DIR/stream-STREAM.pickle``; marks itself done; and exits with ``os._exit(0)``, skipping the
interpreter's teardown (an engine's exit handlers have nothing left to do, and must not hang).

A failure before its stream starts (the job cannot be loaded, e.g. a module the parent could
import and the worker cannot) is reported as a failure of its stream in phase "start", and stops
the other workers.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._core import RunResult, SharedRegion

EXIT_ORPHAN = 3  # the parent was gone before the worker could ask to die with it


def main(argv: list[str]) -> int:
    """The worker's life; returns only when it was started wrongly (else ``os._exit``)."""
    from .. import _core

    folder, stream, parent = Path(argv[0]), int(argv[1]), int(argv[2])
    if not _core.die_with_parent(parent):
        return EXIT_ORPHAN
    faulthandler.enable()  # a crash leaves the Python stacks in the log (shown by --debug)
    region = _core.SharedRegion.attach(_core.WORKER_REGION_FD)
    work: Any = None
    try:
        job = _load_job(folder)
        work = pickle.loads(job["work"])
        from .isolation import runner_config

        raw = _core.run_worker(work, runner_config(job["config"]), region, stream)
        result = _result(raw, stream, work)
        result["memory"] = _memory()  # at the window's end, with its instance still alive
    except BaseException as e:  # reported as this stream's failure; nothing may escape
        traceback.print_exc()
        result = {"failures": [(stream, "start", -1, _sendable(e))]}
        region.fail(stream)
    _close(work)
    _write(folder, stream, result)
    _done(region, stream)
    return 0  # not reached


def _load_job(folder: Path) -> dict[str, Any]:
    from .isolation import JOB_FILE

    with (folder / JOB_FILE).open("rb") as f:
        job: dict[str, Any] = pickle.load(f)
    # The parent's import path first, so that its make_step (or engine) imports here too.
    sys.path[:0] = [p for p in job["sys_path"] if p not in sys.path]
    return job


def _result(raw: RunResult, stream: int, work: Any) -> dict[str, Any]:
    """What this worker sends back: its stream's entry of each of ``raw``'s per-stream columns,
    the failures it saw, and its work's report."""
    from .isolation import STREAM_COLUMNS

    report = getattr(work, "report", None)
    result = {name: getattr(raw, name)[stream] for name in STREAM_COLUMNS}
    result["failures"] = [(s, phase, it, _sendable(e)) for s, phase, it, e in raw.failures]
    result["report"] = report() if callable(report) else None
    return result


def _memory() -> dict[str, int | None]:
    """This worker's memory in bytes: its PSS (shared pages split between the processes that
    map them, so the workers' PSS add up), its RSS now and its peak RSS."""
    from ..base.process import read_memory, read_pss

    now = read_memory()
    return {"pss": read_pss(), "rss": now.rss_bytes, "peak_rss": now.peak_bytes}


def _sendable(e: BaseException) -> tuple[str, str, bytes | None]:
    """(type name, message, the pickled exception or None when it does not survive a pickle)."""
    if e.__traceback__ is not None or e.__cause__ is not None:
        traceback.print_exception(type(e), e, e.__traceback__)  # into the worker's log
    try:
        blob = pickle.dumps(e)
        pickle.loads(blob)
    except Exception:
        return type(e).__name__, str(e), None
    return type(e).__name__, str(e), blob


def _close(work: Any) -> None:
    close = getattr(work, "close", None)
    if callable(close):
        try:
            close()
        except Exception:
            traceback.print_exc()


def _write(folder: Path, stream: int, result: dict[str, Any]) -> None:
    """Atomically: a reader finds the whole result or none."""
    from .isolation import result_path

    final = result_path(folder, stream)
    partial = final.with_suffix(".partial")
    with partial.open("wb") as f:
        pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(final)


def _done(region: SharedRegion, stream: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    region.mark_done(stream)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
