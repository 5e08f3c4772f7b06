"""Real decoders, exported by Optimum from tiny random models (tests/decoders/export_tiny.py).

Marked ``decoders`` and left out of the default run: exporting needs torch, transformers and
optimum-onnx, which only the CI decoder job installs. ``python -m pytest -m decoders`` with
``PINBENCH_DECODER_MODELS=DIR`` reads the exports from DIR (``python
tests/decoders/export_tiny.py DIR`` made them); without it the session exports them itself.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from decoders.export_tiny import ATTENTION, MANIFEST, MODELS
from subproc import run_pinbench, run_pinbench_json

pytestmark = pytest.mark.decoders

ENV = "PINBENCH_DECODER_MODELS"
EXPORTER = Path(__file__).resolve().parents[1] / "decoders" / "export_tiny.py"
FAST = ["-t", "0.2", "-w", "0.1"]


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get(ENV)
    if given:
        path = Path(given)
        if not (path / MANIFEST).is_file():
            pytest.fail(f"{ENV}={given} holds no {MANIFEST}: run {EXPORTER.name} into it first")
        return path
    missing = [
        m for m in ("torch", "transformers", "optimum") if importlib.util.find_spec(m) is None
    ]
    if missing:
        # A fail, not a skip: CI installs the exporters, so their absence there is a broken job.
        pytest.fail(
            f"{ENV} is unset and {', '.join(missing)} not installed: install torch==2.13.0,"
            f" optimum-onnx, or point {ENV} at a folder {EXPORTER.name} wrote"
        )
    out = tmp_path_factory.mktemp("decoders")
    # In a child process: tracing warns, and this session turns warnings into errors.
    r = subprocess.run(
        [sys.executable, str(EXPORTER), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert r.returncode == 0, r.stderr[-4000:]
    return out


def model_path(models_dir: Path, name: str) -> Path:
    return models_dir / name / "model.onnx"


def cache_names(layers: int, prefix: str) -> list[str]:
    return [f"{prefix}.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]


def expected_io(name: str) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Inputs and outputs as Optimum names and shapes them for text-generation-with-past."""
    a = ATTENTION[name]
    past = ["batch_size", a["kv_heads"], "past_sequence_length", a["head_dim"]]
    total = "past_sequence_length + sequence_length"
    present = ["batch_size", a["kv_heads"], total, a["head_dim"]]
    inputs: dict[str, list[Any]] = {
        "input_ids": ["batch_size", "sequence_length"],
        "attention_mask": ["batch_size", total],
        "position_ids": ["batch_size", "sequence_length"],
        **dict.fromkeys(cache_names(a["layers"], "past_key_values"), past),
    }
    outputs: dict[str, list[Any]] = {
        "logits": ["batch_size", "sequence_length", MODELS[name][1]["vocab_size"]],
        **dict.fromkeys(cache_names(a["layers"], "present"), present),
    }
    return inputs, outputs


def declared(values: Any) -> dict[str, list[Any]]:
    return {
        v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in values
    }


@pytest.mark.parametrize("name", list(MODELS))
def test_export_has_the_recorded_names_and_shapes(models_dir: Path, name: str) -> None:
    model = onnx.load(str(model_path(models_dir, name)), load_external_data=False)
    inputs, outputs = expected_io(name)
    # Compared as dicts: GPT-2's export lists the cache before attention_mask, Llama's after.
    assert declared(model.graph.input) == inputs
    assert declared(model.graph.output) == outputs
    # One graph with the cache always on: no merged decoder, so no use_cache_branch input.
    record = json.loads((models_dir / MANIFEST).read_text())[name]
    assert record["onnx_files"] == ["model.onnx"]
    assert {v["name"]: v["dims"] for v in record["inputs"]} == inputs


@pytest.mark.parametrize("name", list(MODELS))
def test_generation_loop_by_hand(models_dir: Path, name: str) -> None:
    # The loop pinbench's generate scenario times, written out with plain onnxruntime: a prefill
    # of 8 tokens on an empty cache, then 4 decode steps fed their own present.* as past.
    a = ATTENTION[name]
    sess = ort.InferenceSession(
        str(model_path(models_dir, name)), providers=["CPUExecutionProvider"]
    )
    outs = [o.name for o in sess.get_outputs()]
    pasts = cache_names(a["layers"], "past_key_values")
    empty = {p: np.zeros((1, a["kv_heads"], 0, a["head_dim"]), np.float32) for p in pasts}
    tokens = np.random.default_rng(0).integers(4, 200, size=(1, 12), dtype=np.int64)

    def call(ids: np.ndarray, past: dict[str, np.ndarray], n_past: int) -> dict[str, np.ndarray]:
        n = ids.shape[1]
        feed = {
            "input_ids": ids,
            "attention_mask": np.ones((1, n_past + n), np.int64),
            "position_ids": np.arange(n_past, n_past + n, dtype=np.int64)[None],
            **past,
        }
        got = dict(zip(outs, sess.run(None, feed)))
        for p in cache_names(a["layers"], "present"):
            assert got[p].shape == (1, a["kv_heads"], n_past + n, a["head_dim"]), p
        return got

    got = call(tokens[:, :8], empty, 0)
    for pos in range(8, 12):
        past = {p: got[p.replace("past_key_values.", "present.")] for p in pasts}
        got = call(tokens[:, pos : pos + 1], past, pos)
        assert got["logits"].shape == (1, 1, MODELS[name][1]["vocab_size"])
    # The cache is real: the last decode step's logits are those of one pass over all 12 tokens.
    whole = call(tokens, empty, 0)
    np.testing.assert_allclose(got["logits"][0, -1], whole["logits"][0, -1], atol=1e-4)


@pytest.mark.parametrize("name", list(MODELS))
def test_export_runs_under_pinbench(models_dir: Path, tmp_path: Path, name: str) -> None:
    data = run_pinbench_json(tmp_path, str(model_path(models_dir, name)), "-s", "sync", *FAST)
    assert data["benchmark_result"]["iterations"] > 0
    inputs, _ = expected_io(name)
    assert set(data["pinbench"]["config"]["input_shapes"]) == set(inputs)


@pytest.mark.parametrize("name", list(MODELS))
def test_decode_step_at_a_context(models_dir: Path, tmp_path: Path, name: str) -> None:
    # deepsparse.benchmark's KV-cache shapes: one new token against a cache of seq_len - 1.
    a = ATTENTION[name]
    data = run_pinbench_json(
        tmp_path,
        str(model_path(models_dir, name)),
        *("-s", "sync", "-seq_len", "32", "-input_ids_len", "1", *FAST),
    )
    shapes = data["pinbench"]["config"]["input_shapes"]
    assert shapes["input_ids"] == [1, 1]
    assert shapes["position_ids"] == [1, 1]
    assert shapes["attention_mask"] == [1, 32]
    for p in cache_names(a["layers"], "past_key_values"):
        assert shapes[p] == [1, a["kv_heads"], 31, a["head_dim"]], p
    kv = data["pinbench"]["kv_cache"]
    assert isinstance(kv["convention"], str) and kv["convention"]
    assert (kv["seq_len"], kv["input_ids_len"], kv["past_len"]) == (32, 1, 31)


def test_input_ids_longer_than_the_sequence_is_one_line(models_dir: Path) -> None:
    r = run_pinbench(
        str(model_path(models_dir, "llama")),
        *("-s", "sync", "-seq_len", "32", "-input_ids_len", "40", *FAST),
    )
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.mark.parametrize("name", list(MODELS))
def test_generate_reports_ttft_and_tpot(models_dir: Path, tmp_path: Path, name: str) -> None:
    data = run_pinbench_json(
        tmp_path,
        str(model_path(models_dir, name)),
        *("-s", "generate", "--prompt-tokens", "8", "--new-tokens", "4", "-t", "0.5", "-w", "0.1"),
    )
    g = data["pinbench"]["generation"]
    # The exporter's own graph, read back: each call's present is the past plus what it fed.
    assert g["cache_lengths_checked"] == [8, 9, 10, 11]
    assert g["requests"] >= 1 and g["ttft_ms"]["count"] == g["requests"]
    assert g["tpot_ms"]["count"] == 3 * g["requests"]
    assert g["decode_tokens_per_sec"] > 0 and g["prefill_tokens_per_sec"] > 0
    assert data["pinbench"]["kv_cache"]["convention"] == "past_key_values"
