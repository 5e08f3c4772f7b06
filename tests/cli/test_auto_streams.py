"""-nstreams auto: the candidates, the choice, and that the choice is the configuration a direct
measurement on this machine confirms as the fastest."""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from onnx import TensorProto

import pinbench
from pinbench.base.errors import RunError, UsageError
from pinbench.cli.types import num_streams as parse_num_streams
from pinbench.result.tuning import StreamProbe
from pinbench.search.auto_streams import choose_streams, stream_candidates
from pinbench.settings import RunSettings

from conftest import FIXTURES
from onnx_factory import make_identity_model

SLEEPERS = FIXTURES / "sleep_engine.py"
NCORES = len(os.sched_getaffinity(0))
FAST = {"time": 0.25, "warmup_time": 0.05}
two_cores = pytest.mark.skipif(NCORES < 2, reason="needs two cores to have a choice")


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    return str(make_identity_model(tmp_path, [("x", TensorProto.FLOAT, [1, 4])]))


def probe(n: int, items_per_sec: float) -> StreamProbe:
    return StreamProbe(n, (1,) * n, items_per_sec, 100, 1.0, 1.0, 2.0)


@pytest.mark.parametrize(
    ("cores", "expected"),
    [(1, [1]), (2, [1, 2]), (6, [1, 2, 3, 4, 6]), (7, [1, 2, 4, 7]), (16, [1, 2, 4, 8, 16])],
)
def test_candidates_are_divisors_and_powers_of_two(cores: int, expected: list[int]) -> None:
    assert stream_candidates(cores) == expected


def test_the_fastest_wins_and_fewer_streams_win_a_tie() -> None:
    assert choose_streams([probe(1, 100), probe(2, 180), probe(4, 150)]).num_streams == 2
    # Within the 3% tolerance, fewer streams (more cores per inference) are preferred.
    assert choose_streams([probe(1, 100), probe(2, 102), probe(4, 101)]).num_streams == 1
    assert choose_streams([probe(1, math.nan), probe(2, 50)]).num_streams == 2
    with pytest.raises(RunError, match="--probe-time"):
        choose_streams([probe(1, math.nan), probe(2, 0.0)])


def test_num_streams_arguments() -> None:
    assert parse_num_streams("auto") == parse_num_streams(" AUTO ") == "auto"
    assert parse_num_streams("3") == 3
    for bad in ("0", "-2", "two", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_num_streams(bad)
    auto = RunSettings.from_kwargs("m.onnx", num_streams=" Auto").validate()
    assert auto.layout.num_streams == "auto" and auto.auto_streams and auto.fixed_streams is None
    four = RunSettings.from_kwargs("m.onnx", num_streams=4).validate()
    assert four.fixed_streams == 4 and not four.auto_streams
    with pytest.raises(UsageError, match="auto"):
        RunSettings.from_kwargs("m.onnx", num_streams="many").validate()


@two_cores
@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        ("ParallelSleeper", 2),  # cores do not speed one inference up: 2 streams, 2x faster
        ("CoreHungrySleeper", 1),  # 2 cores make one inference 4x faster: 1 stream, 2x faster
    ],
)
def test_auto_picks_what_a_direct_measurement_confirms(
    tiny: str, engine: str, expected: int
) -> None:
    spec = f"{SLEEPERS}:{engine}"
    auto = pinbench.benchmark(
        tiny, engine=spec, num_streams="auto", probe_time=0.2, num_cores=2, **FAST
    )
    tuning = auto.config.auto_streams
    assert tuning is not None
    assert [p.num_streams for p in tuning.probes] == [1, 2]
    assert auto.config.num_streams == tuning.chosen == expected
    assert auto.config.num_streams_reason.startswith("auto:")
    # The same configurations measured directly, in this test: the fastest is the one chosen,
    # and each probe's figure agrees with its direct measurement.
    direct = {
        n: pinbench.benchmark(tiny, engine=spec, num_streams=n, num_cores=2, **FAST).items_per_sec
        for n in (1, 2)
    }
    assert max(direct, key=direct.__getitem__) == tuning.chosen
    for p in tuning.probes:
        assert p.items_per_sec == pytest.approx(direct[p.num_streams], rel=0.3)
    assert auto.items_per_sec == pytest.approx(direct[tuning.chosen], rel=0.3)


def test_sync_needs_no_probe(tiny: str) -> None:
    r = pinbench.benchmark(tiny, scenario="sync", num_streams="auto", **FAST)
    assert r.config.num_streams == 1 and r.config.auto_streams is None


@two_cores
def test_cli_prints_and_exports_the_table(tmp_path: Path, tiny: str) -> None:
    out = tmp_path / "r.json"
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", tiny, "-e", f"{SLEEPERS}:CoreHungrySleeper",
         "-nstreams", "auto", "--probe-time", "0.2", "-ncores", "2", "-t", "0.2", "-w", "0.05",
         "-x", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Original Model Path: ")
    assert "Auto Streams: 1 " in r.stdout
    table = r.stdout[r.stdout.index("Auto Streams:") :].splitlines()
    assert "streams" in table[1] and "items/sec" in table[1]
    assert table[2].split()[0] == "*" and table[2].split()[1] == "1"  # the chosen row, marked
    assert "auto probe: 2 stream(s)" in r.stderr
    data = json.loads(out.read_text())
    assert data["num_streams"] == 1
    auto = data["pinbench"]["auto_streams"]
    assert auto["chosen"] == 1 and [c["num_streams"] for c in auto["candidates"]] == [1, 2]
    assert auto["candidates"][0]["cores_per_stream"] == [2]
    assert auto["candidates"][0]["items_per_sec"] > auto["candidates"][1]["items_per_sec"]
    assert auto["runner_up"] == 2 and auto["within_noise"] is False  # 2x apart: not noise
    lo, hi = auto["candidates"][0]["items_per_sec_ci"]
    assert lo <= auto["candidates"][0]["items_per_sec"] <= hi


def test_runner_up_and_noise() -> None:
    from pinbench.result.sweep_record import overlaps, runner_up

    assert runner_up([10.0, 30.0, 20.0], 1, [0, 1, 2]) == 2
    assert runner_up([10.0, 30.0, 20.0], 1, [0, 1]) == 0
    assert runner_up([10.0], 0, [0]) is None
    assert overlaps((1.0, 3.0), (2.5, 4.0)) and not overlaps((1.0, 2.0), (2.5, 4.0))
    assert not overlaps((math.nan, 1.0), (0.0, 2.0))  # unknown: no claim


def test_cli_rejects_a_bad_stream_count(tiny: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", tiny, "-nstreams", "lots", "-t", "0.1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "'auto'" in r.stderr
