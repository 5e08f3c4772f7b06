"""Resolving, loading and overriding models; the user's file is only ever read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from pinbench.base.errors import UsageError
from pinbench.model.inputs import generate_inputs
from pinbench.model.load import load_model, suggest_shapes
from pinbench.model.resolve import BUILTIN_MODELS, builtin_model_path, resolve_model_path
from pinbench.model.spec import LoadedModel

import onnx_factory
from subproc import run_pinbench

if TYPE_CHECKING:
    from collections.abc import Iterator

PYTHON_DIR = Path(__file__).resolve().parents[2] / "python"


def run_ort(model: LoadedModel, **kwargs: Any) -> list[Any]:
    """Run ``model.path`` once on ONNX Runtime's CPU provider with generated inputs."""
    session = ort.InferenceSession(str(model.path), providers=["CPUExecutionProvider"])
    return list(session.run(None, generate_inputs(model, **kwargs)))


def snapshot(*paths: Path) -> list[tuple[bytes, int]]:
    """Bytes and mtime of each file, to prove a file was not written."""
    return [(p.read_bytes(), p.stat().st_mtime_ns) for p in paths]


def assert_one_line(exc: pytest.ExceptionInfo[Exception], *parts: str) -> None:
    message = str(exc.value)
    assert "\n" not in message, message
    for part in parts:
        assert part in message, message


@pytest.fixture
def squeezenet(tmp_path: Path) -> Path:
    """A copy of the built-in SqueezeNet, in a folder the test owns."""
    path = builtin_model_path("squeezenet")
    assert path is not None
    return Path(shutil.copy(path, tmp_path / "squeezenet.onnx"))


@pytest.fixture
def no_temp_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the temporary copies at a folder of their own, and check none is left behind."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr("tempfile.tempdir", None)
    yield temp
    assert list(temp.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# Resolving


@pytest.mark.parametrize("name", sorted(BUILTIN_MODELS))
def test_builtin_names_resolve_to_files(name: str) -> None:
    path = resolve_model_path(name)
    assert path.is_file()
    assert path.name == BUILTIN_MODELS[name]


@pytest.mark.parametrize(
    ("alias", "file"),
    [
        ("light_squeezenet", "light_squeezenet.onnx"),
        ("SqueezeNet", "light_squeezenet.onnx"),
        ("light_bvlc_alexnet", "light_bvlc_alexnet.onnx"),
        ("bvlc_alexnet", "light_bvlc_alexnet.onnx"),
        ("light_resnet50.onnx", "light_resnet50.onnx"),
    ],
)
def test_builtin_aliases(alias: str, file: str) -> None:
    assert resolve_model_path(alias).name == file


def test_an_existing_file_wins_over_a_builtin_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    onnx_factory.make_conv_model(tmp_path, name="squeezenet")
    monkeypatch.chdir(tmp_path)
    assert resolve_model_path("squeezenet") == Path("squeezenet")


def test_folder_with_model_onnx(tmp_path: Path) -> None:
    onnx_factory.make_conv_model(tmp_path)
    assert resolve_model_path(str(tmp_path)) == tmp_path / "model.onnx"
    with load_model(str(tmp_path)) as model:
        assert model.source_path == tmp_path / "model.onnx"
        assert model.orig_path == str(tmp_path)


def test_folder_without_model_onnx_names_its_onnx_files(tmp_path: Path) -> None:
    onnx_factory.make_conv_model(tmp_path, name="other.onnx")
    with pytest.raises(UsageError) as info:
        resolve_model_path(str(tmp_path))
    assert_one_line(info, "has no model.onnx", "other.onnx")


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        load_model(str(tmp_path))
    assert_one_line(info, "has no model.onnx")


def test_missing_file(tmp_path: Path) -> None:
    spec = str(tmp_path / "x.onnx")
    with pytest.raises(UsageError) as info:
        load_model(spec)
    assert_one_line(info, f"model file {spec!r} not found")


def test_unknown_name_lists_the_builtins() -> None:
    with pytest.raises(UsageError) as info:
        resolve_model_path("no_such_model")
    assert_one_line(info, "not found", "squeezenet", "resnet50")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"hello, this is not a model\n", id="text"),
        pytest.param(bytes(range(256)) * 8, id="garbage"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\x08\x07", id="ir-version-only"),
    ],
)
def test_not_onnx(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(UsageError) as info:
        load_model(str(path))
    assert_one_line(info, "is not an ONNX model")


def test_truncated_protobuf(tmp_path: Path, squeezenet: Path) -> None:
    data = squeezenet.read_bytes()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UsageError) as info:
        load_model(str(path))
    assert_one_line(info, "is not an ONNX model")


def test_importing_models_does_not_import_onnx_or_onnxruntime() -> None:
    code = (
        "import sys, pinbench.model.load\n"
        "print([m for m in ('onnx', 'onnxruntime') if m in sys.modules])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------
# Loading


def test_initializers_listed_as_inputs_are_not_inputs() -> None:
    with load_model("squeezenet") as model:
        graph = onnx.load(str(model.source_path), load_external_data=False).graph
        assert len(graph.input) == 53  # IR 3 lists the 52 weights as inputs
        assert [spec.name for spec in model.inputs] == ["data_0"]
        spec = model.inputs[0]
        assert spec.shape == (1, 3, 224, 224)
        assert spec.dtype == np.dtype("float32")
        assert spec.elem_type == onnx.TensorProto.FLOAT
        assert model.outputs == ["softmaxout_1"]
        assert model.opset == 9
        assert model.ir_version == 3


def test_no_override_means_no_copy(squeezenet: Path) -> None:
    with load_model(str(squeezenet)) as model:
        assert model.path == model.source_path == squeezenet
        assert model.temp_dir is None
        assert model.batch_size is None
        assert model.input_shapes is None
        assert not model.overridden
    with load_model(str(squeezenet), input_shapes="") as model:
        assert model.path == squeezenet


def test_input_specs_keep_free_dims(tmp_path: Path) -> None:
    with load_model(str(onnx_factory.make_dynamic_model(tmp_path))) as model:
        assert [s.shape for s in model.inputs] == [
            ("batch", "seq", 4),
            ("batch", "seq", 4),
            (None, 5),
        ]
        assert model.describe_inputs() == (
            "x: float32[batch,seq,4], y: float32[batch,seq,4], z: float32[?,5]"
        )


def test_unsupported_dtype_has_no_numpy_dtype(tmp_path: Path) -> None:
    inputs = [("b", onnx.TensorProto.BFLOAT16, [2])]
    with load_model(str(onnx_factory.make_identity_model(tmp_path, inputs))) as model:
        assert model.inputs[0].dtype is None
        assert model.describe_inputs() == "b: bfloat16[2]"


def test_embedding_bounds_found_through_cast(tmp_path: Path) -> None:
    path = onnx_factory.make_transformer_model(
        tmp_path, vocab_size=17, position_ids=True, max_positions=40, cast_ids=True
    )
    with load_model(str(path)) as model:
        assert model.index_bounds == {"input_ids": 17, "token_type_ids": 2, "position_ids": 40}


# ---------------------------------------------------------------------------------------------
# Overrides


def test_batch_override_runs_and_leaves_the_file_alone(
    squeezenet: Path, no_temp_left: Path
) -> None:
    before = snapshot(squeezenet)
    with load_model(str(squeezenet), batch_size=3) as model:
        assert model.path != squeezenet
        assert model.path.parent.parent == no_temp_left
        assert model.inputs[0].shape == (3, 3, 224, 224)
        assert model.original_inputs[0].shape == (1, 3, 224, 224)
        assert model.batch_size == 3
        assert model.input_shapes is None
        (probabilities,) = run_ort(model)
        assert probabilities.shape[0] == 3
        written = onnx.load(str(model.path), load_external_data=False)
        assert written.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
        assert len(written.graph.value_info) == 0
    assert not model.path.exists()
    assert snapshot(squeezenet) == before


def test_file_stays_identical_when_the_run_fails(tmp_path: Path) -> None:
    path = onnx_factory.make_conv_model(tmp_path, external_data=True)
    before = snapshot(path, path.with_suffix(".onnx.data"))
    # Two channels contradict the fixed 3 of the model: allowed here, refused by the engine.
    model = load_model(str(path), input_shapes="[1,2,16,16]")
    with model, pytest.raises(Exception):  # noqa: B017 - whatever the engine raises
        run_ort(model)
    assert snapshot(path, path.with_suffix(".onnx.data")) == before


def test_shapes_override_on_free_dims(tmp_path: Path) -> None:
    path = onnx_factory.make_conv_model(tmp_path, batch="N", size=None)
    before = snapshot(path)
    with load_model(str(path), input_shapes="[2,3,32,48]") as model:
        assert model.inputs[0].shape == (2, 3, 32, 48)
        assert model.input_shapes == [[2, 3, 32, 48]]
        assert model.shape_overrides == {"image": (2, 3, 32, 48)}
        (logits,) = run_ort(model)
        assert logits.shape == (2, 4)
    assert snapshot(path) == before


def test_single_shape_applies_to_every_input(tmp_path: Path) -> None:
    path = onnx_factory.make_transformer_model(tmp_path)
    with load_model(str(path), input_shapes="[2,16]") as model:
        assert [s.shape for s in model.inputs] == [(2, 16)] * 3
        hidden, _ = run_ort(model)
        assert hidden.shape == (2, 16, 8)


def test_named_shape_pins_shared_dims_in_other_inputs(tmp_path: Path) -> None:
    path = onnx_factory.make_transformer_model(tmp_path)
    with load_model(str(path), batch_size=2, input_shapes="input_ids:[2,16]") as model:
        assert [s.shape for s in model.inputs] == [(2, 16)] * 3
        assert model.input_shapes == [[2, 16]] * 3
        hidden, _ = run_ort(model)
        assert hidden.shape == (2, 16, 8)


def test_shapes_win_over_batch_for_the_inputs_they_name(tmp_path: Path) -> None:
    path = onnx_factory.make_dynamic_model(tmp_path)
    with load_model(str(path), batch_size=3, input_shapes="z:[5,5]") as model:
        shapes = {s.name: s.shape for s in model.inputs}
        assert shapes == {"x": (3, "seq", 4), "y": (3, "seq", 4), "z": (5, 5)}
        assert model.input_shapes == [[3, -1, 4], [3, -1, 4], [5, 5]]
        total, z = run_ort(model, seq_len=7)
        assert total.shape == (3, 7, 4)
        assert z.shape == (5, 5)
    with load_model(str(path), batch_size=3, input_shapes="x:[3,7,4]") as model:
        shapes = {s.name: s.shape for s in model.inputs}
        assert shapes == {"x": (3, 7, 4), "y": (3, 7, 4), "z": (3, 5)}


def test_external_data_model_loads_and_overrides(tmp_path: Path, no_temp_left: Path) -> None:
    path = onnx_factory.make_conv_model(tmp_path / "m", size=None, external_data=True)
    data = path.with_name("model.onnx.data")
    assert data.is_file()
    before = snapshot(path, data)
    with load_model(str(path)) as model:
        assert model.path == path
        (logits,) = run_ort(model)
        assert logits.shape == (1, 4)
    with load_model(str(path), batch_size=2, input_shapes="[2,3,20,20]") as model:
        assert model.path.parent != path.parent
        assert (model.path.parent / "model.onnx.data").is_file()
        (logits,) = run_ort(model)
        assert logits.shape == (2, 4)
    assert snapshot(path, data) == before


def test_close_removes_the_copy_and_is_idempotent(squeezenet: Path) -> None:
    model = load_model(str(squeezenet), batch_size=2)
    assert model.temp_dir is not None
    assert model.temp_dir.is_dir()
    model.close()
    model.close()
    assert not model.temp_dir.exists()
    assert squeezenet.is_file()


@pytest.mark.parametrize("batch_size", [0, -1])
def test_bad_batch_size(squeezenet: Path, batch_size: int) -> None:
    with pytest.raises(UsageError) as info:
        load_model(str(squeezenet), batch_size=batch_size)
    assert_one_line(info, f"-b {batch_size}", "positive")


def test_wrong_rank_suggests_a_shape(squeezenet: Path) -> None:
    with pytest.raises(UsageError) as info:
        load_model(str(squeezenet), input_shapes="[1,3]")
    assert str(info.value) == (
        "-shapes \"[1,3]\": input 'data_0' has rank 4, got 2 dims; expected e.g. [1,3,224,224]"
    )


def test_wrong_count_suggests_one_per_input(tmp_path: Path) -> None:
    path = onnx_factory.make_dynamic_model(tmp_path)
    with pytest.raises(UsageError) as info:
        load_model(str(path), input_shapes="[1,2,4],[1,2,4]")
    assert_one_line(info, "has 3 inputs (x, y, z), got 2 shapes", "[1,128,4],[1,128,4],[1,5]")


def test_single_shape_of_the_wrong_rank_for_some_input(tmp_path: Path) -> None:
    path = onnx_factory.make_dynamic_model(tmp_path)
    with pytest.raises(UsageError) as info:
        load_model(str(path), input_shapes="[1,2,4]")
    assert_one_line(info, "input 'z' has rank 2, got 3 dims", "a single shape applies")


def test_unknown_input_name(squeezenet: Path) -> None:
    with pytest.raises(UsageError) as info:
        load_model(str(squeezenet), input_shapes="data:[1,3,224,224]")
    assert_one_line(info, "no input 'data'", "data_0")


def test_bad_shapes_syntax_is_a_usage_error(squeezenet: Path) -> None:
    with pytest.raises(UsageError) as info:
        load_model(str(squeezenet), input_shapes="1,3,224,224")
    assert_one_line(info, "accepted forms")


def test_contradicting_a_fixed_dim_is_allowed_and_the_original_is_suggested(
    squeezenet: Path,
) -> None:
    with load_model(str(squeezenet), input_shapes="[2,3,112,112]") as model:
        assert model.inputs[0].shape == (2, 3, 112, 112)
        assert suggest_shapes(model) == '-shapes "[1,3,224,224]"'


def test_suggest_shapes_fills_free_dims(tmp_path: Path) -> None:
    with load_model(str(onnx_factory.make_dynamic_model(tmp_path))) as model:
        assert suggest_shapes(model) == '-shapes "[1,128,4],[1,128,4],[1,5]"'


# ---------------------------------------------------------------------------------------------
# Optional sources: Hugging Face hub (offline, its real cache) and SparseZoo


def resolve_in_child(spec: str, hf_home: Path, **kwargs: Any) -> dict[str, Any]:
    """Load ``spec`` in a fresh interpreter with ``HF_HOME`` set and the hub offline (the hub
    reads both when it is imported), run it on ONNX Runtime, and report as JSON."""
    code = textwrap.dedent(
        f"""
        import json, sys
        import onnxruntime as ort
        from pinbench.base.errors import PinbenchError, UsageError
        from pinbench.model.inputs import generate_inputs
        from pinbench.model.load import load_model
        try:
            with load_model({spec!r}, **{kwargs!r}) as model:
                session = ort.InferenceSession(str(model.path), providers=["CPUExecutionProvider"])
                outputs = session.run(None, generate_inputs(model))
                print(json.dumps({{"source": str(model.source_path),
                                   "shapes": [list(o.shape) for o in outputs]}}))
        except PinbenchError as exc:
            kind = "UsageError" if isinstance(exc, UsageError) else "RunError"
            print(json.dumps({{"error": kind, "message": str(exc)}}))
        """
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(PYTHON_DIR),
        "HF_HOME": str(hf_home),
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    env.pop("HF_HUB_CACHE", None)
    env.pop("HUGGINGFACE_HUB_CACHE", None)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    reply: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return reply


@pytest.fixture
def hf_home(tmp_path: Path) -> Path:
    """A Hugging Face cache holding three repositories, laid out as huggingface_hub does."""
    pytest.importorskip("huggingface_hub")
    home = tmp_path / "hf_home"
    plain = onnx_factory.make_conv_model(tmp_path / "plain")
    onnx_factory.populate_hf_cache(home, "org/plain", {"model.onnx": plain})
    external = onnx_factory.make_conv_model(tmp_path / "ext", size=None, external_data=True)
    onnx_factory.populate_hf_cache(
        home,
        "org/external",
        {"onnx/encoder.onnx": external, "onnx/model.onnx.data": external.with_suffix(".onnx.data")},
    )
    onnx_factory.populate_hf_cache(home, "org/readme", {"README.md": b"no model here"})
    onnx_factory.populate_hf_cache(
        home, "org/several", {"a.onnx": plain, "b/c.onnx": plain, "README.md": b"hi"}
    )
    return home


def test_hf_default_file_from_the_offline_cache(hf_home: Path) -> None:
    reply = resolve_in_child("hf:org/plain", hf_home)
    assert reply["shapes"] == [[1, 4]]
    assert "models--org--plain/snapshots/" in reply["source"]


def test_hf_only_onnx_file_with_external_data_offline(hf_home: Path) -> None:
    reply = resolve_in_child("hf:org/external", hf_home)
    assert reply["source"].endswith("onnx/encoder.onnx")
    assert reply["shapes"] == [[1, 4]]
    reply = resolve_in_child("hf:org/external/onnx/encoder.onnx", hf_home, batch_size=3)
    assert reply["shapes"] == [[3, 4]]


def test_hf_several_onnx_files_asks_for_one(hf_home: Path) -> None:
    reply = resolve_in_child("hf:org/several", hf_home)
    assert reply["error"] == "UsageError"
    assert "several .onnx files (a.onnx, b/c.onnx)" in reply["message"]
    assert "hf:org/several/a.onnx" in reply["message"]


@pytest.mark.parametrize("spec", ["hf:org/missing", "hf:org/readme", "hf:org/plain/x.onnx"])
def test_hf_not_cached_offline_is_one_line_usage_error(hf_home: Path, spec: str) -> None:
    reply = resolve_in_child(spec, hf_home)
    assert reply["error"] == "UsageError"  # a missing model, as a missing file is
    message = reply["message"]
    assert message == (
        f"model {spec!r}: not in the Hugging Face cache, and HF_HUB_OFFLINE is set; fetch it "
        "once online, or set HF_HOME to a cache that holds it"
    )


def hf_cli(hf_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI with the hub's endpoint pointed at a closed local port: unreachable, as
    offline, but without HF_HUB_OFFLINE (huggingface_hub would retry for about 24 s)."""
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_ENDPOINT": "http://127.0.0.1:9"}
    for name in ("HF_HUB_OFFLINE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        env.pop(name, None)
    return run_pinbench(*args, env=env)


def test_hf_unreachable_hub_fails_at_once_as_a_usage_error(hf_home: Path) -> None:
    r = hf_cli(hf_home, "hf:org/missing", "-t", "0.2", "-w", "0")
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr  # no retries, no log lines of huggingface_hub
    assert lines[0].startswith(
        "pinbench: error: model 'hf:org/missing': not in the Hugging Face cache, and "
        "http://127.0.0.1:9 does not answer ("
    )
    assert lines[0].endswith("); fetch it once online, or set HF_HOME to a cache that holds it")


def test_hf_unreachable_hub_still_runs_a_cached_model(hf_home: Path) -> None:
    r = hf_cli(hf_home, "hf:org/plain", "-t", "0.2", "-w", "0", "-s", "sync")
    assert r.returncode == 0, r.stderr
    assert "Retrying" not in r.stderr and "Iterations: " in r.stdout


def test_hf_without_huggingface_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(UsageError) as info:
        resolve_model_path("hf:org/repo")
    assert_one_line(info, "pip install 'pinbench[hf]'")


@pytest.mark.parametrize("spec", ["hf:", "hf:/", "hf:org/../x"])
def test_hf_malformed_spec(spec: str) -> None:
    with pytest.raises(UsageError) as info:
        resolve_model_path(spec)
    assert_one_line(info, "hf:<org>/<repo>")


ZOO_STUB = "zoo:cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/base-none"

# sparsezoo 1.8.1 needs numpy < 2, so it cannot be installed beside this suite's numpy: this
# stand-in records the environment it is imported in and fails as sparsezoo does offline (a
# requests ConnectionError from its API call). The real package is tested by the test below,
# in the DeepSparse job.
SPARSEZOO_STAND_IN = """
import os
SEEN = dict(os.environ)
class ConnectionError(OSError):
    pass
class Model:
    def __init__(self, stub):
        raise ConnectionError("HTTPSConnectionPool(host='api.neuralmagic.com', port=443): Max "
                              "retries exceeded with url: /v2/graphql (Caused by "
                              "NameResolutionError(...))")
"""


def test_zoo_imports_sparsezoo_with_analytics_off_and_fails_offline_in_one_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "sparsezoo").mkdir()
    (tmp_path / "sparsezoo" / "__init__.py").write_text(SPARSEZOO_STAND_IN)
    code = f"""
import sys
from pinbench.base.errors import UsageError
from pinbench.model.load import load_model
try:
    load_model({ZOO_STUB!r})
except UsageError as e:
    print(e)
seen = sys.modules["sparsezoo"].SEEN
print(seen.get("NM_DISABLE_ANALYTICS"), seen.get("NM_VERSION_CHECK"))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(PYTHON_DIR)])}
    env.pop("NM_DISABLE_ANALYTICS", None)
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert r.returncode == 0, r.stderr
    message, flags = r.stdout.strip().splitlines()
    assert flags == "1 false"  # set before sparsezoo was imported
    assert message.startswith(f"model {ZOO_STUB!r}: SparseZoo cannot reach its server")
    assert len(message) <= 200 - len("pinbench: error: ")


@pytest.mark.deepsparse
def test_zoo_offline_with_the_real_sparsezoo_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("sparsezoo", reason="sparsezoo 1.8.1 installs with Python <= 3.11 only")
    # The API server at a closed local port: offline, as sparsezoo itself sees it.
    env = {**os.environ, "SPARSEZOO_API_URL": "http://127.0.0.1:9"}
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", ZOO_STUB, "-t", "0.2"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 200, r.stderr
    assert "SparseZoo cannot reach its server" in lines[0]


def test_zoo_without_sparsezoo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sparsezoo", None)
    with pytest.raises(UsageError) as info:
        load_model("zoo:cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/base-none")
    assert_one_line(info, "SparseZoo stub", "pip install 'pinbench[zoo]'")
