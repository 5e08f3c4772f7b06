"""pinbench report on runs of -s generate: the token figures (TTFT, TPOT, token rates, the
request's shape) through every format, parsed back against the JSON they came from; runs of other
scenarios beside them keep their cells empty."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from decoder_factory import make_kv_decoder

import pinbench
from pinbench.report.csvfile import COLUMNS, GENERATION_COLUMNS, HARDWARE_COLUMNS
from pinbench.result.schema import load_document
from pinbench.result.schema.run import RunDoc

from report_docs import documents
from subproc import run_pinbench


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generate-report")
    model = make_kv_decoder(folder, convention="optimum")
    out = folder / "generate.json"
    pinbench.benchmark(str(model), scenario="generate", prompt_tokens=5, new_tokens=4, depth=2,
                       time=0.2, warmup_time=0.05, export_path=str(out))  # fmt: skip
    return out


def written(path: Path) -> dict[str, Any]:
    g: dict[str, Any] = json.loads(path.read_text())["pinbench"]["generation"]
    return g


def report(*args: str) -> str:
    r = run_pinbench("report", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_the_loader_reads_the_token_figures(gen: Path) -> None:
    g, doc = written(gen), load_document(str(gen))
    assert isinstance(doc, RunDoc) and doc.generation is not None
    t = doc.generation
    assert (t.prompt_tokens, t.new_tokens, t.depth, t.shape) == (5, 4, 2, "5+4@2")
    assert t.requests == g["requests"] > 0
    assert t.ttft_mean_ms == g["ttft_ms"]["mean"] and t.ttft_p99_ms == g["ttft_ms"]["p99"]
    assert t.tpot_mean_ms == g["tpot_ms"]["mean"] and t.tpot_p99_ms == g["tpot_ms"]["p99"]
    assert t.decode_tokens_per_sec == g["decode_tokens_per_sec"] > 0
    assert t.prefill_tokens_per_sec == g["prefill_tokens_per_sec"] > 0
    assert t.output_tokens_per_sec == g["output_tokens_per_sec"] > 0
    plain = load_document(str(documents().run_plain))
    assert isinstance(plain, RunDoc) and plain.generation is None


def test_markdown_has_a_token_table(gen: Path) -> None:
    text = report(str(documents().run_plain), str(gen))
    tables = [
        [[c.strip() for c in line[1:-1].split("|")] for line in block.splitlines()]
        for block in re.findall(r"(?m)(?:^\|.*\|\n?)+", text)
    ]
    # The plain run recorded its counters: their table comes after the tokens'.
    assert len(tables) == 3 and "**Token generation**" in text
    runs, tokens, _ = tables
    assert len(runs) == 2 + 2 and runs[3][2] == "generate"
    assert len(tokens) == 2 + 1  # only the generate run
    row = dict(zip(tokens[0], tokens[2]))
    g = written(gen)
    assert row["request P+N@D"] == "5+4@2" and row["requests"] == str(g["requests"])
    assert float(row["TTFT mean ms"]) == pytest.approx(g["ttft_ms"]["mean"], rel=1e-3)
    assert float(row["TPOT p99 ms"]) == pytest.approx(g["tpot_ms"]["p99"], rel=1e-3)
    assert float(row["decode tok/s"]) == pytest.approx(g["decode_tokens_per_sec"], rel=1e-3)
    assert "Token generation" not in report(str(documents().run_plain))


def test_csv_adds_the_token_columns(gen: Path) -> None:
    rows = list(csv.reader(io.StringIO(report(str(gen), str(documents().run_plain), "-f", "csv"))))
    assert tuple(rows[0]) == (*COLUMNS, *GENERATION_COLUMNS, *HARDWARE_COLUMNS)
    assert all(len(r) == len(rows[0]) for r in rows[1:])
    mine, plain = (dict(zip(rows[0], r)) for r in rows[1:])
    g = written(gen)
    assert (mine["Prompt Tokens"], mine["New Tokens"], mine["Depth"]) == ("5", "4", "2")
    assert float(mine["TTFT Mean"]) == g["ttft_ms"]["mean"]  # repr: exact
    assert float(mine["TPOT p99"]) == g["tpot_ms"]["p99"]
    assert float(mine["Decode Tokens per second"]) == g["decode_tokens_per_sec"]
    assert float(mine["Output Tokens per second"]) == g["output_tokens_per_sec"]
    assert all(plain[c] == "" for c in GENERATION_COLUMNS)
    alone = next(csv.reader(io.StringIO(report(str(documents().run_plain), "-f", "csv"))))
    assert tuple(alone) == (*COLUMNS, *HARDWARE_COLUMNS)


def test_bmf_has_token_measures(gen: Path) -> None:
    data = json.loads(report(str(gen), "-f", "bmf"))
    ((name, measures),) = data.items()
    assert " generate s1 " in name and name.endswith(" p5 n4 d2")
    g = written(gen)
    assert measures["ttft_ms"] == {"value": g["ttft_ms"]["mean"]}
    assert measures["tpot_ms"] == {"value": g["tpot_ms"]["mean"]}
    assert measures["tpot_p99_ms"] == {"value": g["tpot_ms"]["p99"]}
    assert measures["decode_tokens_per_sec"] == {"value": g["decode_tokens_per_sec"]}
    assert {"throughput", "latency", "ttft_p99_ms", "prefill_tokens_per_sec",
            "output_tokens_per_sec"} <= set(measures)  # fmt: skip
    lower = json.loads(report(str(gen), "-f", "bmf", "--metric", "latency"))
    assert set(next(iter(lower.values()))) == {"latency", "ttft_ms", "ttft_p99_ms", "tpot_ms",
                                               "tpot_p99_ms"}  # fmt: skip
    higher = json.loads(report(str(gen), "-f", "bmf", "--metric", "throughput"))
    rates = {"prefill_tokens_per_sec", "decode_tokens_per_sec", "output_tokens_per_sec"}
    assert set(next(iter(higher.values()))) == {"throughput", *rates}


def test_github_has_token_entries(gen: Path) -> None:
    data = json.loads(report(str(gen), "-f", "github"))
    for item in data:
        assert {"name", "unit", "value"} <= set(item) <= {"name", "unit", "value", "range", "extra"}
        assert isinstance(item["value"], float) and math.isfinite(item["value"])
    by_suffix = {i["name"].split(" p5 n4 d2 ")[1]: i for i in data}
    g = written(gen)
    assert by_suffix["ttft mean"]["unit"] == "ms"
    assert by_suffix["ttft mean"]["value"] == g["ttft_ms"]["mean"]
    assert by_suffix["tpot p99"]["value"] == g["tpot_ms"]["p99"]
    assert by_suffix["decode tokens/s"] == {**by_suffix["decode tokens/s"], "unit": "tokens/s",
                                            "value": g["decode_tokens_per_sec"]}  # fmt: skip
    smaller = json.loads(report(str(gen), "-f", "github", "--metric", "latency"))
    assert {i["unit"] for i in smaller} == {"ms"}  # one tool: smaller is better
    bigger = json.loads(report(str(gen), "-f", "github", "--metric", "throughput"))
    assert {i["unit"] for i in bigger} == {"items/s", "tokens/s"}


def test_html_has_a_token_section(gen: Path) -> None:
    page = report(str(gen), "-f", "html")
    assert "<h3>Token generation (-s generate)</h3>" in page
    assert "<th>TTFT mean ms</th>" in page and ">5+4@2</td>" in page
    assert "Token generation" not in report(str(documents().run_plain), "-f", "html")
