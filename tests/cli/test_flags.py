"""The command line's defaults are the settings' own: a command line of no flags gives the
settings' defaults, help shows them, flag words map to field values, and the API's keyword
defaults and checks are the settings' (AbSettings for pinbench ab and pinbench.ab alike)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import pinbench
from pinbench.base.errors import UsageError
from pinbench.cli import ab, benchmark, sweep
from pinbench.cli.flag_table import FLAGS
from pinbench.cli.flags import Flag, shown
from pinbench.settings import (
    SWEEP_TIME_S,
    SWEEP_WARMUP_S,
    AbSettings,
    MeasureSettings,
    RunSettings,
    SearchSettings,
    SweepSettings,
)


def test_no_flags_give_the_settings_defaults() -> None:
    args = benchmark.build_parser().parse_args(["m.onnx"])
    got = benchmark.settings_from_args(args, ["m.onnx"])
    assert got == RunSettings("m.onnx", command_line=("pinbench", "m.onnx"))


def test_a_sweep_of_no_flags_runs_the_sweeps_point_time_and_the_settings_defaults() -> None:
    args = sweep.build_parser().parse_args(["a.onnx"])
    got = sweep.settings_from_args(args, ["a.onnx"])
    measure = MeasureSettings(time=SWEEP_TIME_S, warmup_time=SWEEP_WARMUP_S)
    base = RunSettings("a.onnx", measure=measure, command_line=("pinbench", "sweep", "a.onnx"))
    assert got == SweepSettings(base, models=("a.onnx",))


def test_ab_of_no_flags_compares_as_ab_settings_default() -> None:
    assert ab.ab_settings(ab.build_parser().parse_args([])) == AbSettings()
    args = ab.build_parser().parse_args(["-r", "3", "--metric", "median", "--alpha", "0.1"])
    assert ab.ab_settings(args) == AbSettings(rounds=3, metric="median", alpha=0.1)


@pytest.mark.parametrize(("word", "value"), [("auto", None), ("on", True), ("off", False)])
def test_spinning_words_set_the_engine_field(word: str, value: bool | None) -> None:
    args = benchmark.build_parser().parse_args(["m.onnx", "--spinning", word])
    assert benchmark.settings_from_args(args, []).engine.spinning is value


def test_flags_given_reach_their_fields() -> None:
    argv = ["m.onnx", "-t", "3", "-w", "auto", "--providers", "A, B", "--no-internal-kv-cache",
            "-pin", "numa", "--percentile", "95", "--new-tokens", "4"]  # fmt: skip
    s = benchmark.settings_from_args(benchmark.build_parser().parse_args(argv), argv)
    assert (s.measure.time, s.measure.warmup_time, s.engine.providers) == (3.0, "auto", ("A", "B"))
    assert (s.kv_cache.internal_kv_cache, s.layout.thread_pinning) == (False, "numa")
    assert (s.search.percentile, s.generation.new_tokens) == (95.0, 4)


def test_help_shows_the_fields_defaults() -> None:
    assert FLAGS["RunSettings.measure.time"].help_text() == "seconds measured (10)"
    flag = Flag(("--x",), "SweepSettings.batch_sizes", "{default}; {RunSettings.search.percentile}")
    assert flag.help_text() == "1; 99"
    assert shown(0.05) == "0.05" and shown((1, 8)) == "1,8"
    with pytest.raises(KeyError, match="no field"):
        Flag(("--x",), "RunSettings.measure.time", "{RunSettings.measure.nope}").help_text()


def test_a_sweep_entry_may_name_a_settings_constant_as_its_default() -> None:
    flag = FLAGS["SweepSettings.base.measure.time"]
    assert flag.flag_default() == SWEEP_TIME_S != MeasureSettings.time


def _defaults(function: Any) -> dict[str, Any]:
    return {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def test_the_apis_keyword_defaults_are_the_settings() -> None:
    s = SearchSettings()
    assert _defaults(pinbench.find_qps)["percentile"] == s.percentile
    assert _defaults(pinbench.find_qps)["max_trials"] == s.qps_max_trials
    assert _defaults(pinbench.find_qps)["tolerance"] == s.qps_tolerance
    grid = _defaults(pinbench.run_sweep)
    assert (grid["percentile"], grid["batch_sizes"]) == (99.0, SweepSettings.batch_sizes)
    d = AbSettings()
    assert {k: _defaults(pinbench.ab)[k] for k in ("rounds", "metric", "alpha")} == {
        "rounds": d.rounds,
        "metric": d.metric,
        "alpha": d.alpha,
    }


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"metric": "nope"}, "--metric nope: expected one of items_per_sec"),
        ({"rounds": 0}, "rounds must be at least 1, got 0"),
        ({"alpha": 1.5}, "--alpha must lie between 0 and 1, got 1.5"),
    ],
)
def test_ab_checks_its_comparison_as_ab_settings_does(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(UsageError, match="^" + needle) as settings_error:
        AbSettings(**kwargs).validate()
    a = RunSettings.from_kwargs("m.onnx", time=0.2)
    with pytest.raises(UsageError) as api_error:
        pinbench.ab(a, a, **kwargs)  # refused before anything is loaded
    assert str(api_error.value) == str(settings_error.value)
