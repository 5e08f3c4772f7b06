"""The pinned stream runner, with real threads on the real cores of this machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import pinbench
from pinbench import StreamError, UsageError

from subproc import run_python

NCPU = len(os.sched_getaffinity(0))
STREAMS = min(2, NCPU)


def test_each_stream_reads_its_planned_affinity_from_inside_the_step() -> None:
    seen: dict[int, set[int]] = {}

    def make_step(i: int) -> Callable[[], None]:
        def step() -> None:
            seen[i] = os.sched_getaffinity(0)

        return step

    m = pinbench.measure(make_step, streams=STREAMS, warmup=0, duration=0.05)
    plans = pinbench.plan_streams(pinbench.topology(), STREAMS)
    for s, plan in zip(m.streams, plans):
        assert seen[s.index] == set(plan.cpus)
        assert set(s.cpus) == set(plan.cpus) == set(s.planned_cpus)
    if STREAMS == 2:
        assert seen[0].isdisjoint(seen[1])


def test_factory_runs_on_the_pinned_stream_thread() -> None:
    factory_seen: dict[int, tuple[int, set[int]]] = {}
    step_seen: dict[int, int] = {}

    def make_step(i: int) -> Callable[[], None]:
        factory_seen[i] = (threading.get_native_id(), os.sched_getaffinity(0))

        def step() -> None:
            step_seen[i] = threading.get_native_id()

        return step

    m = pinbench.measure(make_step, streams=STREAMS, warmup=0, duration=0.05)
    main = threading.get_native_id()
    for s in m.streams:
        tid, cpus = factory_seen[s.index]
        assert tid == step_seen[s.index] == s.thread_id != main
        assert cpus == set(s.planned_cpus)


def test_thread_state_lives_as_long_as_the_stream() -> None:
    # threading.local data is kept per Python thread state: it survives between iterations only
    # if the runner keeps one thread state per stream thread.
    local = threading.local()
    lost: list[int] = []

    def make_step(i: int) -> Callable[[], None]:
        local.stream = i

        def step() -> None:
            if getattr(local, "stream", None) != i:
                lost.append(i)

        return step

    m = pinbench.measure(make_step, streams=STREAMS, warmup=0.02, duration=0.05)
    assert m.iterations > 0
    assert lost == []


def test_counts_windows_and_warmup_add_up() -> None:
    calls: dict[int, list[int]] = {i: [] for i in range(STREAMS)}

    def make_step(i: int) -> Callable[[], None]:
        record = calls[i].append

        def step() -> None:
            record(time.monotonic_ns())  # the same clock as the runner's steady_clock on Linux

        return step

    m = pinbench.measure(make_step, streams=STREAMS, warmup=0.1, duration=0.2)
    assert not m.interrupted
    assert m.iterations == sum(s.iterations for s in m.streams)
    assert m.deadline_ns is not None
    first, last = m.window_ns or (0, 0)
    assert first == min(int(s.starts_ns[0]) for s in m.streams)
    assert last == max(int(s.ends_ns[-1]) for s in m.streams)
    assert m.seconds == pytest.approx((last - first) / 1e9)
    assert m.throughput == pytest.approx(m.iterations / m.seconds)
    for s in m.streams:
        stamps = np.array(calls[s.index])
        assert s.warmup_iterations > 0
        # Every call is either a warmup call (before the measure barrier) or a recorded sample.
        assert len(stamps) == s.warmup_iterations + s.iterations
        assert int((stamps < m.measure_start_ns).sum()) == s.warmup_iterations
        assert np.all(s.starts_ns >= m.measure_start_ns)
        assert np.all(s.ends_ns >= s.starts_ns)
        assert np.all(s.starts_ns[1:] >= s.ends_ns[:-1])
        # A new iteration starts only before the deadline; the one in flight is kept.
        assert s.starts_ns[-1] < m.deadline_ns
        # The measured calls are exactly those inside the samples' spans.
        measured = stamps[stamps >= m.measure_start_ns]
        assert np.all((measured >= s.starts_ns) & (measured <= s.ends_ns))


def test_iteration_cap_per_stream() -> None:
    m = pinbench.measure(
        lambda i: lambda: None, streams=STREAMS, warmup=0, duration=None, iterations=50
    )
    assert [s.iterations for s in m.streams] == [50] * STREAMS
    m = pinbench.measure(lambda i: lambda: None, warmup=0, duration=5.0, iterations=7)
    assert m.iterations == 7


def test_exception_in_stream_1_at_iteration_5_names_it_and_chains_the_original() -> None:
    class Boom(Exception):
        pass

    def make_step(i: int) -> Callable[[], None]:
        n = [0]

        def step() -> None:
            if i == 1 and n[0] == 5:
                raise Boom("iteration five")
            n[0] += 1

        return step

    start = time.monotonic()
    with pytest.raises(StreamError) as info:
        pinbench.measure(make_step, streams=2, pinning="none", warmup=0, duration=30)
    assert time.monotonic() - start < 20  # stopped early, not at the 30 s deadline
    err = info.value
    assert (err.stream, err.iteration, err.phase) == (1, 5, "measure")
    assert "stream 1" in str(err) and "iteration 5" in str(err)
    assert isinstance(err.__cause__, Boom)
    assert err.__cause__.__traceback__ is not None


def test_exception_during_warmup_is_reported_as_warmup() -> None:
    def make_step(i: int) -> Callable[[], None]:
        def step() -> None:
            raise ValueError("cold")

        return step

    with pytest.raises(StreamError, match="stream 0 failed at iteration 0 \\(warmup\\)") as info:
        pinbench.measure(make_step, warmup=1.0, duration=1.0)
    assert isinstance(info.value.__cause__, ValueError)


def _raises(exc: BaseException) -> Callable[[int], Any]:
    def make_step(i: int) -> Callable[[], None]:
        def step() -> None:
            raise exc

        return step

    return make_step


@pytest.mark.parametrize(
    ("make_step", "cause", "phase"),
    [
        (_raises(ValueError("v")), ValueError, "measure"),
        (_raises(KeyError("k")), KeyError, "measure"),
        (_raises(MemoryError()), MemoryError, "measure"),
        (_raises(SystemExit(3)), SystemExit, "measure"),
        (_raises(KeyboardInterrupt()), KeyboardInterrupt, "measure"),
        (lambda i: 42, TypeError, "factory"),
        (lambda i: lambda x: x, TypeError, "measure"),
        (lambda: None, TypeError, "factory"),
        (lambda i: 1 / 0, ZeroDivisionError, "factory"),
    ],
    ids=[
        "ValueError",
        "KeyError",
        "MemoryError",
        "SystemExit",
        "KeyboardInterrupt",
        "returns-non-callable",
        "step-needs-args",
        "factory-wrong-arity",
        "factory-raises",
    ],
)
def test_bad_callbacks(
    make_step: Callable[[int], Any], cause: type[BaseException], phase: str
) -> None:
    with pytest.raises(StreamError) as info:
        pinbench.measure(make_step, streams=STREAMS, pinning="none", warmup=0, duration=5)
    assert isinstance(info.value.__cause__, cause)
    assert info.value.phase == phase


def test_failing_factory_does_not_hang() -> None:
    proc = run_python(
        """
        import pinbench, time
        def make_step(i):
            if i == 1:
                raise RuntimeError("no engine for you")
            time.sleep(0.2)  # stream 0 is still in its factory when stream 1 fails
            return lambda: None
        try:
            pinbench.measure(make_step, streams=2, pinning="none", warmup=5, duration=30)
        except pinbench.StreamError as e:
            print("ERR", e.stream, e.phase, type(e.__cause__).__name__)
        """,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ERR 1 factory RuntimeError"


def test_sigint_returns_partial_results_promptly() -> None:
    code = textwrap.dedent(
        """
        import sys, time, pinbench
        def make_step(i):
            def step():
                time.sleep(0.001)
            return step
        print("ready", flush=True)
        m = pinbench.measure(make_step, streams=2, pinning="none", warmup=0.1, duration=60)
        print("done", time.monotonic_ns(), m.interrupted, m.iterations, flush=True)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.6)
        sent = time.monotonic_ns()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    word, done_ns, interrupted, iterations = out.split()
    assert word == "done" and interrupted == "True" and int(iterations) > 0
    assert (int(done_ns) - sent) / 1e9 < 0.5


def test_handlers_run_during_the_run_and_a_wakeup_fd_found_is_fed_and_set_back() -> None:
    """The waiting thread takes the GIL for Python's signal handlers only when its wakeup fd
    says a signal came: a handler still runs while the streams do, and a wakeup fd set before
    the run (asyncio sets one) still receives the signal's number and is set again after."""
    r = run_python(
        """
        import os, signal, time, pinbench
        calls, handled = [], []
        signal.signal(signal.SIGUSR1, lambda *_: handled.append(len(calls)))

        def make_step(i):
            def step():
                calls.append(1)
                time.sleep(0.001)
                if len(calls) == 5:  # from the stream's thread, as a user's kill would come
                    os.kill(os.getpid(), signal.SIGUSR1)
            return step

        read, write = os.pipe()
        os.set_blocking(read, False)
        os.set_blocking(write, False)
        signal.set_wakeup_fd(write)
        m = pinbench.measure(make_step, streams=1, pinning="none", warmup=0, duration=0.5)
        print(len(handled), 5 <= handled[0] < len(calls), m.interrupted)
        print(list(os.read(read, 16)) == [signal.SIGUSR1], signal.set_wakeup_fd(-1) == write)
        pinbench.measure(make_step, streams=1, pinning="none", warmup=0, duration=0.05)
        print(signal.set_wakeup_fd(-1))
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:3] == ["1 True False", "True True", "-1"]


def test_native_spin_measures_its_own_length() -> None:
    m = pinbench.measure(pinbench.spin(100_000), streams=STREAMS, warmup=0.05, duration=0.3)
    for s in m.streams:
        # A generous behaviour bound: the spin is 100 us by construction; the runner adds ~0.1 us.
        assert abs(s.latency.median - 0.100) < 0.010
        assert s.latency.min >= 0.100


def test_native_noop_runs_without_python() -> None:
    m = pinbench.measure(pinbench.noop(), streams=STREAMS, warmup=0, duration=0.05)
    assert all(s.iterations > 1000 for s in m.streams)


def test_clock_probe() -> None:
    from pinbench import _core

    p = _core.probe_clock(10_000)
    assert 0 < p.overhead_ns < 10_000
    assert p.resolution_ns >= 1 and p.period_ns >= 1
    assert abs(_core.now_ns() - time.monotonic_ns()) < 1_000_000_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"warmup": -1}, "warmup"),
        ({"duration": 0}, "duration"),
        ({"duration": None}, "give a duration"),
        ({"iterations": 0}, "iterations"),
        ({"streams": 0}, "streams"),
        ({"streams": NCPU + 1}, "need at least"),
    ],
)
def test_bad_settings_are_rejected_before_any_thread(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        pinbench.measure(lambda i: lambda: None, **kwargs)


def test_explicit_cpu_sets_and_unpinned_streams() -> None:
    cpus = sorted(os.sched_getaffinity(0))
    m = pinbench.measure(
        lambda i: lambda: None, streams=2, cpus=[[cpus[-1]], []], warmup=0, duration=0.02
    )
    assert m.streams[0].cpus == (cpus[-1],)
    assert set(m.streams[1].cpus) == set(cpus)


def test_pinning_to_a_cpu_outside_the_mask_fails_clearly() -> None:
    with pytest.raises(StreamError, match="stream 0 failed in its pin") as info:
        pinbench.measure(lambda i: lambda: None, cpus=[[4095]], warmup=0, duration=0.02)
    assert "pthread_setaffinity_np" in str(info.value.__cause__)
