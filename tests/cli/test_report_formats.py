"""pinbench report: every format through the real command, parsed back: Markdown tables of the
right shape, CSV with deepsparse.benchmark_sweep's columns, Bencher's BMF and
github-action-benchmark's schemas, and an HTML page that needs nothing outside itself."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pinbench.cli.report import main as report_main
from pinbench.report.csvfile import HARDWARE_COLUMNS, ORIGINAL_COLUMNS
from pinbench.result.ab_record import AbResult
from pinbench.result.schema import load_document
from pinbench.result.schema.run import RunDoc
from pinbench.result.sweep_record import Sweep

from report_docs import Docs, documents


@pytest.fixture(scope="module")
def docs() -> Docs:
    return documents()


def report(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", "report", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if check:
        assert r.returncode == 0, r.stderr
    return r


def all_files(d: Docs) -> list[str]:
    return [str(d.run), str(d.run_plain), str(d.sweep), str(d.ab), str(d.schema1)]


def test_the_loader_reads_every_kind(docs: Docs) -> None:
    run = load_document(str(docs.run))
    assert isinstance(run, RunDoc) and run.samples is not None and run.samples.is_file()
    assert run.items_per_sec > 0 and run.items_per_sec_ci is not None and run.median_ci
    assert isinstance(load_document(str(docs.run_plain)), RunDoc)
    sweep = load_document(str(docs.sweep))
    assert isinstance(sweep, Sweep) and [p.batch_size for p in sweep.points] == [1, 2]
    assert all(r is not None for r in sweep.runs) and sweep.models[0].best is not None
    ab = load_document(str(docs.ab))
    assert isinstance(ab, AbResult) and len(ab.a.runs) == len(ab.b.runs) == 2
    assert ab.comparison.significant is True and ab.order == ("a", "b", "b", "a")
    old = load_document(str(docs.schema1))
    assert isinstance(old, RunDoc) and old.valid is None and old.median_ci is None


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Every table: runs of lines starting with '|', split into cells."""
    tables, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            assert line.endswith("|"), line
            current.append([c.strip() for c in re.split(r"(?<!\\)\|", line[1:-1])])
        elif current:
            tables.append(current)
            current = []
    return tables


def test_markdown_tables_have_their_shape(docs: Docs) -> None:
    text = report(*all_files(docs)).stdout
    tables = markdown_tables(text)
    # the two runs, the sweep, the A/B (twice), the schema-1 run: each group its own table
    for t in tables:
        assert len({len(row) for row in t}) == 1, t  # every row as wide as the header
        assert all(re.fullmatch(r"-{3}:?|:?-{3}", c) for c in t[1]), t[1]
    runs = tables[0]
    assert runs[0][:3] == ["model", "engine", "scenario"] and len(runs) == 2 + 2
    assert runs[3][0].endswith("model.onnx") and runs[3][3] == "1"  # -nstreams 1
    sweep = next(t for t in tables if t[0][:2] == ["engine", "cores"])
    assert len(sweep) == 2 + 2 and {r[3] for r in sweep[2:]} == {"1", "2"}
    assert "B / A items_per_sec = 1.225" in text and "significant at alpha 0.05" in text
    assert markdown_tables(report(str(docs.schema1)).stdout)[0][2][-1] == "no verdict (schema 1)"


def test_csv_has_the_original_columns(docs: Docs) -> None:
    rows = list(csv.reader(io.StringIO(report(*all_files(docs), "-f", "csv").stdout)))
    assert tuple(rows[0][:12]) == ORIGINAL_COLUMNS
    # The runs recorded their counters: those columns come last.
    assert rows[0][12:] == ["Iterations", "Verdict", "Error", "Side", *HARDWARE_COLUMNS]
    body = rows[1:]
    assert len(body) == 2 + 2 + 4 + 1  # runs, sweep points, A/B runs, schema 1
    assert all(len(r) == len(rows[0]) for r in body)
    for r in body:
        assert float(r[6]) > 0 and float(r[8]) > 0  # Items per second, Median Latency
    assert [r[15] for r in body if r[15]] == ["A", "A", "B", "B"]
    cpu_ms = rows[0].index("CPU ms per inference")
    # Counted on the runs and the sweep's points; the A/B and schema-1 fixtures predate them.
    assert all(float(r[cpu_ms]) > 0 for r in body[:4])
    assert all(r[cpu_ms] == "" for r in body[4:])


def _bounded(measure: dict[str, float]) -> None:
    assert set(measure) <= {"value", "lower_value", "upper_value"} and "value" in measure
    assert all(isinstance(v, float) and math.isfinite(v) for v in measure.values())
    if "lower_value" in measure:
        assert measure["lower_value"] <= measure["value"] <= measure["upper_value"]


def test_bmf_follows_bencher_schema(docs: Docs) -> None:
    data = json.loads(report(*all_files(docs), "-f", "bmf").stdout)
    assert isinstance(data, dict) and data
    for name, measures in data.items():
        assert isinstance(name, str) and name and isinstance(measures, dict) and measures
        for slug, measure in measures.items():
            assert slug in ("throughput", "latency", "ratio")
            _bounded(measure)
    run = load_document(str(docs.run))
    assert isinstance(run, RunDoc) and run.items_per_sec_ci and run.median_ci
    mine = next(v for k, v in data.items() if k.startswith("conv onnxruntime async")
                and v["throughput"]["value"] == run.items_per_sec)  # fmt: skip
    assert mine["throughput"]["lower_value"] == run.items_per_sec_ci[0]
    assert mine["latency"]["value"] == pytest.approx(run.median_ms * 1e6)  # ns, as Bencher's
    assert mine["latency"]["upper_value"] == pytest.approx(run.median_ci[1] * 1e6)
    assert data["squeezenet B/A"] == {"ratio": {"value": 1.225, "lower_value": 1.19,
                                                "upper_value": 1.26}}  # fmt: skip
    assert len(data) == len(set(data))  # names made unique
    only = json.loads(report(str(docs.run), "-f", "bmf", "--metric", "latency").stdout)
    assert [set(v) for v in only.values()] == [{"latency"}]


def test_github_follows_the_custom_benchmark_schema(docs: Docs) -> None:
    data = json.loads(report(*all_files(docs), "-f", "github").stdout)
    assert isinstance(data, list) and data
    for item in data:
        assert {"name", "unit", "value"} <= set(item) <= {"name", "unit", "value", "range", "extra"}
        assert isinstance(item["value"], float) and math.isfinite(item["value"])
        assert item["unit"] in ("items/s", "ms", "x")
        assert all(isinstance(item[k], str) for k in ("name", "unit", *item.keys() - {"value"}))
        if "range" in item:
            assert re.fullmatch(r"± [0-9.e+-]+", item["range"]), item["range"]
    names = [i["name"] for i in data]
    assert len(names) == len(set(names))
    bigger = json.loads(report(*all_files(docs), "-f", "github", "--metric", "throughput").stdout)
    assert {i["unit"] for i in bigger} == {"items/s", "x"}  # bigger is better, one tool


class Resources(HTMLParser):
    """Every attribute that could make a browser fetch something, and every script."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "action", "poster") or (
                value and "url(" in value
            ):
                self.refs.append(f"{tag} {name}={value}")


def test_html_page_is_self_contained(docs: Docs, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    report(*all_files(docs), "-f", "html", "-o", str(out))
    page = out.read_text()
    parser = Resources()
    parser.feed(page)
    assert parser.refs == [] and "script" not in parser.tags and "link" not in parser.tags
    assert not re.search(r"@import|url\(|https?://(?!www\.w3\.org/2000/svg\")", page)
    assert page.count("<svg") >= 3 + 1 + 1 + 1 + 1  # the run's panels, ..., sweep, A/B
    assert "From the raw samples in" in page  # the run with samples
    assert "No raw samples" in page  # the one without
    assert "Environment" in page and "cpu_model" in page
    assert "<strong>significant</strong>" in page  # the A/B's verdict
    assert re.search(r'<span class="(in)?valid">(in)?valid</span>', page)  # the runs' verdicts


def test_html_says_which_samples_file_is_missing(docs: Docs, tmp_path: Path) -> None:
    moved = tmp_path / "run.json"
    moved.write_text(docs.run.read_text())  # the samples stayed behind
    r = report(str(moved), "-f", "html")
    assert "were not found beside it" in r.stdout and "run.npz" in r.stdout


def test_bad_files_are_one_line_usage_errors(
    docs: Docs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = report(str(tmp_path / "missing.json"), check=False)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == f"pinbench report: error: {tmp_path / 'missing.json'}: no such file\n"
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    before = docs.run.read_text()
    for args, needle in (
        ([str(other)], "not a pinbench run, sweep or A/B JSON"),
        ([str(docs.run), "-f", "pdf"], "invalid choice"),
        ([str(docs.run), "-f", "csv", "-o", str(docs.run)], "that is a result being read"),
        ([str(docs.run), "-o", str(tmp_path / "no" / "such" / "dir.md")], "does not exist"),
    ):
        try:
            code = report_main(args)
        except SystemExit as e:  # argparse's own errors
            code = int(e.code or 0)
        out, err = capsys.readouterr()
        assert code == 2 and out == "", (args, err)
        assert err.count("\n") == 1 and needle in err, (args, err)
    assert docs.run.read_text() == before


def test_help_of_report_and_sweep_imports_nothing_heavy() -> None:
    code = (
        "import sys, pinbench.cli.report as r, pinbench.cli.sweep as s\n"
        "for c in (r, s):\n"
        "    try:\n        c.build_parser().parse_args(['--help'])\n"
        "    except SystemExit:\n        pass\n"
        "heavy = ('numpy', 'onnx', 'onnxruntime', 'pinbench._core')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       check=False)  # fmt: skip
    assert r.stdout.strip().splitlines()[-1] == "[]", r.stdout + r.stderr
