"""The documents the report tests read, made once per test session: two real runs of a small
conv model (the first with its raw samples beside it), a real two-point sweep of it, the A/B
fixture (``fixtures/results/ab.json``, in the shape ``pinbench ab -x`` writes) and a schema-1
run (``fixtures/results/schema1.json``)."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from conftest import FIXTURES
from onnx_factory import make_conv_model


@dataclass(frozen=True)
class Docs:
    folder: Path
    model: Path
    run: Path  # with samples (run.npz)
    run_plain: Path  # without
    sweep: Path
    ab: Path
    schema1: Path


@functools.cache
def documents() -> Docs:
    import pinbench

    folder = Path(tempfile.mkdtemp(prefix="pinbench-report-"))
    atexit.register(shutil.rmtree, folder, True)
    model = make_conv_model(folder / "conv")
    run, plain, sweep = folder / "run.json", folder / "plain.json", folder / "sweep.json"
    pinbench.benchmark(str(model), time=0.3, warmup_time=0.05, export_path=str(run),
                       export_samples=str(folder / "run.npz"))  # fmt: skip
    pinbench.benchmark(str(model), time=0.2, warmup_time=0, num_streams=1,
                       export_path=str(plain))  # fmt: skip
    pinbench.run_sweep(str(model), streams=[1], batch_sizes=[1, 2], time=0.1, warmup_time=0,
                       export_path=str(sweep))  # fmt: skip
    ab, schema1 = folder / "ab.json", folder / "schema1.json"
    shutil.copy(FIXTURES / "results" / "ab.json", ab)
    shutil.copy(FIXTURES / "results" / "schema1.json", schema1)
    return Docs(folder, model, run, plain, sweep, ab, schema1)
