"""The server scenario: latency counts queueing, the figures it reports, its CLI and JSON, and the
search for the highest rate under a latency target (--find-qps)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from onnx import TensorProto

import pinbench
from pinbench.base.arrivals import arrival_schedule
from pinbench.base.errors import RunError, UsageError
from pinbench.cli.benchmark import build_parser, settings_from_args
from pinbench.result.measurement import Measurement, StreamMeasurement, Totals
from pinbench.result.server import lateness
from pinbench.result.tuning import QpsSearch, QpsTrial
from pinbench.result.validity_record import Reason, Validity
from pinbench.search.find_qps import bisect_rate
from pinbench.settings import RunSettings

from conftest import FIXTURES
from onnx_factory import make_identity_model
from subproc import run_pinbench

SLEEPERS = FIXTURES / "sleep_engine.py"
PARALLEL = f"{SLEEPERS}:ParallelSleeper"  # 3 ms per batch of 1, whatever the cores
FAST = {"time": 0.3, "warmup_time": 0.05}


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    return str(make_identity_model(tmp_path, [("x", TensorProto.FLOAT, [1, 4])]))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_pinbench(*args)


# --- latency includes queueing -------------------------------------------------------------------


def test_an_overload_makes_latency_grow_with_the_queue() -> None:
    # One stream serving 1 ms queries arriving every 0.5 ms: the queue grows by one query per ms,
    # so each query waits longer than the one before; underloaded, latency stays the service time.
    service_ns = 1_000_000
    over = arrival_schedule(2000.0, 0.2, distribution="uniform")
    m = pinbench.measure(
        pinbench.spin(service_ns), streams=1, warmup=0.0, duration=0.2, arrivals_ns=over
    )
    s = m.streams[0]
    lat, late = s.latencies_ns, s.late_ns
    assert late is not None and m.arrivals_issued + m.arrivals_dropped == over.size
    tenth = lat.size // 10
    assert np.median(lat[-tenth:]) > 5 * np.median(lat[:tenth])
    assert np.corrcoef(np.arange(lat.size), lat)[0, 1] > 0.9  # it grows along the run
    assert np.all(lat >= late + service_ns)  # latency = time queued + time served

    under = arrival_schedule(200.0, 0.2, distribution="uniform")
    u = pinbench.measure(
        pinbench.spin(service_ns), streams=1, warmup=0.0, duration=0.2, arrivals_ns=under
    )
    assert np.median(lat[-tenth:]) > 20 * np.median(u.streams[0].latencies_ns)


def test_overloaded_server_run_reports_what_it_could_not_serve(tiny: str) -> None:
    # ParallelSleeper on one stream serves about 330 queries/s; 1000 are asked for.
    r = pinbench.benchmark(
        tiny, engine=PARALLEL, scenario="server", qps=1000, num_streams=1, **FAST
    )
    d = pinbench.json_document(r)["pinbench"]["server"]
    assert d["qps_requested"] == 1000
    assert d["qps_achieved"] < 0.6 * 1000
    assert d["arrivals_issued"] == r.iterations
    assert d["lateness"]["late"] > 0.5 * r.iterations
    assert r.latency.max > 10 * r.latency.min  # queued queries waited far longer than served


def test_a_rate_from_a_handful_of_queries_is_counted_over_the_window_and_marked(
    tmp_path: Path, tiny: str
) -> None:
    """5 queries/s for 1 s: a few queries, each served at once. The achieved rate counts them
    over the whole window queries were offered (at least -t), never over the moments between
    the first and the last, and the console and the JSON say it rests on too few queries."""
    out = tmp_path / "r.json"
    r = cli(tiny, "-s", "server", "--qps", "5", "-t", "1", "-w", "0", "-x", str(out))
    assert r.returncode == 0, r.stderr
    server = json.loads(out.read_text())["pinbench"]["server"]
    served = server["arrivals_served"]
    assert served == server["arrivals_scheduled"] == server["arrivals_issued"] >= 1
    assert server["qps_achieved"] <= served / 1.0  # the window is at least the 1 s of -t
    assert server["qps_achieved_reliable"] is False and server["min_queries_for_rate"] == 100
    lines = dict(line.split(": ", 1) for line in r.stdout.splitlines() if ": " in line)
    assert lines["Server Achieved Rate (queries/sec)"].endswith(
        f"(unreliable: {served} queries served, fewer than 100; run longer with -t)"
    )
    assert lines["Server Arrivals"] == (
        f"poisson (seed 0), {served} scheduled, {served} served, 0 dropped"
    )


# --- settings and figures ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "qps", "arrivals", "needle"),
    [
        ("server", None, "poisson", "--qps"),
        ("async", 10.0, "poisson", "-s server"),
        ("server", 0.0, "poisson", "--qps"),
        ("server", float("nan"), "poisson", "--qps"),
        ("server", 10.0, "bursty", "poisson or uniform"),
    ],
)
def test_bad_server_settings(scenario: str, qps: float | None, arrivals: str, needle: str) -> None:
    settings = RunSettings.from_kwargs("m.onnx", scenario=scenario, qps=qps, arrivals=arrivals)
    with pytest.raises(UsageError, match=needle):
        settings.validate()


def _measurement(scheduled: list[int], starts: list[int], ends: list[int]) -> Measurement:
    s, b, e = (np.array(v, dtype=np.int64) for v in (scheduled, starts, ends))
    lat = e - s
    totals = Totals(len(s), int(lat.sum()), float((lat**2).sum()), int(lat.min()), int(lat.max()),
                    int(s[0]), int(e[-1]))  # fmt: skip
    stream = StreamMeasurement(0, (), (), 0, b, e, 0, totals, scheduled_ns=s)
    return Measurement([stream], 0.0, 1.0, None, False, None, 0, 0, len(s), 0)


def test_lateness_counts_queries_started_after_their_arrival() -> None:
    ms = 1_000_000
    m = _measurement(
        scheduled=[0, 10 * ms, 20 * ms, 30 * ms],
        starts=[0, 10 * ms + 50_000, 25 * ms, 38 * ms],  # on time, 0.05 ms, 5 ms, 8 ms late
        ends=[2 * ms, 12 * ms, 27 * ms, 40 * ms],
    )
    late = lateness(m)
    assert (late.count, late.late) == (4, 2)
    assert late.max_ms == pytest.approx(8.0)
    assert late.mean_ms == pytest.approx((0 + 0.05 + 5 + 8) / 4)


def test_server_cli_console_and_json(tmp_path: Path, tiny: str) -> None:
    out = tmp_path / "r.json"
    r = cli(tiny, "-s", "server", "--qps", "300", "--arrivals", "uniform", "-t", "0.3", "-w",
            "0.05", "-x", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    labels = [line.split(": ", 1)[0] for line in r.stdout.splitlines() if ": " in line]
    assert labels[:13] == [
        *("Original Model Path", "Batch Size", "Scenario", "Throughput (items/sec)"),
        *("Latency Mean (ms/batch)", "Latency Median (ms/batch)", "Latency Std (ms/batch)"),
        *("Latency p90 (ms/batch)", "Latency p99 (ms/batch)", "Latency Min (ms/batch)"),
        *("Latency Max (ms/batch)", "Iterations", "Server Requested Rate (queries/sec)"),
    ]
    assert "Server Achieved Rate (queries/sec)" in labels and "Server Late Queries" in labels
    data = json.loads(out.read_text())
    assert data["scenario"] == data["benchmark_result"]["scenario"] == "server"
    for key in ("engine", "version", "num_cores", "num_streams", "seconds_to_run", "scheduler"):
        assert key in data
    assert "99.9%" in data["benchmark_result"]
    server = data["pinbench"]["server"]
    assert server["qps_requested"] == 300 and server["arrivals"] == "uniform"
    assert server["arrivals_issued"] == data["benchmark_result"]["iterations"] == 90
    assert server["arrivals_served"] == server["arrivals_scheduled"] == 90
    assert server["arrivals_dropped"] == 0
    assert server["qps_achieved_reliable"] is False  # 90 queries, fewer than 100
    assert set(server["lateness"]) >= {"late", "mean_ms", "p99_ms", "max_ms", "threshold_ms"}
    assert data["pinbench"]["config"]["scenario"] == "server"
    streams = data["pinbench"]["streams"]
    assert len(streams) == len(os.sched_getaffinity(0))  # async's layout: one stream per core


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-s", "server"], "--qps"),
        (["--qps", "100"], "-s server"),
        (["-s", "server", "--qps", "0"], "--qps"),
        (["--find-qps"], "--latency-slo"),
        (["--find-qps", "--latency-slo", "20ms", "--qps", "5"], "--qps"),
        (["--latency-slo", "20ms"], "--find-qps"),
        (["--find-qps", "--latency-slo", "5ms", "-s", "sync"], "-s sync"),
    ],
)
def test_bad_server_requests_are_usage_errors(tiny: str, args: list[str], needle: str) -> None:
    argv = [tiny, *args, "-t", "0.1", "-w", "0"]
    with pytest.raises(UsageError, match=needle):
        settings_from_args(build_parser().parse_args(argv), argv).validate()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--arrivals", "bursty"], "--arrivals"),
        (["--latency-slo", "soon"], "--latency-slo"),
        (["--percentile", "100"], "--percentile"),
        (["--qps", "many"], "--qps"),
    ],
)
def test_bad_server_flag_values(
    tiny: str, args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([tiny, *args])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err


def test_a_bad_server_request_is_one_line_from_the_command(tiny: str) -> None:
    r = cli(tiny, "-s", "server", "-t", "0.1", "-w", "0")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        "pinbench: error: the server scenario needs an arrival rate: add --qps QUERIES_PER_SEC"
    ]


# --- the highest rate under a target -------------------------------------------------------------


def _fake_trials(limit: float) -> Any:
    def trial(rate: float) -> QpsTrial:
        return QpsTrial(rate, 1.0, rate, rate / limit, 0.0, 1, 0, rate <= limit)

    return trial


@pytest.mark.parametrize("capacity", [200.0, 40.0])  # right, and far too low (it widens)
def test_bisection_converges_on_the_highest_passing_rate(capacity: float) -> None:
    trials = bisect_rate(_fake_trials(123.0), capacity, tolerance=0.02, max_trials=12)
    best = max(t.qps for t in trials if t.meets)
    assert 123.0 * 0.96 <= best <= 123.0
    assert any(not t.meets for t in trials)
    assert len(bisect_rate(_fake_trials(123.0), capacity, max_trials=3)) == 3


def test_find_qps_answer_is_confirmed_by_direct_runs(tiny: str) -> None:
    # One stream of 3 ms queries (about 330/s at most). Target: median <= 6 ms.
    kw: dict[str, Any] = {"engine": PARALLEL, "num_streams": 1, "warmup_time": 0.05}
    r = pinbench.find_qps(tiny, latency_slo_ms=6.0, percentile=50, probe_time=0.2, time=0.3,
                 max_trials=4, tolerance=0.05, **kw)  # fmt: skip
    search = r.config.find_qps
    assert search is not None and search.best_qps is not None
    assert r.config.scenario == "server" and r.server is not None
    assert r.server.qps_requested == search.best_qps
    assert search.trials and all(t.qps > 0 for t in search.trials)
    capacity = search.capacity_qps
    assert 0.3 * capacity < search.best_qps < 1.2 * capacity
    # Direct runs: at the rate found the target holds (the final run is one); at twice the rate
    # the streams cannot keep up and the median far exceeds it.
    assert r.latency.median <= 6.0 * 1.25
    over = pinbench.benchmark(tiny, scenario="server", qps=2 * search.best_qps, time=0.3, **kw)
    assert over.latency.median > 6.0
    d = pinbench.json_document(r)["pinbench"]["find_qps"]
    assert d["best_qps"] == search.best_qps and len(d["trials"]) == len(search.trials)
    assert all(t["disturbed"] == 0 for t in d["trials"])  # nothing ran beside it


def test_find_qps_refuses_a_target_below_one_inference(tiny: str) -> None:
    with pytest.raises(RunError, match="one inference alone"):
        pinbench.find_qps(tiny, latency_slo_ms=1.0, engine=PARALLEL, num_streams=1, probe_time=0.1,
                 time=0.2, warmup_time=0.0)  # fmt: skip


class _Run:
    interrupted = False


def test_a_confirmation_that_misses_steps_down_and_confirms_again() -> None:
    from pinbench.search.find_qps import CONFIRMATIONS, MAX_STEPS_DOWN, STEP_DOWN, _confirm

    def holds_below(limit: float) -> Any:
        def confirm(rate: float) -> tuple[Any, QpsTrial]:
            return _Run(), QpsTrial(rate, 1.0, rate, 1.0, 1.0, 1, 0, rate <= limit)

        return confirm

    _, runs, rate = _confirm(holds_below(200.0), 100.0, 99.0, 1.0)
    assert rate == 100.0 and len(runs) == CONFIRMATIONS  # held at once
    _, runs, rate = _confirm(holds_below(92.0), 100.0, 99.0, 1.0)
    assert rate == pytest.approx(100.0 * STEP_DOWN**2)  # 95 missed, 90.25 held
    assert [t.meets for t in runs] == [False, False, True, True]
    _, runs, rate = _confirm(holds_below(1.0), 100.0, 99.0, 1.0)
    assert rate is None and len(runs) == MAX_STEPS_DOWN + 1  # each rate missed at once


class _Judged:
    """What ``undisturbed`` reads of a run: whether a signal cut it, and its verdict."""

    interrupted = False

    def __init__(self, *rules: str) -> None:
        self.validity = Validity(tuple(Reason(r, f"{r} here") for r in rules))


def test_a_miss_beside_other_work_runs_again_and_a_miss_alone_does_not() -> None:
    from pinbench.search.find_qps import DISTURBED_RERUNS, undisturbed

    def runs(*outcomes: tuple[bool, tuple[str, ...]]) -> Any:
        left = list(outcomes)
        made: list[int] = []

        def run() -> tuple[Any, QpsTrial]:
            meets, rules = left.pop(0)
            made.append(1)
            return _Judged(*rules), QpsTrial(50.0, 1.0, 50.0, 1.0, 1.0, 1, 0, meets)

        return run, made

    # missed beside a hog, then met alone: the miss is set aside, the meeting run kept
    run, made = runs((False, ("interference",)), (True, ()))
    _, t = undisturbed(run)
    assert t.meets and t.disturbed == 1 and len(made) == 2
    # a miss with a quiet verdict (or another reason) is the rate's own: kept at once
    for rules in [(), ("drift",)]:
        run, made = runs((False, rules))
        _, t = undisturbed(run)
        assert not t.meets and t.disturbed == 0 and len(made) == 1
    # a run that meets the target is kept whatever ran beside it
    run, made = runs((True, ("interference",)))
    assert undisturbed(run)[1].disturbed == 0 and len(made) == 1
    # always disturbed: run again at most DISTURBED_RERUNS times, then the last run is kept
    run, made = runs(*[(False, ("interference",))] * (DISTURBED_RERUNS + 1))
    _, t = undisturbed(run)
    assert not t.meets and t.disturbed == DISTURBED_RERUNS and len(made) == DISTURBED_RERUNS + 1


def test_the_console_counts_the_runs_set_aside() -> None:
    from pinbench.report.search_lines import find_qps_lines

    kept = QpsTrial(50.0, 1.0, 50.0, 1.0, 1.0, 1, 0, True, disturbed=2)
    search = QpsSearch(10.0, 99.0, 60.0, (kept,), 50.0, confirmations=(kept,), confirmed=True)
    lines = find_qps_lines(search)
    assert any(line.startswith("Max Rate Disturbed: 4 run(s) missed") for line in lines)
    plain = dataclasses.replace(kept, disturbed=0)
    quiet = dataclasses.replace(search, trials=(plain,), confirmations=(plain,))
    assert not any("Disturbed" in line for line in find_qps_lines(quiet))


def test_an_answer_no_confirmation_holds_exits_1(tmp_path: Path, tiny: str) -> None:
    # Fast for 0.25 s, then ten times slower: the short trials pass, the long runs miss.
    out = tmp_path / "r.json"
    r = cli(tiny, "-e", f"{SLEEPERS}:SlowsDownSleeper", "-nstreams", "1", "--find-qps",
            "--latency-slo", "6ms", "--percentile", "50", "--probe-time", "0.1", "-t", "0.6",
            "-w", "0", "-x", str(out))  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Max Rate Confirmation: NOT confirmed" in r.stdout
    assert r.stderr.strip().splitlines()[-1].startswith("pinbench: error: --find-qps: no rate met")
    search = json.loads(out.read_text())["pinbench"]["find_qps"]
    assert search["confirmed"] is False and not any(c["meets"] for c in search["confirmations"])
