"""Process isolation: each stream a pinned worker process; a crash contained and reported; the
GIL's share of thread streams measured and judged."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import pinbench
from pinbench import StreamError, UsageError
from pinbench.result.validity import GIL_SHARE_LIMIT, gil_bound
from pinbench.run.isolation import WorkerDied, check_sendable

import isolation_steps as steps
from conftest import FIXTURES
from subproc import run_python

NCORES = len(os.sched_getaffinity(0))
two_cores = pytest.mark.skipif(NCORES < 2, reason="needs two cores for two pinned streams")
TESTS = Path(__file__).resolve().parents[1]  # where isolation_steps.py is


def children(pid: int | None = None) -> set[int]:
    """The live children of process ``pid`` (this one by default), over all its threads."""
    pid = pid or os.getpid()
    found: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(FileNotFoundError):  # the thread ended meanwhile
            found |= {int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()}
    return found


def gone(pid: int) -> bool:
    """True when no process ``pid`` exists (or only its zombie, never reaped: not ours then)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


@two_cores
def test_each_stream_is_a_worker_pinned_from_birth_its_cpus_read_back_inside() -> None:
    before = children()
    m = pinbench.measure(
        steps.pinned_from_birth, streams=2, warmup=0.05, duration=0.2, isolation="process"
    )
    assert m.isolation == "process" and not m.failure
    planned = [s.planned_cpus for s in m.streams]
    assert [s.cpus for s in m.streams] == planned and planned[0] != planned[1]
    pids = {s.pid for s in m.streams}
    assert len(pids) == 2 and os.getpid() not in pids
    assert all(s.iterations > 0 and s.starts_ns.size == s.iterations for s in m.streams)
    assert m.window_ns is not None and m.window_ns[0] >= m.measure_start_ns > 0
    assert children() == before  # every worker reaped


def test_threads_and_workers_hand_back_one_run_result() -> None:
    from pinbench import _core
    from pinbench.run.isolation import STREAM_COLUMNS, run_in_processes

    config = _core.RunnerConfig()
    config.stream_cpus = [[], []]
    config.warmup_s, config.duration_s = 0.02, 0.1
    threads = _core.run_streams(pinbench.noop(), config)
    workers, extra = run_in_processes(pinbench.noop(), config)
    assert type(threads) is type(workers) is _core.RunResult
    for run in (threads, workers):
        columns = [getattr(run, name) for name in [*STREAM_COLUMNS, "pids", "abandoned"]]
        assert [len(c) for c in columns] == [2] * len(columns)
        assert run.failures == [] and all(t[0] > 0 for t in run.totals)
        assert run.measure_start_ns > run.warmup_start_ns > 0 and 0 not in run.thread_ids
    assert threads.pids == [os.getpid()] * 2 and threads.workers == []
    assert [w[0] for w in workers.workers] == workers.pids and os.getpid() not in workers.pids
    assert [
        (reported, code, sig, killed) for _, reported, code, sig, killed in workers.workers
    ] == [(True, 0, 0, False)] * 2
    assert extra["worker_reports"] == [None, None] and len(extra["worker_memory"]) == 2


CRASHES = """
import json, os, time, pinbench, isolation_steps as steps
out = []
for how in ("segv", "abort", "exit", "raise"):
    t = time.monotonic()
    try:
        pinbench.measure(steps.Crash(1, 50, how, 0.002), streams=2, pinning="none", warmup=0,
                         duration=30, isolation="process")
    except pinbench.StreamError as e:
        c = e.__cause__
        out.append(dict(how=how, stream=e.stream, phase=e.phase, iteration=e.iteration,
                        cause=type(c).__name__, signal=getattr(c, "signal", None),
                        exit_code=getattr(c, "exit_code", None), text=str(e),
                        other=e.partial.streams[0].iterations, seconds=time.monotonic() - t,
                        children=open(f"/proc/self/task/{os.getpid()}/children").read()))
print(json.dumps(out))
"""


def test_a_crashing_or_raising_stream_is_reported_with_its_stream_and_iteration() -> None:
    proc = run_python(CRASHES, timeout=120, cwd=TESTS)
    assert proc.returncode == 0, proc.stderr
    got = {r["how"]: r for r in json.loads(proc.stdout)}
    assert set(got) == {"segv", "abort", "exit", "raise"}
    for r in got.values():
        assert (r["stream"], r["phase"], r["iteration"]) == (1, "measure", 50), r
        assert r["other"] > 0  # the other stream's samples came back
        assert r["seconds"] < 20  # the other worker stopped; nothing hung
        assert r["children"].split() == []  # no worker left behind
    assert got["segv"]["signal"] == signal.SIGSEGV and "SIGSEGV" in got["segv"]["text"]
    assert got["abort"]["signal"] == signal.SIGABRT and "SIGABRT" in got["abort"]["text"]
    assert got["exit"]["exit_code"] == 7 and "exited with status 7" in got["exit"]["text"]
    assert {got[h]["cause"] for h in ("segv", "abort", "exit")} == {"WorkerDied"}
    assert got["raise"]["cause"] == "ValueError"  # the worker's exception, its type intact
    assert "call 50 of stream 1" in got["raise"]["text"]


def test_a_step_past_the_iteration_timeout_ends_its_worker() -> None:
    before = children()
    t = time.monotonic()
    with pytest.raises(StreamError) as info:
        pinbench.measure(
            steps.Crash(0, 7, "hang"),
            streams=2,
            pinning="none",
            warmup=0,
            duration=60,
            iteration_timeout=0.3,
            isolation="process",
        )
    e = info.value
    assert (e.stream, e.phase, e.iteration) == (0, "measure", 7)
    assert isinstance(e.__cause__, TimeoutError) and time.monotonic() - t < 30
    assert e.partial is not None and e.partial.streams[0].abandoned
    assert children() == before  # the stuck worker was killed and reaped


@two_cores
def test_the_server_scenario_serves_one_schedule_across_the_workers() -> None:
    arrivals = np.arange(0, 300_000_000, 1_000_000, dtype=np.int64)  # 1000/s for 0.3 s
    m = pinbench.measure(
        pinbench.spin(50_000),
        streams=2,
        warmup=0.05,
        duration=0.3,
        arrivals_ns=arrivals,
        isolation="process",
    )
    served = np.concatenate([s.scheduled_ns for s in m.streams if s.scheduled_ns is not None])
    assert served.size == m.iterations == m.arrivals_issued
    assert np.unique(served).size == served.size  # each arrival served once, by one worker
    assert set((served - m.measure_start_ns).tolist()) <= set(arrivals.tolist())
    assert all(s.iterations > 0 for s in m.streams)
    assert m.arrivals_issued + (m.arrivals_dropped or 0) == arrivals.size


def test_max_samples_and_the_iteration_cap_hold_in_every_worker() -> None:
    m = pinbench.measure(
        steps.noop, streams=2, pinning="none", warmup=0.05, duration=0.3, max_samples=64,
        isolation="process",
    )  # fmt: skip
    for s in m.streams:
        assert s.starts_ns.size == 64 and s.iterations > 64 and s.sampled
        assert np.all(np.diff(s.starts_ns) > 0)  # back in time order
    capped = pinbench.measure(
        steps.noop, streams=2, pinning="none", warmup=0, duration=None, iterations=500,
        isolation="process",
    )  # fmt: skip
    assert [s.iterations for s in capped.streams] == [500, 500]


def test_what_a_worker_cannot_import_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="cannot be sent to a worker process"):
        pinbench.measure(lambda i: steps.noop(i), isolation="process", duration=0.1)

    def local(i: int) -> object:
        return steps.noop(i)

    with pytest.raises(UsageError, match="cannot be sent"):
        check_sendable(local)
    local.__module__ = "__main__"
    local.__qualname__ = "local"
    with pytest.raises(UsageError, match="defined in __main__"):
        check_sendable(local)
    with pytest.raises(UsageError, match="thread or process"):
        pinbench.measure(steps.noop, isolation="fork", duration=0.1)


def test_a_worker_that_cannot_load_its_job_fails_its_stream_in_phase_start() -> None:
    with pytest.raises(StreamError) as info:
        pinbench.measure(steps.Unloadable(), duration=5, warmup=0, isolation="process")
    assert (info.value.stream, info.value.phase, info.value.iteration) == (0, "start", -1)
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_gil_bound_rule() -> None:
    assert gil_bound(GIL_SHARE_LIMIT / 2, "thread", 2) == []
    assert gil_bound(0.4, "thread", 1) == []  # one stream waits for nobody
    assert gil_bound(0.4, "process", 2) == []
    (reason,) = gil_bound(0.4, "thread", 2)
    assert reason.rule == "gil_bound" and "--isolation process" in reason.message


@two_cores
def test_python_steps_on_thread_streams_wait_for_the_gil_and_processes_do_not() -> None:
    threads = pinbench.measure(steps.noop, streams=2, warmup=0.05, duration=0.3)
    processes = pinbench.measure(
        steps.noop, streams=2, warmup=0.05, duration=0.3, isolation="process"
    )
    share = threads.gil_wait_share
    assert share is not None and share > GIL_SHARE_LIMIT
    assert all((s.step_wait_ns or 0) > 0 for s in threads.streams)
    # Nothing contends for a worker's GIL, nor for a lone stream's: their waits are not timed.
    assert processes.gil_wait_share is None
    assert all(s.step_wait_ns is None for s in processes.streams)
    alone = pinbench.measure(steps.noop, streams=1, warmup=0, duration=0.05)
    assert alone.streams[0].step_wait_ns is None and alone.gil_wait_share is None
    native = pinbench.measure(pinbench.noop(), streams=2, warmup=0, duration=0.1)
    assert all(s.step_wait_ns == 0 for s in native.streams)  # a native step never waits


PYTHON_ENGINE = f"{FIXTURES / 'python_engine.py'}:PythonLoop"


@two_cores
def test_the_verdict_says_the_gil_bounded_thread_streams(tmp_path: Path) -> None:
    r = pinbench.benchmark(
        "squeezenet", engine=PYTHON_ENGINE, num_streams=2, time=0.3, warmup_time=0.05
    )
    rules = [x.rule for x in r.validity.reasons]
    assert "gil_bound" in rules and r.config.isolation == "thread"
    doc = pinbench.json_document(r)["pinbench"]
    assert doc["result"]["gil_wait_share"] > GIL_SHARE_LIMIT
    assert all(s["gil_wait_share"] > 0 for s in doc["streams"])


@two_cores
def test_a_model_in_process_isolation_and_auto_probing_it(tmp_path: Path) -> None:
    r = pinbench.benchmark(
        "squeezenet",
        engine=PYTHON_ENGINE,
        num_streams="auto",
        probe_time=0.3,
        time=0.3,
        warmup_time=0.05,
    )
    tuning = r.config.auto_streams
    assert tuning is not None
    tried = {(p.num_streams, p.isolation) for p in tuning.probes}
    assert (2, "thread") in tried and (2, "process") in tried  # thread streams were GIL-bound
    doc = pinbench.json_document(r)["pinbench"]
    assert {c["isolation"] for c in doc["auto_streams"]["candidates"]} == {"thread", "process"}
    assert doc["config"]["isolation"] == tuning.chosen_isolation
    if r.config.isolation == "process":
        assert r.config.engine_instances == 2 and "worker processes" in r.config.num_streams_reason
        assert len({s.pid for s in r.streams}) == 2


def test_elastic_shares_one_instance_so_it_cannot_be_isolated() -> None:
    with pytest.raises(UsageError, match="elastic"):
        pinbench.benchmark("squeezenet", scenario="elastic", isolation="process", time=0.1)
    with pytest.raises(UsageError, match="thread or process"):
        pinbench.benchmark("squeezenet", isolation="forked", time=0.1)


CRASH_ENGINE = f"{FIXTURES / 'crash_engine.py'}:CrashEngine"


def test_cli_a_segfaulting_engine_fails_its_stream_and_the_partial_json_is_written(
    tmp_path: Path,
) -> None:
    out = tmp_path / "r.json"
    env = {
        **os.environ,
        "CRASH_MARK": str(tmp_path / "mark"),
        "CRASH_AT": "51",
        "CRASH_PAUSE": "0.002",
    }
    argv = ["squeezenet", "-e", CRASH_ENGINE, "--isolation", "process", "-t", "30", "-w", "0"]
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", *argv, "-x", str(out)],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    assert r.returncode == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("pinbench: error: stream ") and "Traceback" not in r.stderr
    assert "at iteration 50 (measure)" in last and "killed by signal 11 (SIGSEGV)" in last
    data = json.loads(out.read_text())["pinbench"]
    failure = data["failure"]
    assert f"stream {failure['stream']} " in last and failure["iteration"] == 50
    assert "stream_failed" in [x["rule"] for x in data["validity"]["reasons"]]
    assert data["config"]["isolation"] == "process"
    assert all(gone(s["pid"]) for s in data["streams"])  # no worker outlived the run
    other = data["streams"][1 - failure["stream"]]
    assert other["iterations"] > 0


@two_cores
def test_cli_sigint_returns_the_partial_results_of_every_worker(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    argv = ["squeezenet", "--isolation", "process", "-t", "60", "-w", "0.1", "-x", str(out)]
    with subprocess.Popen(
        [sys.executable, "-m", "pinbench", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "worker processes started" in line:  # and their measured window began
                break
        time.sleep(1.0)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
        ended = time.monotonic() - sent
    assert proc.returncode == 130, stderr
    assert ended < 20
    data = json.loads(out.read_text())
    assert data["pinbench"]["interrupted"] is True and "Interrupted: yes" in stdout
    streams = data["pinbench"]["streams"]
    assert len(streams) == 2 and all(s["iterations"] > 0 for s in streams)
    assert all(gone(s["pid"]) for s in streams)


def test_worker_died_carries_how() -> None:
    e = WorkerDied("worker process 1 was killed by signal 11 (SIGSEGV)", 1, 11, -1)
    assert (e.pid, e.signal, e.exit_code) == (1, 11, -1) and "SIGSEGV" in str(e)
