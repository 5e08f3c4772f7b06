"""The public API stays what __all__ says, whichever submodules were imported first."""

from __future__ import annotations

import importlib.util
import inspect
import warnings

import pytest

import pinbench
from pinbench.engines.deepsparse import import_deepsparse

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
