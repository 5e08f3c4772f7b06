"""-e onnxruntime-genai, and -e onnxruntime -s generate, on a model onnxruntime-genai's own
builder made (tests/decoders/build_genai.py).

The tests marked ``genai`` are left out of the default run: building needs torch, transformers
5.x, onnx_ir and onnxruntime-genai, which only the CI genai job installs. ``python -m pytest -m
genai`` with ``PINBENCH_GENAI_MODEL=DIR`` runs the folder in DIR (``python
tests/decoders/build_genai.py DIR`` made it); without it the session builds one itself. The
test of the config's cache dims runs everywhere.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pinbench.model.decoder import KvShape, find_decoder, kv_shapes, with_genai_dims
from pinbench.model.input_spec import InputSpec

from subproc import run_pinbench, run_pinbench_json

ENV = "PINBENCH_GENAI_MODEL"
BUILDER = Path(__file__).resolve().parents[1] / "decoders" / "build_genai.py"
FAST = ["-t", "0.3", "-w", "0.05"]
TIMEOUT = 180.0  # a genai model loads slower than an ONNX file


def run_genai(*args: str) -> subprocess.CompletedProcess[str]:
    return run_pinbench(*args, timeout=TIMEOUT)


def run_genai_json(tmp_path: Path, *args: str) -> dict[str, Any]:
    return run_pinbench_json(tmp_path, *args, timeout=TIMEOUT)


GENERATE = ["-s", "generate", "--prompt-tokens", "6", "--new-tokens", "5", *FAST]


def test_genai_config_fixes_the_free_cache_dims(tmp_path: Path) -> None:
    # As the builder declares its cache: the head size a symbol, its value in genai_config.json.
    specs = [
        InputSpec("input_ids", 7, None, ("batch_size", "sequence_length")),
        InputSpec("attention_mask", 7, None, ("batch_size", "total_sequence_length")),
        InputSpec("past_key_values.0.key", 1, None, ("batch_size", 2, "past", "kv_cache_dim")),
    ]
    decoder = find_decoder(specs, ["logits", "present.0.key"])
    assert decoder is not None
    assert with_genai_dims(decoder, tmp_path) == decoder  # no config: left as it was
    with pytest.raises(Exception, match="leaves kv_cache_dim free"):
        decoder.check_cache_dims()
    config = {"model": {"decoder": {"head_size": 16, "num_key_value_heads": 2}}}
    (tmp_path / "genai_config.json").write_text(json.dumps(config))
    fixed = with_genai_dims(decoder, tmp_path)
    fixed.check_cache_dims()
    assert fixed.caches[0].shape == ("batch_size", 2, "past", 16)
    shapes = kv_shapes(fixed, specs, KvShape(10, 1, "-seq_len"), 1)
    assert shapes["past_key_values.0.key"] == [1, 2, 9, 16]
    assert shapes["attention_mask"] == [1, 10]


@pytest.fixture(scope="module")
def genai_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get(ENV)
    if given:
        path = Path(given)
        if not (path / "genai_config.json").is_file():
            pytest.fail(f"{ENV}={given} holds no genai_config.json: run {BUILDER.name} into it")
        return path
    needed = ("torch", "transformers", "onnx_ir", "onnxruntime_genai")
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if missing:
        # A fail, not a skip: the CI job installs them, so their absence there is a broken job.
        pytest.fail(
            f"{ENV} is unset and {', '.join(missing)} not installed: install torch==2.13.0, "
            f"transformers 5.x, onnx_ir and pinbench[genai], or point {ENV} at a folder "
            f"{BUILDER.name} wrote"
        )
    out = tmp_path_factory.mktemp("genai")
    # In a child process: the builder warns, and this session turns warnings into errors.
    r = subprocess.run(
        [sys.executable, str(BUILDER), str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert r.returncode == 0, r.stderr[-4000:]
    return out


@pytest.mark.genai
def test_genai_generate_reports_tokens(tmp_path: Path, genai_model: Path) -> None:
    data = run_genai_json(tmp_path, str(genai_model), "-e", "onnxruntime-genai", *GENERATE)
    p = data["pinbench"]
    g = p["generation"]
    # From genai's own sequence: each call holds the tokens fed (and the one it picked).
    assert g["cache_lengths_checked"] == [6, 7, 8, 9, 10]
    assert g["calls_per_request"] == 5
    assert g["requests"] >= 1
    assert p["result"]["iterations"] == g["requests"] * 5
    assert g["ttft_ms"]["count"] == g["requests"]
    assert g["tpot_ms"]["count"] == g["requests"] * 4
    for key in ("prefill_tokens_per_sec", "decode_tokens_per_sec", "output_tokens_per_sec"):
        assert g[key] > 0
    engine = p["config"]["engine"]
    assert engine["name"] == "onnxruntime-genai"
    options = engine["options"]
    session = options["config_overlay"]["model"]["decoder"]["session_options"]
    assert session["intra_op_num_threads"] == options["intra_op_num_threads"] >= 1
    assert options["search"] == {"max_length": 11, "min_length": 11}  # 6 prompt + 5 new
    assert p["kv_cache"]["cache"] == "internal (onnxruntime-genai)"


@pytest.mark.genai
def test_genai_console_and_request_shapes(tmp_path: Path, genai_model: Path) -> None:
    r = run_genai(str(genai_model), "-e", "onnxruntime-genai", *GENERATE)
    assert r.returncode == 0, r.stderr
    for label in ("Generation Requests:", "Time To First Token (ms):",
                  "Time Per Output Token (ms):", "Tokens/sec:"):  # fmt: skip
        assert label in r.stdout
    assert "KV cache is external" not in r.stderr
    # Depth (kept across requests by rewinding), decode only, fixed tokens, a batch of 2.
    cases = [
        (["--depth", "3"], [9, 10, 11, 12, 13]),
        (["--prompt-tokens", "0"], [1, 2, 3, 4, 5]),
        (["--tokens", "fixed"], [6, 7, 8, 9, 10]),
        (["-b", "2"], [6, 7, 8, 9, 10]),
    ]
    for extra, lengths in cases:
        data = run_genai_json(
            tmp_path, str(genai_model), "-e", "onnxruntime-genai", *GENERATE, *extra
        )
        assert data["pinbench"]["generation"]["cache_lengths_checked"] == lengths, extra


@pytest.mark.genai
@pytest.mark.parametrize("scenario", ["sync", "async", "elastic", "server"])
def test_genai_single_call_scenarios_are_usage_errors(genai_model: Path, scenario: str) -> None:
    qps = ["--qps", "10"] if scenario == "server" else []
    r = run_genai(str(genai_model), "-e", "onnxruntime-genai", "-s", scenario, *qps, *FAST)
    assert r.returncode == 2, r.stderr
    assert "-e onnxruntime-genai runs -s generate only" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.genai
def test_genai_needs_its_config(tmp_path: Path, genai_model: Path) -> None:
    r = run_genai(str(genai_model / "model.onnx"), "-e", "onnxruntime-genai", *GENERATE)
    assert r.returncode == 0, r.stderr  # the file's folder holds the config
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "model.onnx").symlink_to(genai_model / "model.onnx")
    (lone / "model.onnx.data").symlink_to(genai_model / "model.onnx.data")
    r = run_genai(str(lone), "-e", "onnxruntime-genai", *GENERATE)
    # Without the config neither pinbench's decoder nor genai knows the head size.
    assert r.returncode == 2, r.stderr
    assert "no genai_config.json" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.mark.genai
def test_onnxruntime_runs_the_builders_model(tmp_path: Path, genai_model: Path) -> None:
    # The same model.onnx call by call: the head size from genai_config.json, GroupQueryAttention
    # with past and present bound to separate buffers (its presents checked to grow by a token).
    data = run_genai_json(tmp_path, str(genai_model), "-e", "onnxruntime", *GENERATE)
    g = data["pinbench"]["generation"]
    assert g["cache_lengths_checked"] == [6, 7, 8, 9, 10]
    assert g["decode_tokens_per_sec"] > 0
    assert data["pinbench"]["kv_cache"]["cache"] == "external"
    # And one forward pass at a fixed shape, as in deepsparse.benchmark's KV-cache runs.
    data = run_genai_json(
        tmp_path, str(genai_model), "-seq_len", "16", "-input_ids_len", "1", *FAST
    )
    assert data["pinbench"]["kv_cache"]["past_len"] == 15
