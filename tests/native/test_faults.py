"""Faults: failing steps and factories in random places, steps that never return, signals."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import pinbench
from pinbench import StreamError

from subproc import run_python

STREAMS = 2


def live_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def threads_back_to(before: int) -> bool:
    """True once the process has ``before`` threads again. A joined thread's kernel task can
    outlive pthread_join by a moment, so this waits (up to 2 s) rather than reading once."""
    deadline = time.monotonic() + 2.0
    while live_threads() != before and time.monotonic() < deadline:
        time.sleep(0.01)
    return live_threads() == before


class Fault(Exception):
    pass


def faulty(stream: int, call: int, seed: int) -> Callable[[int], Callable[[], None]]:
    """make_step for steps where stream `stream` raises Fault(seed) on its call number `call`
    (0-based, warmup calls included)."""

    def make_step(i: int) -> Callable[[], None]:
        calls = [0]

        def step() -> None:
            if i == stream and calls[0] == call:
                raise Fault(seed)
            calls[0] += 1

        return step

    return make_step


@pytest.mark.parametrize("seed", range(25))
def test_a_step_that_raises_at_a_random_place_is_reported_exactly(seed: int) -> None:
    rnd = random.Random(seed)
    stream, call = rnd.randrange(STREAMS), rnd.randrange(40)
    warmup = rnd.choice([0.0, 0.0, 0.01])
    before = live_threads()
    with pytest.raises(StreamError) as info:
        pinbench.measure(
            faulty(stream, call, seed), streams=STREAMS, pinning="none", warmup=warmup, duration=30
        )
    err = info.value
    assert err.stream == stream
    assert isinstance(err.__cause__, Fault) and err.__cause__.args == (seed,)
    if warmup == 0:
        assert (err.phase, err.iteration) == ("measure", call)
    elif err.phase == "warmup":
        assert err.iteration == call
    else:  # the warmup ended first: the call index minus the warmup calls
        assert err.phase == "measure" and 0 <= err.iteration < call
    assert threads_back_to(before)  # every stream thread was joined


@pytest.mark.parametrize("seed", range(8))
def test_a_factory_that_raises_in_a_random_stream(seed: int) -> None:
    stream = random.Random(seed).randrange(STREAMS)
    before = live_threads()

    def make_step(i: int) -> Callable[[], None]:
        if i == stream:
            raise Fault(seed)
        return lambda: None

    with pytest.raises(StreamError) as info:
        pinbench.measure(make_step, streams=STREAMS, pinning="none", warmup=1, duration=30)
    assert (info.value.stream, info.value.phase) == (stream, "factory")
    assert threads_back_to(before)


@pytest.mark.parametrize("body", ["time.sleep(1000)", "while True: pass"])
def test_a_step_that_never_returns_ends_with_a_timeout(body: str) -> None:
    proc = run_python(
        f"""
        import time, pinbench
        def make_step(i):
            n = [0]
            def step():
                n[0] += 1
                if i == 1 and n[0] == 7:
                    {body}
            return step
        t = time.monotonic()
        try:
            pinbench.measure(make_step, streams=2, pinning="none", warmup=0, duration=60,
                             iteration_timeout=0.3)
        except pinbench.StreamError as e:
            print(e.stream, e.iteration, e.phase, type(e.__cause__).__name__,
                  round(time.monotonic() - t))
        """,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    stream, iteration, phase, cause, seconds = proc.stdout.split()
    assert (stream, iteration, phase, cause) == ("1", "6", "measure", "TimeoutError")
    assert int(seconds) < 30


HANGING_ENGINE = """
import sys, time
from pinbench.engines.onnxruntime import OnnxRuntimeEngine
real = OnnxRuntimeEngine.bind
def bind(self, instance, inputs):
    step = real(self, instance, inputs)
    n = [0]
    def hang():
        n[0] += 1
        if n[0] == 5:
            time.sleep(1000)
        return step()
    return hang
OnnxRuntimeEngine.bind = bind
from pinbench.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_cli_iteration_timeout_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            HANGING_ENGINE,
            "squeezenet",
            "-t",
            "30",
            "-w",
            "0",
            "--iteration-timeout",
            "0.5",
            "-x",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("pinbench: error: ") and "iteration timeout of 0.5 s" in last
    assert "Traceback" not in r.stderr
    # What the streams measured until the timeout is written, the failure recorded.
    failure = json.loads(out.read_text())["pinbench"]["failure"]
    assert failure["phase"] == "measure" and "iteration timeout of 0.5 s" in failure["message"]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_end_the_run_and_write_the_partial_json(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    out = tmp_path / "r.json"
    with subprocess.Popen(
        [sys.executable, "-m", "pinbench", "squeezenet", "-t", "60", "-w", "0.1", "-x", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # SIGINT as a terminal sends it, whoever started pytest: a background job of a
        # non-interactive shell starts with SIGINT ignored, and pinbench keeps it so.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    ) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.strip() == "pinbench: measuring":  # the window is open, the handlers set
                break
        time.sleep(0.2)  # a few iterations to write (not a bound: any time works)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == code, stderr
    data = json.loads(out.read_text())
    assert data["pinbench"]["interrupted"] is True
    assert data["benchmark_result"]["iterations"] > 0
    assert data["benchmark_result"]["seconds_ran"] < 30
    assert "Interrupted: yes" in stdout
    iterations = [ln for ln in stdout.splitlines() if ln.startswith("Iterations: ")]
    assert data["benchmark_result"]["iterations"] == int(iterations[0].split(": ")[1])


@pytest.mark.parametrize("scenario", ["sync", "async", "elastic"])
def test_an_engine_step_past_the_timeout_ends_with_one_line_not_an_abort(
    scenario: str, tmp_path: Path
) -> None:
    """The step is inside ONNX Runtime (GIL released) when it is abandoned, and comes back after
    the error is printed: the exit waits for it instead of aborting in the finalizing
    interpreter ("terminate called without an active exception", exit 134)."""
    from onnx_factory import make_matmul_model

    model = make_matmul_model(tmp_path)  # milliseconds per step on any CPU, past 1 ms
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", str(model), "-s", scenario, "-t", "1", "-w", "0.2",
         "--iteration-timeout", "0.001"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == 1, r.stderr
    assert "terminate called" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("pinbench: error: stream ") and "iteration timeout of 0.001 s" in last


def test_the_api_after_an_engine_step_past_the_timeout_exits_cleanly(tmp_path: Path) -> None:
    from onnx_factory import make_matmul_model

    # A step of several hundred ms: still running when the error has been raised and
    # "left behind" is read (the default 512 x 512 model's ~0.1 s could end first).
    model = make_matmul_model(tmp_path, size=768)
    proc = run_python(
        f"""
        import pinbench
        from pinbench import _core
        try:
            pinbench.benchmark({str(model)!r}, scenario="async", time=1, warmup_time=0.2,
                               iteration_timeout=0.001)
        except pinbench.RunError as e:
            print("RunError", "iteration timeout" in str(e))
        print("left behind", _core.stragglers() >= 1)
        """
    )
    assert proc.returncode == 0, proc.stderr  # the interpreter waited for the straggler at exit
    assert proc.stdout.split() == ["RunError", "True", "left", "behind", "True"]
    assert "terminate called" not in proc.stderr


SLOW_ENGINE = """
import sys, time
print("importing the engine", file=sys.stderr, flush=True)
time.sleep(60)
class Never:
    pass
"""


def interrupt_when(
    args: list[str], marker: str, sig: signal.Signals, delay: float = 0.0
) -> tuple[int, str, str]:
    """Runs pinbench, sends ``sig`` once ``marker`` shows on stderr (after ``delay`` s)."""
    with subprocess.Popen(
        [sys.executable, "-m", "pinbench", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if marker in line:
                break
        time.sleep(delay)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    return proc.returncode, stdout, "".join(seen) + stderr


def unfinished(out: Path, phase: str) -> dict[str, object]:
    data = json.loads(out.read_text())
    assert data["pinbench"]["interrupted"] is True
    assert data["pinbench"]["phase_reached"] == phase
    assert data["benchmark_result"]["iterations"] == 0
    assert data["pinbench"]["requested"]["model"] == "squeezenet"
    assert data["pinbench"]["environment"]["logical_cpus"] >= 1
    section: dict[str, object] = data["pinbench"]
    return section


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_loading_still_writes_what_is_known(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    engine = tmp_path / "slow_engine.py"
    engine.write_text(SLOW_ENGINE)
    out = tmp_path / "r.json"
    args = ["squeezenet", "-e", f"{engine}:Never", "-x", str(out)]
    returncode, _, stderr = interrupt_when(args, "importing the engine", sig)
    assert returncode == code, stderr
    assert unfinished(out, "load")["config"] is None  # nothing ran: no engine, no layout
    last = stderr.strip().splitlines()[-1]
    assert last == (
        "pinbench: error: interrupted while loading the model, before the measurement "
        f"started; what was known is in {out}"
    )


def test_a_signal_during_the_warmup_writes_the_run_with_no_iteration(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = ["squeezenet", "-w", "60", "-t", "5", "-x", str(out)]
    returncode, stdout, stderr = interrupt_when(args, "after 60 s of warmup", signal.SIGINT, 1.0)
    assert returncode == 130, stderr
    section = unfinished(out, "warmup")
    assert section["config"] is not None  # the layout and the engine as they ran
    assert "Interrupted: yes, during the warmup, before any measured iteration" in stdout


def test_sigterm_during_the_probes_of_auto_streams_exits_143(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = ["squeezenet", "-nstreams", "auto", "--probe-time", "30", "-w", "0", "-x", str(out)]
    returncode, _, stderr = interrupt_when(args, "inputs generated", signal.SIGTERM, 1.0)
    assert returncode == 143, stderr  # not 130: the probe's SIGTERM is not turned into Ctrl-C
    unfinished(out, "probe")
    assert "interrupted during the probes of the search" in stderr.strip().splitlines()[-1]


def test_a_signal_swallowed_before_the_run_still_ends_it() -> None:
    """A Ctrl-C whose KeyboardInterrupt a finalizer swallowed ("Exception ignored in") just
    before the run: the command line's latch ends the run before it starts, not 60 s later."""
    r = run_python(
        """
        import gc, os, signal
        import pinbench
        from pinbench.base.errors import Interrupted
        from pinbench.cli.common import catch_signals

        catch_signals()

        class Swallows:
            def __del__(self):
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(1000):  # the handler runs here, inside the finalizer
                    pass

        Swallows()
        gc.collect()
        try:
            pinbench.measure(pinbench.spin(100_000), streams=1, warmup=0, duration=60)
        except Interrupted as e:
            print("interrupted before the run:", e.interrupt, e.phase)
        """
    )
    assert r.returncode == 0, r.stderr
    assert "Exception ignored" in r.stderr  # the swallowing did happen
    assert r.stdout.strip() == "interrupted before the run: KeyboardInterrupt start"
