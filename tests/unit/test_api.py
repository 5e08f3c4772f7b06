"""The public API stays what __all__ says, whichever submodules were imported first."""

from __future__ import annotations

import csv
import importlib.util
import inspect
import warnings
from pathlib import Path
from typing import Any

import pytest

import pinbench
from pinbench.engines.deepsparse import import_deepsparse
from pinbench.model.resolve import resolve_model_path

from subproc import run_python


def test_no_public_name_is_shadowed_by_a_submodule() -> None:
    # Importing a submodule binds it as an attribute of the package: a submodule named like a
    # public function would replace that function for every later caller.
    r = run_python(
        """
        import importlib, pkgutil, types
        import pinbench
        for info in pkgutil.walk_packages(pinbench.__path__, "pinbench."):
            if info.name != "pinbench.__main__":  # importing it runs the CLI
                importlib.import_module(info.name)
        bad = [n for n in pinbench.__all__ if isinstance(getattr(pinbench, n), types.ModuleType)]
        print(bad)
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


# deepsparse 1.8.0's benchmark_model (src/deepsparse/benchmark/benchmark_model.py), in order.
DEEPSPARSE_BENCHMARK_MODEL = (
    "model_path", "batch_size", "input_shapes", "num_cores", "scenario", "time", "warmup_time",
    "num_streams", "sequence_length", "input_ids_length", "thread_pinning", "engine",
    "internal_kv_cache", "quiet", "export_path", "disable_kv_cache_overrides",
    "num_kv_cache_tokens",
)  # fmt: skip


def test_benchmark_model_takes_every_keyword_of_the_original() -> None:
    params = list(inspect.signature(pinbench.benchmark_model).parameters)
    assert params[: len(DEEPSPARSE_BENCHMARK_MODEL)] == list(DEEPSPARSE_BENCHMARK_MODEL)
    d = pinbench.benchmark_model(
        "squeezenet", time=0.2, warmup_time=0.05, quiet=True, num_kv_cache_tokens=8,
        internal_kv_cache=False, disable_kv_cache_overrides=True, input_ids_length=1,
    )  # fmt: skip
    assert d["benchmark_result"]["iterations"] > 0


@pytest.mark.deepsparse
@pytest.mark.skipif(
    importlib.util.find_spec("deepsparse") is None,
    reason="deepsparse is not installed (Python <= 3.11: the DeepSparse job)",
)
def test_benchmark_model_matches_the_installed_original() -> None:
    import_deepsparse()  # as the engine does: analytics off, its dependencies' notices silenced
    with warnings.catch_warnings():  # sparsezoo 1.8.1 imports imghdr (deprecated in 3.11)
        warnings.simplefilter("ignore", DeprecationWarning)
        from deepsparse.benchmark.benchmark_model import benchmark_model

    ours = inspect.signature(pinbench.benchmark_model).parameters
    assert set(inspect.signature(benchmark_model).parameters) <= set(ours)


def test_benchmark_model_takes_the_values_the_original_takes() -> None:
    """What deepsparse 1.8.0's own code reads as "not given" (None, "", 0) or reads loosely
    (the case of a scenario or pinning; an unknown one warns and goes on) is taken too."""
    d = pinbench.benchmark_model(
        "squeezenet", batch_size=1, input_shapes=None, num_cores=None, scenario="SYNC",
        time=0.2, warmup_time=0, num_streams=None, quiet=True, thread_pinning="None",
        sequence_length=0, input_ids_length=None,
    )  # fmt: skip
    assert d["benchmark_result"]["iterations"] > 0
    assert d["benchmark_result"]["scenario"] == "singlestream"
    d = pinbench.benchmark_model(
        "squeezenet", scenario="no such scenario", num_streams=0, time=0.2, warmup_time=0,
        quiet=True, thread_pinning="sockets",
    )  # fmt: skip
    assert d["benchmark_result"]["scenario"] == "multistream"


# benchmark_sweep's CSV header, deepsparse 1.8.0 (src/deepsparse/benchmark/benchmark_sweep.py).
SWEEP_COLUMNS = [
    "Model", "Engine", "Batch Size", "Num Cores", "Scenario", "Num Streams", "Items per second",
    "Mean Latency", "Median Latency", "Std Latency", "Input Shape", "Command",
]  # fmt: skip


@pytest.mark.deepsparse
@pytest.mark.skipif(
    importlib.util.find_spec("deepsparse") is None,
    reason="deepsparse is not installed (Python <= 3.11: the DeepSparse job)",
)
def test_the_originals_benchmark_sweep_runs_on_pinbench(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deepsparse 1.8.0's benchmark_sweep, its benchmark_model replaced by pinbench's where the
    sweep looks it up: every point is a row (the sweep logs and skips a point that raises)."""
    import_deepsparse()
    with warnings.catch_warnings():  # sparsezoo 1.8.1 imports imghdr (deprecated in 3.11)
        warnings.simplefilter("ignore", DeprecationWarning)
        from deepsparse.benchmark import benchmark_sweep as original

    calls: list[dict[str, Any]] = []

    def ours(**kwargs: Any) -> dict[str, Any]:
        calls.append(kwargs)
        return pinbench.benchmark_model(**kwargs, quiet=True)

    monkeypatch.setattr(original, "benchmark_model", ours)
    model = str(resolve_model_path("squeezenet"))
    out = tmp_path / "sweep.csv"
    original.benchmark_sweep(
        models=[model],
        batch_sizes=[1, 2],
        scenario_streams_dict={"sync": [None], "async": [None, 2]},
        engines=["onnxruntime"],
        run_time=0.2,  # type: ignore[arg-type]  # int in its hints, any number in its code
        warmup_time=0,
        export_csv_path=str(out),
    )
    with out.open(newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header == SWEEP_COLUMNS
    assert len(rows) == len(calls) == 2 * 3, rows  # batch sizes x (sync + two async)
    assert all(c["input_shapes"] is None for c in calls)  # the value that used to be refused
    for row in rows:
        point = dict(zip(header, row))
        assert point["Model"] == model and point["Engine"] == "onnxruntime"
        assert float(point["Items per second"]) > 0
        assert float(point["Median Latency"]) > 0 and float(point["Std Latency"]) >= 0
        assert point["Command"].startswith('"deepsparse.benchmark ')
    assert [r[4] for r in rows] == ["sync", "async", "async"] * 2
