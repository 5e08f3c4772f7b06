"""-s generate's token figures compared: pinbench ab --metric ttft|tpot|decode_tokens_per_sec
over paired rounds, pinbench compare on two generate runs (on their samples, and across
repetitions), and the A/B file's token figures through pinbench report; a token metric on runs
that do not generate is a one-line usage error."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
from pathlib import Path
from typing import Any

import pytest
from decoder_factory import make_kv_decoder

from pinbench.result.ab_record import GENERATION_METRICS, METRICS

from subproc import run_pinbench

FAST = ["-t", "0.2", "-w", "0.05"]
REQUEST = ["-s", "generate", "--prompt-tokens", "4", "--new-tokens", "3"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_pinbench(*args, timeout=180)


@pytest.fixture(scope="module")
def decoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_kv_decoder(tmp_path_factory.mktemp("decoder"), convention="optimum")


def test_the_token_metrics_and_their_direction() -> None:
    assert {"ttft", "tpot", "decode_tokens_per_sec"} <= set(GENERATION_METRICS)
    assert METRICS["ttft"] is METRICS["tpot"] is False  # lower is better
    assert METRICS["decode_tokens_per_sec"] is True


def test_ab_compares_tpot_over_paired_rounds(decoder: Path, tmp_path: Path) -> None:
    out = tmp_path / "ab.json"
    r = cli("ab", str(decoder), *REQUEST, *FAST, "--a", "", "--b", "--depth 6", "-r", "2",
            "--metric", "tpot", "-x", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "metric tpot" in r.stdout and "A tpot ms" in r.stdout
    data = json.loads(out.read_text())
    c = data["comparison"]
    assert data["metric"] == c["metric"] == "tpot" and c["higher_is_better"] is False
    assert c["rounds"] == 2
    tpot = {side: [run["pinbench"]["generation"]["tpot_ms"]["mean"] for run in data[side]["runs"]]
            for side in ("a", "b")}  # fmt: skip
    assert [run["pinbench"]["generation"]["depth"] for run in data["b"]["runs"]] == [6, 6]
    # the ratio is the geometric mean of the rounds' B / A, as for every metric
    ratios = [b / a for a, b in zip(tpot["a"], tpot["b"])]
    assert c["ratio"] == pytest.approx(math.exp(sum(map(math.log, ratios)) / 2))

    md = cli("report", str(out)).stdout
    assert "TPOT mean ms (median of runs)" in md and "B / A tpot" in md
    rows = list(csv.DictReader(io.StringIO(cli("report", str(out), "-f", "csv").stdout)))
    assert [row["Side"] for row in rows] == ["A", "A", "B", "B"]
    assert [row["Depth"] for row in rows] == ["0", "0", "6", "6"]
    bmf = json.loads(cli("report", str(out), "-f", "bmf").stdout)
    side_b = next(v for k, v in bmf.items() if k.endswith("B: --depth 6"))
    low, high = sorted(tpot["b"])
    assert side_b["tpot_ms"] == {"value": pytest.approx((low + high) / 2), "lower_value": low,
                                 "upper_value": high}  # fmt: skip


def test_a_token_metric_needs_generate(decoder: Path) -> None:
    r = cli("ab", str(decoder), *FAST, "--a", "", "--b", "-nstreams 1", "-r", "2",
            "--metric", "ttft")  # fmt: skip
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "add -s generate" in r.stderr, r.stderr


def run_json(tmp_path: Path, name: str, decoder: Path, *args: str) -> Path:
    out = tmp_path / f"{name}.json"
    r = cli(str(decoder), *REQUEST, *FAST, "-x", str(out), *args)
    assert r.returncode == 0, r.stderr
    return out


def rows_of(stdout: str) -> dict[str, list[str]]:
    """compare's table: label -> the rest of its line, split on two spaces or more."""
    out: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        cells = [c for c in line.split("  ") if c.strip()]
        if cells and ("(ms)" in cells[0] or "(tokens/s)" in cells[0]):
            out[cells[0].strip()] = [c.strip() for c in cells[1:]]
    return out


def written(path: Path) -> dict[str, Any]:
    g: dict[str, Any] = json.loads(path.read_text())["pinbench"]["generation"]
    return g


def test_compare_tests_ttft_and_tpot_on_the_samples(decoder: Path, tmp_path: Path) -> None:
    a = run_json(tmp_path, "a", decoder, "--export-samples", str(tmp_path / "a.npz"))
    b = run_json(tmp_path, "b", decoder, "--export-samples", str(tmp_path / "b.npz"))
    r = cli("compare", str(a), str(b))
    assert r.returncode == 0, r.stderr
    rows = rows_of(r.stdout)
    ga, gb = written(a), written(b)
    ttft = rows["TTFT mean (ms)"]
    assert float(ttft[0]) == pytest.approx(ga["ttft_ms"]["mean"], abs=1e-4)
    assert float(ttft[1]) == pytest.approx(gb["ttft_ms"]["mean"], abs=1e-4)
    # one prefill call per request, new tokens - 1 decode calls
    assert f"({ga['requests']} vs {gb['requests']} prefill calls)" in ttft[3]
    tpot = rows["TPOT mean (ms)"]
    assert f"({ga['requests'] * 2} vs {gb['requests'] * 2} decode calls)" in tpot[3]
    assert "MWU" in rows["decode (tokens/s)"][3]
    assert len(rows["TTFT p99 (ms)"]) == 3  # shown, not tested
    plain = rows_of(cli("compare", str(a), str(run_json(tmp_path, "c", decoder))).stdout)
    assert plain["TTFT mean (ms)"][-2:] == ["no samples", "?"]  # no test without samples
    async_run = tmp_path / "async.json"
    assert cli(str(decoder), *FAST, "-x", str(async_run)).returncode == 0
    assert "TTFT" not in cli("compare", str(a), str(async_run)).stdout  # one side generates


def test_compare_tests_tokens_across_repetitions(decoder: Path, tmp_path: Path) -> None:
    a = run_json(tmp_path, "a", decoder, "-r", "2")
    b = run_json(tmp_path, "b", decoder, "-r", "2")
    runs = json.loads(a.read_text())["pinbench"]["repetitions"]["runs"]
    assert all(run["ttft_ms"] > 0 and run["tpot_ms"] > 0 for run in runs)
    r = cli("compare", str(a), str(b))
    assert r.returncode == 0, r.stderr
    rows = rows_of(r.stdout)
    for label in ("TTFT mean (ms)", "TPOT mean (ms)", "decode (tokens/s)"):
        assert "t across repetitions" in rows[label][3] and "(2 vs 2)" in rows[label][3]
