"""Raw samples: written atomically as .npz or .csv, read back the same, found from the JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import pinbench
from pinbench.base.errors import UsageError
from pinbench.base.files import guard_outputs
from pinbench.report.outputs import samples_output
from pinbench.result.samples import (
    locate,
    read_samples,
    reference,
    write_samples,
)


@pytest.fixture(scope="module")
def measured() -> pinbench.Measurement:
    return pinbench.measure(pinbench.spin(20_000), streams=2, pinning="none", warmup=0,
                            duration=0.05)  # fmt: skip


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_round_trip(tmp_path: Path, measured: pinbench.Measurement, suffix: str) -> None:
    path = tmp_path / f"s{suffix}"
    write_samples(measured, path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    back = read_samples(path)
    assert len(back) == len(measured.streams)
    for got, s in zip(back, measured.streams):
        assert np.array_equal(got.starts_ns, s.starts_ns)
        assert np.array_equal(got.ends_ns, s.ends_ns)
        assert np.array_equal(got.latencies_ns, s.latencies_ns)


def test_file_layouts(tmp_path: Path, measured: pinbench.Measurement) -> None:
    write_samples(measured, tmp_path / "s.csv")
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0] == "stream,start_ns,end_ns"
    assert len(lines) == 1 + measured.iterations
    s0 = measured.streams[0]
    assert lines[1] == f"0,{s0.starts_ns[0]},{s0.ends_ns[0]}"
    write_samples(measured, tmp_path / "s.npz")
    with np.load(tmp_path / "s.npz", allow_pickle=False) as z:
        assert sorted(z.files) == ["end_ns", "start_ns", "stream"]
        assert z["start_ns"].dtype == np.int64 and z["stream"].size == measured.iterations


def check_samples_path(path: Path) -> None:
    guard_outputs([samples_output(path)])


def test_bad_names_and_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"\.npz or \.csv"):
        check_samples_path(tmp_path / "s.txt")
    with pytest.raises(UsageError, match="--export-samples"):
        check_samples_path(tmp_path / "missing" / "s.npz")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a samples file"):
        read_samples(bad)


def test_the_json_refers_to_the_samples_beside_it(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    json_path = tmp_path / "runs" / "r.json"
    samples = tmp_path / "runs" / "r.npz"
    entry = reference(str(samples), str(json_path))
    assert entry == {"path": "r.npz", "format": "npz"}
    json_path.write_text(json.dumps({"samples": entry}))
    assert locate(entry, json_path) is None  # not written yet
    samples.write_bytes(b"")
    assert locate(entry, json_path) == samples
    assert reference("s.csv", None) == {"path": "s.csv", "format": "csv"}
