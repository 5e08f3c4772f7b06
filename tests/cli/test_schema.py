"""The documents' schema: each document's writer and reader over one record, on real runs.

Write -> read -> write gives the same dict for a run, a server run, a run of ``-s generate``, an
A/B run and a sweep; what is read back is the record the run made (the same figures, the same
class for A/B and sweeps); the version written is 4 and the readers map what the keys meant in
the versions before it (the fixtures of schema 1, 2 and the A/B's schema 1).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from decoder_factory import make_kv_decoder

import pinbench
from pinbench.report.csvfile import csv_text
from pinbench.result.ab_record import AbResult
from pinbench.result.schema import load_document, read_document
from pinbench.result.schema.ab import read_ab, write_ab
from pinbench.result.schema.generation import read_generation, write_generation
from pinbench.result.schema.run import RunDoc, read_run, write_run
from pinbench.result.schema.sweep import read_sweep, write_sweep
from pinbench.result.schema.version import (
    RUN_SCHEMA,
    instances_counted,
    qps_achieved_over,
)
from pinbench.result.sweep_record import Sweep

from conftest import FIXTURES
from onnx_factory import make_conv_model

RESULTS = FIXTURES / "results"
SHORT = {"time": 0.2, "warmup_time": 0.05}


def as_json(d: dict[str, Any]) -> dict[str, Any]:
    """``d`` through a JSON file's text, as a reader gets it."""
    back: dict[str, Any] = json.loads(json.dumps(d, allow_nan=False))
    return back


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_conv_model(tmp_path_factory.mktemp("schema") / "conv")


@pytest.fixture(scope="module")
def run(model: Path) -> pinbench.Result:
    return pinbench.benchmark(str(model), num_streams=2, **SHORT)


def test_a_run_round_trips_and_reads_back_its_figures(run: pinbench.Result) -> None:
    written = as_json(write_run(run))
    doc = read_run(written)
    assert write_run(doc) == written == as_json(write_run(run))
    assert doc.schema == written["pinbench"]["schema_version"] == RUN_SCHEMA == 4
    assert (doc.items_per_sec, doc.iterations, doc.num_streams) == (
        run.items_per_sec,
        run.iterations,
        2,
    )
    assert (doc.median_ms, doc.mean_ms, doc.std_ms) == (
        run.latency.median,
        run.latency.mean,
        run.latency.std,
    )
    assert doc.valid is run.validity.valid and doc.generation is None
    assert doc.engine_instances == run.config.engine_instances and doc.instances_counted == "plan"
    assert doc.qps_achieved is None and doc.qps_achieved_over is None  # not a server run


def test_a_server_run_reads_its_rate_over_the_window(model: Path) -> None:
    r = pinbench.benchmark(str(model), scenario="server", qps=200, num_streams=1, **SHORT)
    assert r.server is not None
    written = as_json(write_run(r))
    doc = read_run(written)
    assert write_run(doc) == written
    assert doc.qps_achieved == r.server.qps_achieved and doc.qps_achieved_over == "window"


def test_a_generate_run_round_trips_its_token_figures(tmp_path: Path) -> None:
    decoder = make_kv_decoder(tmp_path, convention="optimum")
    r = pinbench.benchmark(str(decoder), scenario="generate", prompt_tokens=3, new_tokens=3,
                           **SHORT)  # fmt: skip
    assert r.generation is not None
    block = as_json(write_generation(r.generation))
    g = read_generation(block)
    assert g is not None and as_json(write_generation(g)) == block
    assert g == dataclasses.replace(r.generation)  # the record the run made, field for field
    doc = read_run(as_json(write_run(r)))
    assert doc.generation == g and doc.generation.shape == "3+3"


def test_an_ab_run_round_trips_as_the_record_it_ran(model: Path, tmp_path: Path) -> None:
    a = pinbench.RunSettings.from_kwargs(str(model), num_streams=1, **SHORT)
    b = dataclasses.replace(a, layout=dataclasses.replace(a.layout, num_streams=2))
    ab = pinbench.ab(a, b, rounds=2, export_path=str(tmp_path / "ab.json"))
    written = as_json(write_ab(ab))
    back = read_ab(written)
    assert isinstance(back, AbResult) and as_json(write_ab(back)) == written
    assert back.comparison == ab.comparison
    assert [r.items_per_sec for r in back.b.runs] == [r.items_per_sec for r in ab.b.runs]
    assert (back.a.flags, back.order, back.model) == (ab.a.flags, ab.order, ab.model)
    assert as_json(json.loads((tmp_path / "ab.json").read_text())) == written


def test_a_sweep_round_trips_and_its_csv_needs_no_detour(model: Path) -> None:
    sweep = pinbench.run_sweep(str(model), streams=[1], batch_sizes=[1, 2], **SHORT)
    written = as_json(write_sweep(sweep))
    back = read_sweep(written)
    assert isinstance(back, Sweep) and as_json(write_sweep(back)) == written
    assert [p.items_per_sec for p in back.points] == [p.items_per_sec for p in sweep.points]
    assert back.models == sweep.models and back.frontier == sweep.frontier
    assert all(isinstance(p.result, RunDoc) for p in back.points)
    # the CSV of the sweep as run is the CSV of the sweep read back (what the detour gave)
    assert csv_text([sweep]) == csv_text([back])
    assert csv_text([sweep], sweep.models[0].points[:1]).count("\n") == 2


def test_the_readers_accept_every_earlier_version() -> None:
    old = load_document(str(RESULTS / "schema1.json"))
    assert isinstance(old, RunDoc) and old.schema == 1 and old.instances_counted == "stream"
    for name in ("sync", "async", "auto", "server"):
        doc = load_document(str(RESULTS / "before_layers" / f"{name}.json"))
        assert isinstance(doc, RunDoc) and doc.schema == 2 and doc.instances_counted == "stream"
    server = load_document(str(RESULTS / "before_layers" / "server.json"))
    assert isinstance(server, RunDoc) and server.qps_achieved_over == "span"
    assert server.qps_achieved is not None and server.qps_achieved > 0
    ab = load_document(str(RESULTS / "ab.json"))
    assert isinstance(ab, AbResult) and len(ab.a.runs) == 2


def test_a_schema_3_run_reads_with_the_meanings_it_was_written_with() -> None:
    """``schema3_server.json``: a server run written by the last version of schema 3 (after
    both changes), the model's path written as ``<site-packages>/...``."""
    written = json.loads((RESULTS / "schema3_server.json").read_text())
    doc = load_document(str(RESULTS / "schema3_server.json"))
    assert isinstance(doc, RunDoc) and doc.schema == 3 and write_run(doc) == written
    server, engine = written["pinbench"]["server"], written["pinbench"]["config"]["engine"]
    assert doc.qps_achieved == server["qps_achieved"] and doc.qps_achieved_over == "window"
    assert doc.engine_instances == engine["instances"] == 1 and doc.instances_counted == "plan"


def test_schema_3_means_what_the_keys_beside_it_say(run: pinbench.Result) -> None:
    """Schema 3 changed what two keys count without a version change: a reader tells the
    meanings apart by the keys that came with the change."""
    section = as_json(write_run(run))["pinbench"]
    late = {**section, "schema_version": 3, "server": {"qps_achieved_reliable": True}}
    assert instances_counted(late) == "plan" and qps_achieved_over(late) == "window"
    config = {k: v for k, v in section["config"].items() if k != "instances"}
    early = {**section, "schema_version": 3, "config": config, "server": {"qps_achieved": 1}}
    assert instances_counted(early) == "stream" and qps_achieved_over(early) == "span"
    assert instances_counted(section) == "plan" and qps_achieved_over(section) == "window"


def test_a_document_of_no_known_kind_is_one_line() -> None:
    with pytest.raises(pinbench.UsageError, match="not a pinbench run, sweep or A/B JSON"):
        read_document({"kind": "something else"})
