"""KV-cache decoders in the single-call scenarios: the shapes deepsparse.benchmark 1.8.0 gives
them (``-seq_len``, ``-input_ids_len``), valid values, the record, and DeepSparse's internal cache.

The CLI runs for real (ONNX Runtime, in a subprocess) on decoders built by ``decoder_factory``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from decoder_factory import CONVENTIONS, make_kv_decoder

import pinbench
from pinbench.base.errors import UsageError
from pinbench.model.decoder import DEFAULT_SEQ_LEN, KvRequest, decoder_values, find_decoder
from pinbench.model.input_spec import InputSpec
from pinbench.model.inputs import generate_inputs
from pinbench.model.load import load_model

from subproc import run_pinbench, run_python

FAST = ["-t", "0.2", "-w", "0.1"]
TESTS = Path(__file__).resolve().parents[1]
HAS_DEEPSPARSE = importlib.util.find_spec("deepsparse") is not None


def run_json(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "r.json"
    r = run_pinbench(*args, *FAST, "-x", str(out))
    assert r.returncode == 0, r.stderr
    data: dict[str, Any] = json.loads(out.read_text())
    return data["pinbench"]  # type: ignore[no-any-return]


def cache_names(convention: str, layers: int = 2) -> list[str]:
    if convention in ("optimum", "deepsparse"):
        return [f"past_key_values.{n}.{kv}" for n in range(layers) for kv in ("key", "value")]
    return [f"past_{kv}_{n}" for n in range(layers) for kv in ("key", "value")]


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_seq_len_and_input_ids_len_fix_one_forward_pass(tmp_path: Path, convention: str) -> None:
    model = make_kv_decoder(tmp_path, convention=convention)
    before = hashlib.sha256(model.read_bytes()).hexdigest()
    pb = run_json(tmp_path, str(model), "-s", "sync", "-seq_len", "16", "-input_ids_len", "4")
    positions = "position_ids" if convention == "optimum" else "positions"
    expected = {"input_ids": [1, 4], "attention_mask": [1, 16], positions: [1, 4]}
    expected.update({name: [1, 2, 12, 8] for name in cache_names(convention)})
    assert pb["config"]["input_shapes"] == expected
    assert pb["kv_cache"] == {
        "convention": "past_key_value" if convention == "past_key_value" else "past_key_values",
        "cache_inputs": 4,
        "cache": "external",
        "seq_len": 16,
        "input_ids_len": 4,
        "past_len": 12,
        "seq_len_source": "-seq_len",
        "cache_bytes_per_stream": 4 * 2 * 12 * 8 * 4,  # 4 caches of [1, 2, 12, 8] float32
    }
    # The shapes went to pinbench's temporary copy, never into the user's file.
    assert hashlib.sha256(model.read_bytes()).hexdigest() == before


def test_default_is_a_decode_step_at_the_default_context(tmp_path: Path) -> None:
    model = make_kv_decoder(tmp_path)
    r = pinbench.benchmark(str(model), scenario="sync", time=0.2, warmup_time=0.1)
    kv = r.config.kv_cache
    assert kv is not None
    assert (kv.seq_len, kv.input_ids_len, kv.past_len) == (DEFAULT_SEQ_LEN, 1, DEFAULT_SEQ_LEN - 1)
    assert kv.seq_len_source == "default"
    shapes = r.config.resolved_input_shapes
    assert shapes["input_ids"] == [1, 1] and shapes["attention_mask"] == [1, DEFAULT_SEQ_LEN]
    assert shapes["past_key_values.0.key"] == [1, 2, DEFAULT_SEQ_LEN - 1, 8]


def test_api_takes_the_flags_as_keywords(tmp_path: Path) -> None:
    model = make_kv_decoder(tmp_path, convention="past_key_value")
    r = pinbench.benchmark(
        str(model), scenario="sync", time=0.2, warmup_time=0.1,
        sequence_length=16, input_ids_length=16,
    )  # fmt: skip
    kv = r.config.kv_cache
    assert kv is not None and (kv.seq_len, kv.past_len) == (16, 0)  # a prefill, empty cache
    assert r.config.resolved_input_shapes["past_key_0"] == [1, 2, 0, 8]


def test_a_fixed_attention_mask_gives_the_sequence_length(tmp_path: Path) -> None:
    model = make_kv_decoder(tmp_path, fixed={"sequence_length": 1, "past_sequence_length": 63})
    pb = run_json(tmp_path, str(model), "-s", "sync")
    assert pb["kv_cache"]["seq_len"] == 64
    assert pb["kv_cache"]["seq_len_source"] == "the model's attention_mask"
    assert pb["config"]["input_shapes"]["attention_mask"] == [1, 64]


def test_batch_sets_dim_0_of_every_input(tmp_path: Path) -> None:
    model = make_kv_decoder(tmp_path)
    pb = run_json(tmp_path, str(model), "-s", "sync", "-b", "2", "-seq_len", "8")
    assert {shape[0] for shape in pb["config"]["input_shapes"].values()} == {2}
    assert pb["config"]["input_shapes"]["past_key_values.1.value"] == [2, 2, 7, 8]
    assert pb["kv_cache"]["cache_bytes_per_stream"] == 4 * 2 * 2 * 7 * 8 * 4


def test_disable_overrides_leaves_the_shapes_to_the_model_and_shapes(tmp_path: Path) -> None:
    model = make_kv_decoder(tmp_path, layers=1)
    given = {
        "input_ids": [1, 2],
        "attention_mask": [1, 10],
        "position_ids": [1, 2],
        "past_key_values.0.key": [1, 2, 8, 8],
        "past_key_values.0.value": [1, 2, 8, 8],
    }
    text = ",".join(f"{name}:[{','.join(map(str, dims))}]" for name, dims in given.items())
    pb = run_json(
        tmp_path, str(model), "-s", "sync", "--disable-kv-cache-overrides", "-shapes", text,
        "-seq_len", "32",
    )  # fmt: skip
    assert pb["config"]["input_shapes"] == given
    assert pb["kv_cache"]["seq_len"] is None and pb["kv_cache"]["past_len"] is None


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-input_ids_len", "40", "-seq_len", "32"], "-input_ids_len 40 is longer than -seq_len"),
        (["-input_ids_len", "0"], "-input_ids_len"),
        (["-input_ids_len", "200"], "sequence length 128 (default)"),  # known only at the model
    ],
)
def test_impossible_lengths_are_one_line_usage_errors(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    model = make_kv_decoder(tmp_path)
    r = run_pinbench(str(model), *args, *FAST)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr and "model " not in r.stderr  # nothing was loaded


def test_async_with_two_streams(tmp_path: Path) -> None:
    model = make_kv_decoder(tmp_path)
    pb = run_json(tmp_path, str(model), "-s", "async", "-nstreams", "2", "-seq_len", "16")
    assert len(pb["streams"]) == 2 and all(s["iterations"] > 0 for s in pb["streams"])
    assert pb["kv_cache"]["past_len"] == 15


def test_kv_flags_for_a_model_that_is_no_decoder_warn(tmp_path: Path) -> None:
    from onnx_factory import make_transformer_model

    model = make_transformer_model(tmp_path)
    r = run_pinbench(str(model), "-s", "sync", *FAST, "--num-kv-cache-tokens", "4")
    assert r.returncode == 0, r.stderr
    assert "apply to KV-cache decoders" in r.stderr and "this model has none" in r.stderr
    r = run_pinbench(
        str(model), "-s", "sync", *FAST, "-seq_len", "32"
    )  # free sequence dims: no warning
    assert r.returncode == 0, r.stderr
    assert "KV-cache" not in r.stderr


def test_requested_flags_are_recorded(tmp_path: Path) -> None:
    model = make_kv_decoder(tmp_path)
    pb = run_json(tmp_path, str(model), "-s", "sync", "--no-internal-kv-cache", "-seq_len", "8")
    assert pb["requested"]["kv_cache"]["internal_kv_cache"] is False
    assert pb["kv_cache"]["cache"] == "external"


# -- values: positions and masks a decoder accepts ------------------------------------------


def test_positions_count_on_from_the_past_and_the_causal_mask_is_causal(tmp_path: Path) -> None:
    path = make_kv_decoder(tmp_path, causal_mask=True)
    with load_model(str(path), batch_size=2, kv_cache=KvRequest(10, 3)) as model:
        assert model.decoder is not None and model.decoder.causal_masks == ("causal_mask",)
        arrays = generate_inputs(model)
    assert arrays["position_ids"].tolist() == [[7, 8, 9]] * 2
    assert arrays["causal_mask"].shape == (2, 1, 3, 10)
    mask = arrays["causal_mask"][0, 0]
    # New token i (at position 7 + i) sees the 7 past tokens and the new ones up to itself.
    assert mask.tolist() == [[1] * (8 + i) + [0] * (2 - i) for i in range(3)]
    assert np.all(arrays["attention_mask"] == 1)
    assert arrays["input_ids"].max() < 64  # below the embedding's rows


def test_causal_mask_model_runs(tmp_path: Path) -> None:
    model = make_kv_decoder(tmp_path, causal_mask=True)
    pb = run_json(tmp_path, str(model), "-s", "sync", "-seq_len", "16", "-input_ids_len", "4")
    assert pb["config"]["input_shapes"]["causal_mask"] == [1, 1, 4, 16]


def test_decoder_values_of_a_merged_decoder() -> None:
    d = find_decoder(
        [spec("input_ids", 7, ("b", "s")), spec("positions", 7, ("b", "s")),
         spec("past_key_values.0.key", 1, ("b", 2, "p", 4)), spec("use_cache_branch", 9, (1,))],
        ["logits", "present.0.key"],
    )  # fmt: skip
    assert d is not None and d.use_cache_branch == "use_cache_branch"
    arrays = {"positions": np.zeros((1, 2), np.int64), "use_cache_branch": np.zeros(1, bool)}
    assert decoder_values(d, arrays, 5)["positions"].tolist() == [[5, 6]]
    assert decoder_values(d, arrays, 5)["use_cache_branch"].tolist() == [True]
    assert decoder_values(d, arrays, 0)["use_cache_branch"].tolist() == [False]


# -- find_decoder ----------------------------------------------------------------------------


def spec(name: str, elem_type: int, shape: tuple[Any, ...]) -> InputSpec:
    dtype = {1: np.dtype(np.float32), 7: np.dtype(np.int64), 9: np.dtype(bool)}[elem_type]
    return InputSpec(name, elem_type, dtype, shape)


def common(positions: str = "position_ids") -> list[InputSpec]:
    return [
        spec("input_ids", 7, ("batch", "seq")),
        spec("attention_mask", 7, ("batch", "total")),
        spec(positions, 7, ("batch", "seq")),
    ]


def test_find_decoder_optimum() -> None:
    caches = [
        spec(f"past_key_values.0.{kv}", 1, ("batch", 4, "past", 16)) for kv in ("key", "value")
    ]
    d = find_decoder([*common(), *caches], ["logits", "present.0.key", "present.0.value"])
    assert d is not None and d.convention == "past_key_values"
    assert [(c.past, c.present, c.batch_axis, c.seq_axis) for c in d.caches] == [
        ("past_key_values.0.key", "present.0.key", 0, 2),
        ("past_key_values.0.value", "present.0.value", 0, 2),
    ]
    assert (d.input_ids, d.attention_mask, d.positions, d.logits) == (
        "input_ids", "attention_mask", "position_ids", "logits",
    )  # fmt: skip
    assert d.others == ()
    assert d.cache_bytes(batch=2, length=10) == 2 * (2 * 4 * 10 * 16 * 4)


def test_find_decoder_past_key_value() -> None:
    caches = [spec(f"past_{kv}_0", 1, ("batch", 4, "past", 16)) for kv in ("key", "value")]
    d = find_decoder(
        [*common("positions"), *caches], ["logits", "present_key_0", "present_value_0"]
    )
    assert d is not None and d.convention == "past_key_value" and d.positions == "positions"
    assert [c.present for c in d.caches] == ["present_key_0", "present_value_0"]


def test_find_decoder_stacked_past_of_rank_5() -> None:
    d = find_decoder([*common(), spec("past.0", 1, (2, "batch", 4, "past", 16))], ["present.0"])
    assert d is not None and d.convention == "past"
    (cache,) = d.caches
    assert (cache.present, cache.batch_axis, cache.seq_axis) == ("present.0", 1, 3)
    assert d.logits is None  # every output feeds the cache
    assert d.cache_bytes(batch=1, length=3) == 2 * 4 * 3 * 16 * 4


def test_find_decoder_none_without_a_cache() -> None:
    assert find_decoder(common(), ["logits"]) is None


def test_an_input_of_no_known_role_is_an_error_naming_it(tmp_path: Path) -> None:
    from pinbench.model.decoder import KvShape, kv_shapes

    inputs = [*common(), spec("past_key_values.0.key", 1, ("batch", 4, "past", 16)),
              spec("token_type_ids", 7, ("batch", "seq"))]  # fmt: skip
    d = find_decoder(inputs, ["logits"])
    assert d is not None and d.others == ("token_type_ids",)
    with pytest.raises(UsageError, match=r"'token_type_ids'.*no known role"):
        kv_shapes(d, inputs, KvShape(8, 1, "-seq_len"), batch=1)


# -- DeepSparse's internal cache -------------------------------------------------------------


class _FakeEngine:
    """Stands in for ``deepsparse.Engine``: records how it was built and what ran."""

    built: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, **kwargs: Any) -> None:
        kwargs["NM_BENCHMARK_KV_TOKENS"] = os.environ.get("NM_BENCHMARK_KV_TOKENS")
        _FakeEngine.built.append(kwargs)
        self.calls: list[tuple[list[np.ndarray], object]] = []
        self._eng_net = types.SimpleNamespace(execute_list_out=self._execute)
        self.scheduler, self.num_cores, self.num_streams = "single_stream", 1, 1
        self.batch_size, self.fraction_of_supported_ops = 1, 1.0
        self.cpu_avx_type, self.cpu_vnni = "avx2", False

    def _execute(self, arrays: list[np.ndarray], kv_cache: object) -> list[np.ndarray]:
        self.calls.append((arrays, kv_cache))
        return []

    def run(self, arrays: list[np.ndarray], val_inp: bool = True) -> list[np.ndarray]:
        self.calls.append((arrays, None))
        return []


def _fake_deepsparse() -> types.ModuleType:
    module = types.ModuleType("deepsparse")
    module.__version__ = "1.8.0"  # type: ignore[attr-defined]
    module.Engine = _FakeEngine  # type: ignore[attr-defined]
    module.Scheduler = {"single_stream": "single_stream"}  # type: ignore[attr-defined]
    lib = types.SimpleNamespace(kv_cache=lambda a, b: ("kv_cache", a, b))
    module.lib = types.SimpleNamespace(init_deepsparse_lib=lambda: lib)  # type: ignore[attr-defined]
    return module


def _deepsparse_engine(path: Path, options: Any) -> Any:
    from pinbench.engines.deepsparse import DeepSparseEngine

    model = load_model(str(path), batch_size=1, kv_cache=KvRequest(16, 1))
    engine = DeepSparseEngine(model, options)
    layout = types.SimpleNamespace(scenario="sync", num_streams=1, pinning="none",
                                   shared_instance=True)  # fmt: skip
    engine.prepare(layout, batch_size=1, input_shapes={})
    return engine, model


@pytest.mark.parametrize("internal", [True, False])
def test_deepsparse_internal_cache_is_built_and_run_as_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, internal: bool
) -> None:
    from pinbench.engines.base import EngineOptions

    monkeypatch.setitem(sys.modules, "deepsparse", _fake_deepsparse())
    monkeypatch.setattr(os, "environ", dict(os.environ))  # the engine sets variables
    os.environ.pop("NM_BENCHMARK_KV_TOKENS", None)
    _FakeEngine.built.clear()
    path = make_kv_decoder(tmp_path)
    options = EngineOptions(internal_kv_cache=internal, kv_cache_tokens=3)
    engine, model = _deepsparse_engine(path, options)
    with model:
        instance = engine.create_instance(1, spinning=False)
        (built,) = _FakeEngine.built
        inputs = generate_inputs(model)
        step = engine.bind(instance, inputs)
        step()
        arrays, kv_cache = instance.calls[-1]
        shapes = [list(a.shape) for a in arrays]
        kv = engine.options()["kv_cache"]
    if internal:
        # Set before the engine is built; a bool per output: logits, then 4 present.*.
        assert built["NM_BENCHMARK_KV_TOKENS"] == "3"
        assert built["cached_outputs"] == [False, True, True, True, True]
        assert kv_cache == ("kv_cache", 0, 0)
        assert shapes[3:] == [[0, 2, 15, 8]] * 4  # the cache inputs with batch 0
        assert kv == "internal (3 tokens)"
    else:
        assert built["NM_BENCHMARK_KV_TOKENS"] is None and built["cached_outputs"] is None
        assert kv_cache is None and shapes[3:] == [[1, 2, 15, 8]] * 4
        assert kv == "external"
    assert shapes[:3] == [[1, 1], [1, 16], [1, 1]]


def test_prepare_asks_deepsparse_for_its_internal_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pinbench.engines import engine_class
    from pinbench.engines.deepsparse import DeepSparseEngine
    from pinbench.run import prepare as prepare_module
    from pinbench.run.prepare import prepare
    from pinbench.settings import RunSettings

    # The engine class without the package: prepare() builds no engine.
    monkeypatch.setattr(
        prepare_module,
        "engine_class",
        lambda name: DeepSparseEngine if name == "deepsparse" else engine_class(name),
    )
    model = make_kv_decoder(tmp_path)
    for kwargs, internal in [({}, True), ({"internal_kv_cache": False}, False)]:
        s = RunSettings.from_kwargs(
            str(model), engine="deepsparse", num_kv_cache_tokens=5, **kwargs
        )
        with prepare(s.validate()) as prepared:
            assert prepared.engine_options.internal_kv_cache is internal
            assert prepared.engine_options.kv_cache_tokens == 5
    with prepare(RunSettings.from_kwargs(str(model)).validate()) as prepared:
        assert prepared.engine_options.internal_kv_cache is False  # onnxruntime: external


@pytest.mark.deepsparse
@pytest.mark.skipif(not HAS_DEEPSPARSE, reason="deepsparse is not installed (the DeepSparse job)")
def test_real_deepsparse_builds_the_decoder_with_its_internal_cache(tmp_path: Path) -> None:
    # Only the build: DeepSparse 1.8.0 compiles this onnx.helper decoder (all of it, fraction
    # 1.0) and then dies of a segmentation fault in its first inference, internal cache or
    # external alike, so the run itself cannot be tested here.
    path = make_kv_decoder(tmp_path)
    r = run_python(
        f"""
        import os, sys, types
        sys.path[:0] = [{str(TESTS)!r}, {str(TESTS / "engines")!r}]
        from pathlib import Path
        from pinbench.engines.base import EngineOptions
        from test_decoders import _deepsparse_engine
        engine, model = _deepsparse_engine(
            Path({str(path)!r}), EngineOptions(internal_kv_cache=True, kv_cache_tokens=2)
        )
        engine.create_instance(2, spinning=False)
        print(os.environ["NM_BENCHMARK_KV_TOKENS"], engine.options()["kv_cache"],
              engine.fraction_of_supported_ops())
        """,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "2 internal (2 tokens) 1.0"


@pytest.mark.deepsparse
@pytest.mark.skipif(not HAS_DEEPSPARSE, reason="deepsparse is not installed (the DeepSparse job)")
def test_real_deepsparse_runs_a_free_decoder_with_the_external_cache(tmp_path: Path) -> None:
    # Free dims: DeepSparse hands the graph to its ONNX Runtime fallback, which runs it.
    model = make_kv_decoder(tmp_path)
    pb = run_json(
        tmp_path, str(model), "-e", "deepsparse", "-s", "sync", "--no-internal-kv-cache",
        "--disable-kv-cache-overrides",
    )  # fmt: skip
    assert pb["kv_cache"]["cache"] == "external"
    assert pb["streams"][0]["iterations"] > 0
