"""Process isolation: each stream in a worker process of its own (``isolation="process"``).

Thread streams share this interpreter, so Python steps serialise on its GIL, and a step that
crashes (SIGSEGV in native code, ``abort()``) ends the whole run. With process isolation each
stream runs in a worker process: its own interpreter, engine instance and inputs, the same native
stream loop, meeting the other workers in shared memory (``csrc/core/process_runner.h``).

How a worker starts: a fresh interpreter, ``python -m pinbench.run.worker DIR STREAM PID``,
spawned by the native supervisor with the stream's CPU mask already set (pinned from its first
instruction, before any engine thread exists), in a process group of its own, the run's shared
region as descriptor 3, stdout and stderr into ``DIR/stream-I.log``. Never a fork of this
process: it may hold engine threads and locks that a forked child would inherit half-taken.

What it runs: the same ``make_step`` (or ``NativeWork``) the thread runner takes, sent pickled
in ``DIR/job.pickle`` with this process's ``sys.path``, so ``make_step`` must be importable by
name (a module-level function or class, not a lambda, a closure, or anything defined in
``__main__``) or a picklable object; ``check_sendable`` says so in one line when it is not.
Model benchmarks send a ``ModelSteps`` (``run/model_steps.py``): plain settings from which the
worker rebuilds its model, engine and inputs.

How its samples come back: once its stream has ended, the worker writes its entry of each of the
``_core.RunResult``'s per-stream columns (``STREAM_COLUMNS``: the same numpy arrays as a thread
stream's, its totals, the CPUs it read back), its failures and its report to
``DIR/stream-I.pickle``, atomically, marks itself done in the shared region and exits; the
parent puts each into the supervisor's ``RunResult``, which then reads as a thread run's. A file
written after the window, not shared memory: a worker sizes its buffers from its own warmup,
which the parent cannot know when it sizes the region, and nothing of it runs in the window.
"""

from __future__ import annotations

import io
import os
import pickle
import shutil
import sys
import tempfile
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base.errors import UsageError, one_line
from ..base.logs import log

if TYPE_CHECKING:
    from .._core import RunnerConfig, RunResult
    from ..base.warmup import WarmupJudge

JOB_FILE = "job.pickle"

# RunResult's per-stream columns a worker sends back, with the value of a worker that sent none.
# Its pid and whether it was killed (``pids``, ``abandoned``) are the supervisor's to say.
STREAM_COLUMNS: dict[str, Any] = {
    "starts": None,  # an empty int64 array
    "ends": None,
    "scheduled": None,
    "totals": (0, 0, 0.0, 0, 0, 0, 0),
    "warmup_iterations": 0,
    "cpus": [],
    "thread_ids": 0,
    "step_wait_ns": -1,
    "counters": [],
}

# RunnerConfig's plain fields, as a job file carries them (the bound class does not pickle).
_CONFIG_FIELDS = (
    "stream_cpus",
    "warmup_s",
    "duration_s",
    "max_iterations",
    "max_samples",
    "calls_per_unit",
    "iteration_timeout_s",
    "poll_interval_s",
    "drain_s",
    "seed",
    "counters",
)


class WorkerDied(RuntimeError):
    """A stream's worker process ended without sending its results: killed by a signal
    (``signal``), or exited (``exit_code``). ``pid`` names the process."""

    def __init__(self, message: str, pid: int, signal: int, exit_code: int) -> None:
        super().__init__(message)
        self.pid = pid
        self.signal = signal
        self.exit_code = exit_code


class _NoMain(pickle.Pickler):
    """Refuses what a worker cannot import: functions and classes of ``__main__``."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, (type, types.FunctionType)) and obj.__module__ == "__main__":
            raise UsageError(
                f"isolation='process': {obj.__qualname__} is defined in __main__, which a worker "
                "process cannot import; move it into a module (or run with isolation='thread')"
            )
        return NotImplemented


def check_sendable(work: object) -> bytes:
    """``work`` pickled for a worker process; UsageError (one line) when it cannot be sent."""
    out = io.BytesIO()
    try:
        _NoMain(out, protocol=pickle.HIGHEST_PROTOCOL).dump(work)
    except UsageError:
        raise
    except Exception as e:
        what = getattr(work, "__qualname__", type(work).__name__)
        raise UsageError(
            f"isolation='process': make_step {what} cannot be sent to a worker process "
            f"({type(e).__name__}: {one_line(e)}); give a module-level function or class, or a "
            "picklable object (not a lambda or a closure)"
        ) from e
    return out.getvalue()


def config_fields(config: RunnerConfig) -> dict[str, Any]:
    """A RunnerConfig's fields as plain values (``runner_config`` builds it again)."""
    out = {name: getattr(config, name) for name in _CONFIG_FIELDS}
    out["open"] = config.mode.name == "open"
    out["arrivals_ns"] = config.arrivals_ns
    return out


def runner_config(fields: dict[str, Any]) -> RunnerConfig:
    """The RunnerConfig of ``config_fields``."""
    from .. import _core

    config = _core.RunnerConfig()
    for name in _CONFIG_FIELDS:
        setattr(config, name, fields[name])
    config.mode = _core.LoopMode.open if fields["open"] else _core.LoopMode.closed
    config.arrivals_ns = fields["arrivals_ns"]
    return config


def run_in_processes(
    work: object, config: RunnerConfig, warmup_watch: WarmupJudge | None = None
) -> tuple[RunResult, dict[str, list[Any]]]:
    """Runs every stream of ``config`` in a worker process of its own; returns once every worker
    has ended (none is left behind), with what each measured (a RunResult as a thread run's) and
    what only workers send: ``{"worker_reports": [work.report() or None per worker],
    "worker_memory": [{"pss", "rss", "peak_rss"} in bytes at the window's end, or None]}``.
    UsageError when ``work`` cannot be sent to a worker. ``warmup_watch`` (-w auto) is asked
    here, of the workers' progress in the shared region, and ends their warmup there."""
    from .. import _core

    blob = check_sendable(work)
    streams = len(config.stream_cpus)
    folder = Path(tempfile.mkdtemp(prefix="pinbench-workers-"))
    try:
        job = {"work": blob, "config": config_fields(config), "sys_path": list(sys.path)}
        with (folder / JOB_FILE).open("wb") as f:
            pickle.dump(job, f, protocol=pickle.HIGHEST_PROTOCOL)
        region = _core.SharedRegion.create(streams)
        argvs = [
            [sys.executable, "-m", "pinbench.run.worker", str(folder), str(i), str(os.getpid())]
            for i in range(streams)
        ]
        logs = [str(folder / f"stream-{i}.log") for i in range(streams)]
        started = _core.now_ns()

        def measuring() -> None:
            seconds = (_core.now_ns() - started) / 1e9
            log.info("%d worker processes started in %.1f s; measuring", streams, seconds)

        supervised = _core.run_processes(config, region, argvs, logs, measuring, warmup_watch)
        results = [_read_result(folder, i) for i in range(streams)]
        failed = {f[0] for f in supervised.failures}
        failed |= {i for i, r in enumerate(results) if r and r.get("failures")}
        for stream in sorted(failed):
            _log_tail(stream, Path(logs[stream]))
        extras = {
            "worker_reports": [r.get("report") if r else None for r in results],
            "worker_memory": [r.get("memory") if r else None for r in results],
        }
        return _merge(supervised, results), extras
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _log_tail(stream: int, path: Path, lines: int = 30) -> None:
    """The end of a failed worker's output (its traceback, faulthandler's stacks), for --debug."""
    try:
        tail = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return
    if tail:
        log.debug("stream %d's worker process wrote:\n%s", stream, "\n".join(tail))


def result_path(folder: Path, stream: int) -> Path:
    """Where the worker of ``stream`` writes its result."""
    return folder / f"stream-{stream}.pickle"


def _read_result(folder: Path, stream: int) -> dict[str, Any] | None:
    path = result_path(folder, stream)
    if not path.exists():
        return None
    with path.open("rb") as f:
        loaded: dict[str, Any] = pickle.load(f)
    return loaded


def _merge(run: RunResult, results: list[dict[str, Any] | None]) -> RunResult:
    """The supervisor's ``run`` with each stream's columns and failures from its worker's result
    (None: it sent none); the supervisor's failures of a worker's death become ``WorkerDied``."""
    import numpy as np

    empty = np.empty(0, dtype=np.int64)
    streams = [r or {} for r in results]
    for name, default in STREAM_COLUMNS.items():
        setattr(run, name, [r.get(name, empty if default is None else default) for r in streams])
    failures = [_supervisor_failure(run, f) for f in run.failures]
    for r in streams:
        failures += [(s, phase, it, _exception(e)) for s, phase, it, e in r.get("failures", [])]
    first = run.first_failure
    failures.sort(key=lambda f: f[0] != first)  # the one that stopped the run first
    run.failures = failures
    return run


def _supervisor_failure(
    run: RunResult, failure: tuple[int, str, int, BaseException]
) -> tuple[int, str, int, BaseException]:
    """A worker past its iteration timeout stays a TimeoutError; one that ended without sending
    its results is a WorkerDied naming its process, signal and exit code."""
    stream, phase, iteration, error = failure
    if not isinstance(error, TimeoutError):
        pid, _reported, exit_code, signal, _killed = run.workers[stream]
        error = WorkerDied(str(error), pid, signal, exit_code)
    return stream, phase, iteration, error


def _exception(sent: tuple[str, str, bytes | None]) -> BaseException:
    """A worker's exception: the original object when it could be pickled, else a RuntimeError
    carrying its type's name and message."""
    type_name, message, blob = sent
    if blob is not None:
        try:
            error = pickle.loads(blob)
            if isinstance(error, BaseException):
                return error
        except Exception:
            pass
    return RuntimeError(f"{type_name}: {message}")
