"""pinbench compare: constructed runs for the logic, real runs for a real slowdown."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pinbench.base.errors import UsageError
from pinbench.base.stats import latency_stats
from pinbench.base.throughput import throughput_ci
from pinbench.result.run_changes import compare_runs, load_run

from subproc import run_pinbench

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"
SCHEMA1 = FIXTURES / "schema1.json"


def pinbench(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return run_pinbench(*args, timeout=timeout, cwd=cwd)


def write_run(
    folder: Path, name: str, mean_ms: float, *, seed: int, n: int = 2000, samples: bool = True
) -> Path:
    """A schema-2 JSON of two closed-loop streams with normal latencies, and its samples."""
    rng = np.random.default_rng(seed)
    streams = []
    for _ in range(2):
        lat = np.maximum(rng.normal(mean_ms, mean_ms * 0.05, n // 2), 0.1) * 1e6
        ends = (10**9 + np.cumsum(lat)).astype(np.int64)
        streams.append((ends - lat.astype(np.int64), ends))
    window = (min(int(s[0]) for s, _ in streams), max(int(e[-1]) for _, e in streams))
    lat = latency_stats(np.concatenate([e - s for s, e in streams]))
    seconds = (window[1] - window[0]) / 1e9
    data = {
        "orig_model_path": "m.onnx",
        "batch_size": 1,
        "num_cores": 2,
        "num_streams": 2,
        "scenario": "multistream",
        "benchmark_result": {
            "items_per_sec": n / seconds,
            "iterations": n,
            "median": lat.median,
            "99.0%": lat.percentiles[99.0],
        },
        "pinbench": {
            "schema_version": 2,
            "config": {"scenario": "async", "num_streams": 2, "num_cores": 2},
            "result": {
                "items_per_sec_ci": list(throughput_ci(streams, window)),
                "latency_ms": {"median_ci": list(lat.median_ci)},
            },
            "validity": {"valid": True, "reasons": []},
            "samples": {"path": f"{name}.npz", "format": "npz"} if samples else None,
        },
    }
    if samples:
        stream_ids = np.repeat([0, 1], [s.size for s, _ in streams])
        np.savez(
            folder / f"{name}.npz",
            stream=stream_ids,
            start_ns=np.concatenate([s for s, _ in streams]),
            end_ns=np.concatenate([e for _, e in streams]),
        )
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


def changes(a: Path, b: Path) -> dict[str, object]:
    return {c.metric: c for c in compare_runs(load_run(str(a)), load_run(str(b)))}


def test_a_slowdown_is_flagged_by_mann_whitney(tmp_path: Path) -> None:
    a = write_run(tmp_path, "a", 5.0, seed=1)
    b = write_run(tmp_path, "b", 10.0, seed=2)
    r = pinbench("compare", str(a), str(b), "--fail-if-slower", "20", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "MWU p<0.001" in r.stdout and "slower" in r.stdout
    (line,) = r.stderr.strip().splitlines()
    assert "throughput (items/s) -49.9%" in line and "latency median (ms) +99.9%" in line


def test_the_same_distribution_passes(tmp_path: Path) -> None:
    a = write_run(tmp_path, "a", 5.0, seed=1)
    b = write_run(tmp_path, "b", 5.0, seed=2)
    c = changes(a, b)
    assert c["median"].verdict == "no significant change"  # type: ignore[attr-defined]
    r = pinbench("compare", str(a), str(b), "--fail-if-slower", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_significant_but_small_change_passes_the_practical_threshold(tmp_path: Path) -> None:
    a = write_run(tmp_path, "a", 5.0, seed=1, n=40_000)
    b = write_run(tmp_path, "b", 5.1, seed=2, n=40_000)  # 2% slower, and many samples
    c = changes(a, b)
    assert c["median"].significant and c["median"].verdict == "slower"  # type: ignore[attr-defined]
    assert (
        pinbench("compare", str(a), str(b), "--fail-if-slower", "5", cwd=tmp_path).returncode == 0
    )
    assert (
        pinbench("compare", str(a), str(b), "--fail-if-slower", "1", cwd=tmp_path).returncode == 1
    )


def test_without_samples_the_intervals_decide(tmp_path: Path) -> None:
    a = write_run(tmp_path, "a", 5.0, seed=1, samples=False)
    b = write_run(tmp_path, "b", 10.0, seed=2, samples=False)
    r = pinbench("compare", str(a), str(b), "--fail-if-slower", "20", cwd=tmp_path)
    assert r.returncode == 1
    assert "95% CIs apart" in r.stdout and "MWU" not in r.stdout
    same = write_run(tmp_path, "c", 5.0, seed=3, samples=False)
    assert changes(a, same)["median"].test == "95% CIs overlap"  # type: ignore[attr-defined]


def test_moved_samples_fall_back_to_the_intervals(tmp_path: Path) -> None:
    a = write_run(tmp_path, "a", 5.0, seed=1)
    b = write_run(tmp_path, "b", 10.0, seed=2)
    (tmp_path / "b.npz").unlink()
    assert load_run(str(b)).samples is None
    assert changes(a, b)["items_per_sec"].test == "95% CIs apart"  # type: ignore[attr-defined]


def test_schema_1_is_still_read(tmp_path: Path) -> None:
    run = load_run(str(SCHEMA1))
    assert run.schema == 1 and run.iterations == 59 and run.valid is None
    assert run.items_per_sec_ci is None and run.samples is None
    copy = tmp_path / "copy.json"
    shutil.copy(SCHEMA1, copy)
    r = pinbench("compare", str(SCHEMA1), str(copy), "--fail-if-slower", "5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "no samples or CIs" in r.stdout and "+0.0%" in r.stdout


def test_one_run_a_side_says_it_cannot_tell_change_from_drift(tmp_path: Path) -> None:
    a = write_run(tmp_path, "a", 5.0, seed=1)
    b = write_run(tmp_path, "b", 5.0, seed=2)
    r = pinbench("compare", str(a), str(b), cwd=tmp_path)
    assert r.returncode == 0 and "cannot tell a change from the machine's drift" in r.stdout


def test_a_run_judged_invalid_does_not_fail_the_gate(tmp_path: Path) -> None:
    a = write_run(tmp_path, "a", 5.0, seed=1)
    b = write_run(tmp_path, "b", 10.0, seed=2)  # half the throughput, but disturbed:
    data = json.loads(b.read_text())
    data["pinbench"]["validity"] = {
        "valid": False,
        "reasons": [{"rule": "interference", "message": "other work took 50% of CPU 1"}],
    }
    b.write_text(json.dumps(data))
    r = pinbench("compare", str(a), str(b), "--fail-if-slower", "20", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "invalid: interference" in r.stdout and "slower" in r.stdout


def with_repetitions(path: Path, throughputs: list[float], medians: list[float]) -> Path:
    """The run of ``path`` with repetitions of the given figures (the first as its own)."""
    data = json.loads(path.read_text())
    data["benchmark_result"]["items_per_sec"] = throughputs[0]
    data["benchmark_result"]["median"] = medians[0]
    runs = [{"items_per_sec": t, "median_ms": m} for t, m in zip(throughputs, medians)]
    data["pinbench"]["repetitions"] = {"count": len(runs), "representative": 0, "runs": runs}
    path.write_text(json.dumps(data))
    return path


def test_repetitions_are_tested_across_runs(tmp_path: Path) -> None:
    a = with_repetitions(write_run(tmp_path, "a", 5.0, seed=1), [100, 102, 98, 101, 99],
                         [5.0, 4.9, 5.1, 5.0, 5.0])  # fmt: skip
    slower = with_repetitions(write_run(tmp_path, "b", 5.0, seed=2), [80, 82, 79, 81, 80],
                              [6.2, 6.1, 6.3, 6.2, 6.2])  # fmt: skip
    c = changes(a, slower)
    assert c["items_per_sec"].across_runs and c["items_per_sec"].significant  # type: ignore[attr-defined]
    assert c["items_per_sec"].test.startswith("t across repetitions")  # type: ignore[attr-defined]
    r = pinbench("compare", str(a), str(slower), "--fail-if-slower", "10", cwd=tmp_path)
    assert r.returncode == 1 and "drift" not in r.stdout, r.stdout
    # 20% lower in its first repetition, but no lower across them: no significant change.
    noisy = with_repetitions(write_run(tmp_path, "c", 5.0, seed=3), [80, 120, 95, 110, 100],
                             [6.2, 4.1, 5.3, 4.6, 5.0])  # fmt: skip
    c = changes(a, noisy)
    assert c["items_per_sec"].significant is False  # type: ignore[attr-defined]
    r = pinbench("compare", str(a), str(noisy), "--fail-if-slower", "10", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_unknown_significance_fails_on_the_threshold_alone(tmp_path: Path) -> None:
    slow = json.loads(SCHEMA1.read_text())
    slow["benchmark_result"]["items_per_sec"] /= 2
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(slow))
    r = pinbench("compare", str(SCHEMA1), str(path), "--fail-if-slower", "20", cwd=tmp_path)
    assert r.returncode == 1
    assert "?" in r.stdout and "-50.0%" in r.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["a.json"], "arguments"),  # no run to compare with
        (["missing.json", "missing.json"], "missing.json: no such file"),
        (["bad.json", "bad.json"], "bad.json: not a pinbench JSON"),
        (["other.json", "other.json"], "other.json: not a pinbench JSON"),
        (["s1.json", "s1.json", "--fail-if-slower", "-3"], "--fail-if-slower"),
        (["s1.json", "s1.json", "--alpha", "2"], "--alpha"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"hello": 1}')
    shutil.copy(SCHEMA1, tmp_path / "s1.json")
    r = pinbench("compare", *args, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stdout == "" and "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("pinbench compare: error: ") and needle in line


def test_load_run_raises_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        load_run(str(tmp_path / "none.json"))


# --- real runs -----------------------------------------------------------------------------------

FAST = ["-t", "1", "-w", "0.2", "-q"]
GATE = "25"  # above this machine's run-to-run noise (a few %), far below a 2x work difference
ATTEMPTS = 3


def run_pair(tmp: Path, a_args: list[str], b_args: list[str]) -> tuple[int, str, bool]:
    """Runs A then B and compares them: (compare's exit code, its output, whether pinbench
    judged either run disturbed by other work on the machine)."""
    busy = False
    for name, extra in (("a", a_args), ("b", b_args)):
        r = pinbench("squeezenet", *FAST, *extra, "-x", f"{name}.json",
                     "--export-samples", f"{name}.npz", cwd=tmp)  # fmt: skip
        assert r.returncode == 0, r.stderr
        reasons = json.loads((tmp / f"{name}.json").read_text())["pinbench"]["validity"]["reasons"]
        busy |= any(x["rule"] == "interference" for x in reasons)
    r = pinbench("compare", "a.json", "b.json", "--fail-if-slower", GATE, cwd=tmp)
    return r.returncode, r.stdout + r.stderr, busy


def expect(tmp: Path, a_args: list[str], b_args: list[str], code: int) -> None:
    """compare exits ``code`` in one of a few attempts. Another program hogging a core for a
    whole attempt can make 2 cores worth 1.2, or one run of a pair slower: when every attempt
    failed and pinbench itself judged the machine busy, the test is skipped, not failed."""
    outputs, all_busy = [], True
    for _ in range(ATTEMPTS):
        got, output, busy = run_pair(tmp, a_args, b_args)
        if got == code:
            return
        outputs.append(output)
        all_busy &= busy
    if all_busy:
        pytest.skip("other work took the cores (interference) in every attempt")
    pytest.fail("\n".join(outputs))


TWO_CORES = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 CPUs")


@TWO_CORES
def test_fewer_cores_is_a_real_slowdown(tmp_path: Path) -> None:
    # async on 2 cores (2 streams) against 1 core (1 stream): half the work per second.
    expect(tmp_path, ["-ncores", "2"], ["-ncores", "1"], 1)
    r = pinbench("compare", "a.json", "b.json", "--fail-if-slower", GATE, cwd=tmp_path)
    assert "throughput (items/s)" in r.stderr and "MWU" in r.stdout


@TWO_CORES
def test_two_runs_of_the_same_configuration_pass(tmp_path: Path) -> None:
    expect(tmp_path, ["-ncores", "2"], ["-ncores", "2"], 0)
