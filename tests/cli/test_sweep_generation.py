"""pinbench sweep over a KV-cache decoder: -s generate's requests (--prompt-tokens x
--new-tokens) and the single-call scenarios' -seq_len as axes of the grid, each point's token
figures in the sweep's JSON, CSV and reports; axes without a scenario that uses them are one-line
usage errors."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from decoder_factory import make_kv_decoder

from pinbench.report.csvfile import GENERATION_COLUMNS, SEQUENCE_COLUMN
from pinbench.result.schema import load_document
from pinbench.result.sweep_record import Sweep

from subproc import run_pinbench

FAST = ["--streams", "1", "--cores", "1", "-t", "0.2", "-w", "0.05"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_pinbench(*args, timeout=180)


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    folder = tmp_path_factory.mktemp("sweep-decoder")
    model = make_kv_decoder(folder, convention="optimum")
    out, table = folder / "sweep.json", folder / "sweep.csv"
    r = cli("sweep", str(model), "-s", "sync,generate", "--prompt-tokens", "4,8",
            "--new-tokens", "3", "-seq_len", "16,32", *FAST, "-x", str(out),
            "--csv", str(table))  # fmt: skip
    assert r.returncode == 0, r.stderr
    return out, table, r.stdout


def test_the_grid_has_both_kinds_of_request(swept: tuple[Path, Path, str]) -> None:
    out, _, stdout = swept
    data: dict[str, Any] = json.loads(out.read_text())
    grid = data["grid"]
    assert grid["scenarios"] == ["sync", "generate"]
    assert (grid["sequence_lengths"], grid["prompt_tokens"], grid["new_tokens"]) == (
        [16, 32], [4, 8], [3])  # fmt: skip
    points = data["points"]
    assert [(p["scenario"], p["sequence_length"], p["prompt_tokens"], p["new_tokens"])
            for p in points] == [("sync", 16, None, None), ("sync", 32, None, None),
                                 ("generate", None, 4, 3), ("generate", None, 8, 3)]  # fmt: skip
    for p, result in zip(points, data["results"]):
        assert p["error"] is None
        g = p["generation"]
        if p["scenario"] == "sync":
            # one forward pass of the KV shape: a token against a cache of seq_len - 1
            assert g is None and result["pinbench"].get("generation") is None
            assert p["input_shapes"]["attention_mask"] == [1, p["sequence_length"]]
            assert p["command"][-2:] == ["-seq_len", str(p["sequence_length"])]
            continue
        full = result["pinbench"]["generation"]
        assert g["prompt_tokens"] == p["prompt_tokens"] and g["new_tokens"] == 3
        assert g["ttft_ms"] == full["ttft_ms"] and g["tpot_ms"] == full["tpot_ms"]
        assert g["decode_tokens_per_sec"] == full["decode_tokens_per_sec"] > 0
        assert "streams" not in g  # the detail stays in the point's full result
        assert full["cache_lengths_checked"] == [p["prompt_tokens"] + k for k in range(3)]
        assert p["command"][-4:] == ["--prompt-tokens", str(p["prompt_tokens"]),
                                     "--new-tokens", "3"]  # fmt: skip
    for label in ("seq_len", "P+N", "TTFT ms", "TPOT ms", "decode tok/s"):
        assert label in stdout


def test_the_csv_has_the_request_and_token_columns(swept: tuple[Path, Path, str]) -> None:
    out, table, _ = swept
    with table.open() as f:
        rows = list(csv.DictReader(f))
    assert [r[SEQUENCE_COLUMN] for r in rows] == ["16", "32", "", ""]
    assert [r["Prompt Tokens"] for r in rows] == ["", "", "4", "8"]
    points = json.loads(out.read_text())["points"]
    for row, p in zip(rows, points):
        if p["generation"] is None:
            assert all(row[c] == "" for c in GENERATION_COLUMNS)
        else:
            g = p["generation"]
            assert float(row["TTFT Mean"]) == g["ttft_ms"]["mean"]
            assert float(row["TPOT Mean"]) == g["tpot_ms"]["mean"]
            assert float(row["Decode Tokens per second"]) == g["decode_tokens_per_sec"]


def test_reports_of_the_sweep(swept: tuple[Path, Path, str]) -> None:
    out = swept[0]
    doc = load_document(str(out))
    assert isinstance(doc, Sweep)
    assert [p.sequence_length for p in doc.points] == [16, 32, None, None]
    assert [p.generation.shape if p.generation else None for p in doc.points] == [
        None, None, "4+3", "8+3"]  # fmt: skip
    bmf = json.loads(cli("report", str(out), "-f", "bmf").stdout)
    names = sorted(bmf)
    assert len(names) == 4 and any(n.endswith(" seq16") for n in names)
    gen = next(v for k, v in bmf.items() if k.endswith(" p8 n3"))
    assert gen["ttft_ms"]["value"] == doc.points[3].generation.ttft_mean_ms  # type: ignore[union-attr]
    assert "ttft_ms" not in next(v for k, v in bmf.items() if k.endswith(" seq32"))
    md = cli("report", str(out)).stdout
    assert "| seq_len | request P+N@D | TTFT mean ms | TPOT mean ms | decode tok/s |" in md


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-s", "sync", "--prompt-tokens", "4"], "add generate to -s"),
        (["-s", "generate", "-seq_len", "16"], "add async, elastic or sync to -s"),
        (["-s", "generate", "--prompt-tokens", "0", "--new-tokens", "0"], "above 0"),
        (["-s", "generate", "--new-tokens", "-1"], "integers >= 0"),
        (["-s", "server"], "choose async, elastic, sync or generate"),
    ],
)
def test_request_axes_need_their_scenario(tmp_path: Path, args: list[str], needle: str) -> None:
    model = make_kv_decoder(tmp_path, convention="optimum")
    r = cli("sweep", str(model), *args, *FAST)
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert r.stderr.count("\n") == 1 and needle in r.stderr, r.stderr
