"""Each validity rule, triggered by a constructed case and quiet on a good one."""

from __future__ import annotations

import dataclasses

import pytest

import pinbench
from pinbench.base.stats import LatencyStats
from pinbench.result import validity
from pinbench.result.validity import Reason, Validity

from made_results import squeezenet_async


def latency(mean: float, std: float, median: float | None = None) -> LatencyStats:
    m = mean if median is None else median
    return LatencyStats(100, mean, m, std, m / 2, m * 2, {50.0: m})


def rules(reasons: list[Reason]) -> list[str]:
    return [r.rule for r in reasons]


def test_high_variance_at_10_percent_of_the_mean() -> None:
    assert rules(validity.high_variance(latency(10.0, 1.0))) == ["high_variance"]
    assert validity.high_variance(latency(10.0, 0.99)) == []
    assert "10%" in validity.high_variance(latency(10.0, 2.5))[0].message


@pytest.mark.parametrize(
    ("p", "needed"),
    [(25.0, 14), (50.0, 20), (90.0, 100), (95.0, 200), (97.0, 334), (99.0, 1000), (99.9, 10000)],
)
def test_iterations_needed_per_percentile(p: float, needed: int) -> None:
    assert validity.needed_iterations(p) == needed


def test_too_few_iterations_names_the_percentiles() -> None:
    (reason,) = validity.too_few_iterations(999)
    assert reason.rule == "too_few_iterations"
    assert "p99 (1000)" in reason.message and "p99.9 (10000)" in reason.message
    assert "p97" not in reason.message
    assert validity.too_few_iterations(10_000) == []


def test_latencies_near_the_clock_resolution() -> None:
    clock = {"resolution_ns": 20.0, "overhead_ns": 25.0}  # grain 25 ns: limit 2.5 us
    assert rules(validity.clock_resolution(0.001, clock)) == ["clock_resolution"]
    assert validity.clock_resolution(0.0025, clock) == []
    assert validity.clock_resolution(0.001, {}) == []  # unknown clock: no verdict


@pytest.mark.parametrize(("governor", "fires"), [("powersave", True), ("mixed", True),
                                                 ("schedutil", True), ("performance", False),
                                                 (None, False)])  # fmt: skip
def test_governor(governor: str | None, fires: bool) -> None:
    assert bool(validity.governor({"governor": governor})) == fires


@pytest.mark.parametrize(
    ("load", "cpus", "fires"), [(3.0, 4, True), (0.9, 2, False), (10.0, 64, False), (17, 64, True)]
)
def test_load_at_start(load: float, cpus: int, fires: bool) -> None:
    env = {"load_average": [load, 0.0, 0.0], "allowed_cpus": list(range(cpus))}
    assert bool(validity.load_at_start(env)) == fires


CORES = [[0, 4], [1, 5], [2, 6], [3, 7]]  # CPU n and n + 4 are SMT siblings


@pytest.mark.parametrize(
    ("streams", "fires"),
    [
        ([[0], [4]], True),  # two streams on the two threads of core 0
        ([[0, 1], [4, 5]], True),
        ([[0], [1], [2], [3]], False),  # one thread of each core
        ([[0, 4], [1, 5]], False),  # each stream owns whole cores (--smt)
        ([[0, 1, 4, 5], [0, 1, 4, 5]], False),  # the same CPUs on purpose (elastic)
        ([[], []], False),  # not pinned
    ],
)
def test_streams_sharing_smt_siblings(streams: list[list[int]], fires: bool) -> None:
    assert bool(validity.smt_siblings(streams, CORES)) == fires


def marks(wall_s: float, steady_s: float) -> dict[str, float]:
    return {
        "wall_start_ns": 1e18,
        "wall_end_ns": 1e18 + wall_s * 1e9,
        "steady_start_ns": 5e9,
        "steady_end_ns": 5e9 + steady_s * 1e9,
    }


def test_wall_clock_disagreeing_by_more_than_1_percent() -> None:
    window = (int(5.1e9), int(5.9e9))
    assert rules(validity.wall_clock(marks(1.02, 1.0), window)) == ["wall_clock"]
    assert validity.wall_clock(marks(1.009, 1.0), window) == []
    assert rules(validity.wall_clock(marks(1.0, 1.0), (int(4e9), int(5.5e9)))) == ["wall_clock"]
    assert validity.wall_clock({"resolution_ns": 20.0}, window) == []  # no readings


def test_verdict_and_its_json() -> None:
    assert Validity(()).valid and Validity(()).verdict == "valid"
    v = Validity((Reason("governor", "slow"),))
    d = v.to_dict()
    assert d["valid"] is False and d["reasons"] == [{"rule": "governor", "message": "slow"}]
    assert d["rules_checked"] == list(validity.RULES)


def test_assess_a_real_run() -> None:
    r = squeezenet_async()
    assert set(rules(list(r.validity.reasons))) <= set(validity.RULES)
    assert r.clock["steady_start_ns"] <= r.measurement.window_ns[0]  # type: ignore[index]
    assert "wall_clock" not in rules(list(r.validity.reasons))
    env = {**r.environment, "governor": "powersave"}
    again = validity.assess(r.measurement, r.latency, r.clock, env, r.core_cpus)
    assert "governor" in rules(list(again.reasons))
    slowed = dataclasses.replace(r, environment=env, validity=again)
    assert pinbench.json_document(slowed)["pinbench"]["validity"]["valid"] is False
