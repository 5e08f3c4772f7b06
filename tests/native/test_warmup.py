"""-w auto: the settle rule on constructed series, the judge on constructed polls, and the real
runner (thread and process streams, the command line) on steps whose first calls are slow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from onnx import TensorProto

import pinbench
from pinbench.base.errors import UsageError
from pinbench.base.warmup import SettleRule, WarmupJudge, settled
from pinbench.report.run_lines import warmup_line
from pinbench.result.measurement import Warmup
from pinbench.result.validity import warmup_unsettled
from pinbench.settings import RunSettings

from conftest import FIXTURES
from onnx_factory import make_identity_model

sys.path.insert(0, str(FIXTURES))
import warmup_engine

from subproc import run_pinbench

SLOW_START = f"{FIXTURES / 'warmup_engine.py'}:SlowStartSleeper"


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    return str(make_identity_model(tmp_path, [("x", TensorProto.FLOAT, [1, 4])]))


# --- the rule, on constructed series -------------------------------------------------------------


def test_a_ramp_then_a_plateau_settles() -> None:
    rates = [100.0, 400.0, 800.0, 1000.0, 1005.0, 998.0]
    assert settled(rates)
    assert not settled(rates[:5])  # 400, 800, 1000 ... and 800, 1000, 1005: still climbing


def test_noise_beyond_the_limit_never_settles() -> None:
    rates = [1000.0, 1060.0, 950.0, 1040.0, 960.0, 1050.0, 940.0] * 10
    assert not any(settled(rates[: k + 1]) for k in range(len(rates)))


def test_a_ramp_that_keeps_falling_does_not_settle() -> None:
    # Each step 1.5% below the last: three of them lie within a CV of 2%, but they drift 3%.
    ramp = [1000.0 * 0.985**k for k in range(40)]
    assert not any(settled(ramp[: k + 1]) for k in range(len(ramp)))
    # A small drift within the limit, and no drift but noise, both settle.
    assert settled([1000.0, 995.0, 990.0])
    assert settled([1000.0, 1015.0, 990.0])


def test_too_few_slices_or_no_rate_never_settle() -> None:
    assert not settled([1000.0, 1000.0])
    assert not settled([0.0, 0.0, 0.0])
    assert settled([5.0, 5.0, 5.0, 5.0], SettleRule(window=4))


# --- the judge, on constructed polls -------------------------------------------------------------

MS = 1_000_000


def polls(rates: list[float], poll_ms: int = 20, seconds: float = 10.0) -> list[tuple[int, int]]:
    """(elapsed_ns, calls) every ``poll_ms`` at rates[k] calls/s in the k-th quarter second (the
    last rate from then on)."""
    out, calls, t = [], 0.0, 0
    while t < seconds * 1000:
        out.append((t * MS, int(calls)))
        rate = rates[min(int(t / 250), len(rates) - 1)]
        calls += rate * poll_ms / 1000
        t += poll_ms
    return out


def test_the_judge_settles_after_the_slow_start() -> None:
    judge = WarmupJudge()
    said = [judge(t, n, fewest=n) for t, n in polls([40.0, 40.0, 1000.0])]
    first = said.index(True)
    assert judge.settled and all(said[first:])  # and it keeps saying so
    # Slow for 0.5 s, then three slices of at least 0.25 s on the plateau.
    assert judge.settled_ns is not None and judge.settled_ns >= 500 * MS + 3 * 250 * MS
    assert judge.rates[0] < 200 and judge.rates[-1] == pytest.approx(1000, rel=0.05)
    assert len(judge.rates) >= 4  # the slow start's slice (it waits for 50 calls), then three
    assert settled(judge.rates) and not settled(judge.rates[:-1])


def test_the_judge_waits_for_every_stream_and_for_enough_calls() -> None:
    judge = WarmupJudge()
    assert not any(judge(t, n, fewest=0) for t, n in polls([1000.0], seconds=3.0))
    assert len(judge.rates) >= 10  # the slices were closed, the stuck stream held it
    slow = WarmupJudge()
    assert not any(slow(t, n, fewest=n) for t, n in polls([20.0], seconds=3.0))
    assert len(slow.rates) == 1  # 50 calls a slice: 2.5 s at 20 calls/s


# --- records and reports ------------------------------------------------------------------------


def test_the_console_line_and_the_note() -> None:
    w = Warmup("auto", 30.0, 1.754, 2345, 0.25, (1.0,) * 7, True)
    assert warmup_line(w) == "Warmup: auto, 1.75 s, 2,345 iterations, settled after 7 slices"
    assert warmup_unsettled(w, True) == []
    hit = Warmup("auto", 0.5, 0.51, 40, 0.25, (10.0, 20.0), False)
    assert "not settled within its bound of 0.5 s" in warmup_line(hit)
    assert [r.rule for r in warmup_unsettled(hit, True)] == ["warmup_unsettled"]
    assert warmup_unsettled(hit, False) == []  # never measured: nothing to warn about
    assert Warmup("fixed", 2.0, 2.0, 10).to_dict() == {
        "mode": "fixed",
        "bound_seconds": 2.0,
        "seconds": 2.0,
        "iterations": 10,
    }


def test_settings_take_auto_once() -> None:
    s = RunSettings.from_kwargs("m.onnx", warmup_time=" Auto ").validate()
    assert s.measure.warmup_time == "auto" and s.measure.warmup_bound == 30.0
    assert RunSettings.from_kwargs("m.onnx", warmup_time=1.5).validate().measure.warmup_bound == 1.5
    with pytest.raises(UsageError, match="'auto'"):
        RunSettings.from_kwargs("m.onnx", warmup_time="soon").validate()
    with pytest.raises(UsageError, match="--warmup-max"):
        RunSettings.from_kwargs("m.onnx", warmup_time="auto", warmup_max=0).validate()


# --- the real runner -----------------------------------------------------------------------------


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_auto_warmup_ends_after_the_slow_start(isolation: str) -> None:
    m = pinbench.measure(
        warmup_engine.slow_start_step, streams=2, warmup="auto", warmup_max=60.0, duration=0.1,
        isolation=isolation,
    )  # fmt: skip
    w = m.warmup
    assert w is not None and w.mode == "auto" and w.settled
    assert w.iterations >= 2 * warmup_engine.SLOW_CALLS  # past every stream's slow part
    assert w.iterations == sum(s.warmup_iterations for s in m.streams)
    assert 0 < w.seconds < 60.0 and len(w.slices) >= 3
    assert w.slices[0] < w.slices[-1] / 2  # the slow part, then the plateau
    assert all(s.iterations > 0 for s in m.streams)


def test_a_steady_step_settles_early_and_the_bound_holds() -> None:
    fast = pinbench.measure(pinbench.spin(100_000), warmup="auto", warmup_max=60.0, duration=0.1)
    assert fast.warmup is not None and fast.warmup.settled and fast.warmup.seconds < 60.0
    # Three slices of 0.25 s cannot fit in 0.3 s: the bound ends it, unsettled.
    bound = pinbench.measure(
        warmup_engine.slow_start_step, warmup="auto", warmup_max=0.3, duration=0.1
    )
    w = bound.warmup
    assert w is not None and not w.settled and w.seconds >= 0.3 and len(w.slices) <= 1
    fixed = pinbench.measure(pinbench.spin(100_000), warmup=0.05, duration=0.1)
    assert fixed.warmup is not None and fixed.warmup.mode == "fixed"
    assert fixed.warmup.settled is None and fixed.warmup.iterations > 0


def test_a_rate_that_keeps_falling_runs_to_the_bound() -> None:
    m = pinbench.measure(warmup_engine.slowing_step, warmup="auto", warmup_max=1.5, duration=0.1)
    w = m.warmup
    assert w is not None and not w.settled and w.seconds >= 1.5
    assert w.slices == tuple(sorted(w.slices, reverse=True))  # still falling


def test_measure_refuses_a_bad_warmup() -> None:
    with pytest.raises(UsageError, match="'auto'"):
        pinbench.measure(pinbench.noop(), warmup="soon", duration=0.1)  # type: ignore[arg-type]


# --- the command line ----------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_pinbench(*args, timeout=300)


def test_the_command_line_warms_up_until_settled(tmp_path: Path, tiny: str) -> None:
    out = tmp_path / "r.json"
    r = cli(tiny, "-e", SLOW_START, "-nstreams", "1", "-t", "0.2", "-w", "auto", "-r", "2",
            "-x", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("Warmup: auto, ") == 1 and "settled after" in r.stdout
    data = json.loads(out.read_text())["pinbench"]
    w = data["result"]["warmup"]
    assert w["mode"] == "auto" and w["settled"] is True and w["bound_seconds"] == 30.0
    assert w["iterations"] >= warmup_engine.SLOW_CALLS and len(w["slices"]) >= 3
    assert data["config"]["warmup_seconds"] == w["seconds"]
    assert data["requested"]["measure"]["warmup_time"] == "auto"
    assert "warmup_unsettled" in data["validity"]["notes_checked"]


def test_the_command_line_bound_and_searches(tmp_path: Path, tiny: str) -> None:
    out = tmp_path / "r.json"
    r = cli(tiny, "-e", SLOW_START, "-nstreams", "auto", "-ncores", "1", "--probe-time", "0.1",
            "-t", "0.2", "-w", "auto", "--warmup-max", "0.3", "-x", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "auto probe:" in r.stderr and "not settled within its bound of 0.3 s" in r.stdout
    data = json.loads(out.read_text())["pinbench"]
    assert data["result"]["warmup"]["settled"] is False
    assert "warmup_unsettled" in [n["rule"] for n in data["validity"]["notes"]]
    assert data["auto_streams"]["warmup_seconds"] == pytest.approx(0.05)  # the probes: fixed


def test_the_command_line_refuses_a_bad_warmup(tiny: str) -> None:
    r = cli(tiny, "-w", "soon")
    assert r.returncode == 2
    assert "'soon' is not a number of seconds >= 0 or 'auto'" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) <= 2
