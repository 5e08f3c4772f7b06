"""Generated inputs (seeded, valid, every dtype) and inputs read from .npz / .npy files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto

from pinbench.base.errors import UsageError
from pinbench.model import dims as dims_module
from pinbench.model.data import load_inputs
from pinbench.model.dims import DEFAULT_DIMS, plan_shapes, plan_specs, resolve_shapes
from pinbench.model.input_spec import InputSpec
from pinbench.model.inputs import generate_inputs
from pinbench.model.load import load_model
from pinbench.model.spec import LoadedModel

import onnx_factory

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy.typing as npt


def run_ort(model: LoadedModel, feeds: dict[str, npt.NDArray[Any]]) -> list[Any]:
    session = ort.InferenceSession(str(model.path), providers=["CPUExecutionProvider"])
    return list(session.run(None, feeds))


@pytest.fixture
def all_dtypes(tmp_path: Path) -> Iterator[LoadedModel]:
    with load_model(str(onnx_factory.make_all_dtypes_model(tmp_path, shape=[2, "k"]))) as m:
        yield m


@pytest.fixture
def transformer(tmp_path: Path) -> Iterator[LoadedModel]:
    path = onnx_factory.make_transformer_model(
        tmp_path, vocab_size=30, position_ids=True, max_positions=64, cast_ids=True
    )
    with load_model(str(path)) as m:
        yield m


@pytest.fixture
def dynamic(tmp_path: Path) -> Iterator[LoadedModel]:
    with load_model(str(onnx_factory.make_dynamic_model(tmp_path))) as m:
        yield m


def save_npz(path: Path, arrays: dict[str, Any]) -> None:
    """``numpy.savez`` by name (numpy's stubs type ``**kwds`` like its ``allow_pickle``)."""
    np.savez(path, **arrays)


def spec(name: str, elem_type: int, shape: tuple[Any, ...]) -> InputSpec:
    dtype = onnx_factory.ALL_DTYPES.get(elem_type)
    return InputSpec(name, elem_type, None if dtype is None else np.dtype(dtype), shape)


# ---------------------------------------------------------------------------------------------
# Generated values


def test_every_dtype_has_the_right_dtype_and_shape_and_runs(all_dtypes: LoadedModel) -> None:
    arrays = generate_inputs(all_dtypes, batch_size=2)
    assert list(arrays) == all_dtypes.input_names()
    for elem_type, numpy_name in onnx_factory.RUNNABLE_DTYPES.items():
        array = arrays[f"x_{numpy_name}"]
        assert array.dtype == np.dtype(numpy_name), elem_type
        assert array.shape == (2, 128)
        assert array.flags.c_contiguous
    strings = arrays["x_object"]
    assert all(isinstance(v, str) for v in strings.ravel())
    for name in ("x_float16", "x_float32", "x_float64"):
        assert arrays[name].min() >= 0.0
        assert arrays[name].max() < 1.0
    assert arrays["x_bool"].all()
    outputs = run_ort(all_dtypes, arrays)
    assert len(outputs) == len(onnx_factory.RUNNABLE_DTYPES)


def test_other_integers_are_small_and_non_negative(all_dtypes: LoadedModel) -> None:
    arrays = generate_inputs(all_dtypes, seed=3)
    for name in ("x_int8", "x_int16", "x_int32", "x_int64", "x_uint8", "x_uint64"):
        assert set(np.unique(arrays[name]).tolist()) == {0, 1}, name


def test_scalar_inputs(tmp_path: Path) -> None:
    inputs: list[tuple[str, int, onnx_factory.Shape]] = [
        ("f", TensorProto.FLOAT, []),
        ("i", TensorProto.INT64, []),
    ]
    with load_model(str(onnx_factory.make_identity_model(tmp_path, inputs))) as model:
        arrays = generate_inputs(model)
        assert {k: (v.shape, v.dtype.name) for k, v in arrays.items()} == {
            "f": ((), "float32"),
            "i": ((), "int64"),
        }
        run_ort(model, arrays)


def test_unsupported_dtype_names_the_input_and_suggests_data(tmp_path: Path) -> None:
    path = onnx_factory.make_identity_model(
        tmp_path, [("ok", TensorProto.FLOAT, [2]), ("half", TensorProto.BFLOAT16, [2])]
    )
    with load_model(str(path)) as model, pytest.raises(UsageError) as info:
        generate_inputs(model)
    message = str(info.value)
    assert "input 'half'" in message
    assert "bfloat16" in message
    assert "--data" in message
    assert "\n" not in message


def test_same_seed_same_values_other_seed_other_values(transformer: LoadedModel) -> None:
    first = generate_inputs(transformer, seed=7)
    again = generate_inputs(transformer, seed=7)
    other = generate_inputs(transformer, seed=8)
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])
    assert not np.array_equal(first["input_ids"], other["input_ids"])


def test_one_input_shape_does_not_move_the_others_values(dynamic: LoadedModel) -> None:
    short = generate_inputs(dynamic, seq_len=4)
    long = generate_inputs(dynamic, seq_len=9)
    np.testing.assert_array_equal(short["z"], long["z"])


def test_token_ids_stay_below_the_embedding_table(transformer: LoadedModel) -> None:
    arrays = generate_inputs(transformer, batch_size=4, seq_len=64)
    ids = arrays["input_ids"]
    assert ids.dtype == np.int64
    assert ids.min() >= 0
    assert ids.max() < 30
    assert len(np.unique(ids)) > 2  # the table's range, not the [0, 2) fallback
    np.testing.assert_array_equal(arrays["attention_mask"], np.ones((4, 64), np.int64))
    np.testing.assert_array_equal(arrays["token_type_ids"], np.zeros((4, 64), np.int64))
    np.testing.assert_array_equal(arrays["position_ids"], np.tile(np.arange(64), (4, 1)))
    hidden, pooled = run_ort(transformer, arrays)
    assert hidden.shape == (4, 64, 8)
    assert pooled.shape == (4, 8)


def test_positions_wrap_inside_their_table(transformer: LoadedModel) -> None:
    arrays = generate_inputs(transformer, seq_len=100)  # the table has 64 rows
    assert arrays["position_ids"].max() < 64
    run_ort(transformer, arrays)


@pytest.mark.parametrize("seed", range(5))
def test_small_vocabulary_always_runs(tmp_path: Path, seed: int) -> None:
    path = onnx_factory.make_transformer_model(tmp_path, vocab_size=3)
    with load_model(str(path)) as model:
        arrays = generate_inputs(model, seed=seed, seq_len=256)
        assert set(np.unique(arrays["input_ids"]).tolist()) == {0, 1, 2}
        run_ort(model, arrays)


# ---------------------------------------------------------------------------------------------
# Free dims


def test_shared_dim_names_get_one_value(dynamic: LoadedModel) -> None:
    shapes = resolve_shapes(dynamic, batch_size=3, seq_len=5)
    assert shapes == {"x": (3, 5, 4), "y": (3, 5, 4), "z": (3, 5)}
    arrays = generate_inputs(dynamic, batch_size=3, seq_len=5)
    total, _ = run_ort(dynamic, arrays)
    assert total.shape == (3, 5, 4)


def test_defaults_without_arguments(dynamic: LoadedModel) -> None:
    assert resolve_shapes(dynamic) == {"x": (1, 128, 4), "y": (1, 128, 4), "z": (1, 5)}


def test_batch_defaults_to_the_models_override(tmp_path: Path) -> None:
    path = onnx_factory.make_transformer_model(tmp_path)
    with load_model(str(path), batch_size=6) as model:
        assert generate_inputs(model)["input_ids"].shape == (6, 128)


def test_the_plan_says_what_it_chose(dynamic: LoadedModel) -> None:
    plan = plan_shapes(dynamic, seq_len=16)
    assert plan.describe() == "batch=1 (batch size), seq=16 (sequence length), z[0]=1 (batch size)"
    assert [(c.dim, c.value) for c in plan.choices] == [("batch", 1), ("seq", 16), ("z[0]", 1)]


def test_static_model_has_nothing_to_choose() -> None:
    with load_model("squeezenet") as model:
        plan = plan_shapes(model)
        assert plan.shapes == {"data_0": (1, 3, 224, 224)}
        assert plan.describe() == "no free dims"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("batch_size", 5),
        ("N", 5),
        ("bs", 5),
        ("sequence_length", 128),
        ("seqLen", 128),
        ("encoder_sequence_length", 128),
        ("num_tokens", 128),
        ("past_sequence_length", 0),
        ("past_key_values_length", 0),
        ("cache_len", 0),
        ("total_sequence_length", 128),
        ("past_sequence_length + 1", 1),
        ("past_sequence_length + sequence_length", 128),
        ("height", 224),
        ("image_width", 224),
        ("image_size", 224),
        ("num_channels", 3),
        ("anything", DEFAULT_DIMS["other"]),
        ("hidden_size", DEFAULT_DIMS["other"]),
    ],
)
def test_dim_names(name: str, expected: int) -> None:
    specs = [spec("a", TensorProto.FLOAT, (2, name))]
    assert plan_specs(specs, batch_size=5).shapes["a"] == (2, expected)


def test_seq_len_sets_sequence_and_total_dims() -> None:
    specs = [
        spec("ids", TensorProto.INT64, ("batch", "sequence_length")),
        spec("mask", TensorProto.INT64, ("batch", "past_sequence_length + sequence_length")),
        spec("past", TensorProto.FLOAT, ("batch", 2, "past_sequence_length", 4)),
        spec("total", TensorProto.FLOAT, ("batch", "total_sequence_length")),
    ]
    shapes = plan_specs(specs, batch_size=2, seq_len=9).shapes
    assert shapes == {"ids": (2, 9), "mask": (2, 9), "past": (2, 2, 0, 4), "total": (2, 9)}


def test_unnamed_dims_by_place() -> None:
    specs = [
        spec("image", TensorProto.FLOAT, (None, None, None, None)),
        spec("nhwc", TensorProto.FLOAT, (None, None, None, 3)),
        spec("ids", TensorProto.INT32, (None, None)),
        spec("features", TensorProto.FLOAT, (None, None, 80)),
    ]
    shapes = plan_specs(specs, batch_size=2, seq_len=33).shapes
    assert shapes == {
        "image": (2, 3, 224, 224),
        "nhwc": (2, 224, 224, 3),
        "ids": (2, 33),
        "features": (2, DEFAULT_DIMS["other"], 80),
    }


def test_a_name_at_dim_zero_anywhere_is_the_batch() -> None:
    specs = [
        spec("a", TensorProto.FLOAT, (4, "s0")),
        spec("b", TensorProto.FLOAT, ("s0", 3)),
    ]
    assert plan_specs(specs, batch_size=6).shapes == {"a": (4, 6), "b": (6, 3)}


def test_decoder_with_empty_cache_runs(tmp_path: Path) -> None:
    with load_model(str(onnx_factory.make_decoder_model(tmp_path))) as model:
        arrays = generate_inputs(model, seq_len=12)
        assert arrays["past_key"].shape == (1, 2, 0, 4)
        assert arrays["attention_mask"].shape == (1, 12)
        assert arrays["input_ids"].max() < 50
        (present,) = run_ort(model, arrays)
        assert present.shape == (1, 2, 12, 4)


def test_unknown_rank_needs_shapes_or_data(tmp_path: Path) -> None:
    value = onnx.helper.make_tensor_value_info("x", TensorProto.FLOAT, None)
    out = onnx.helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    model_proto = onnx_factory.make_model(
        [onnx.helper.make_node("Identity", ["x"], ["y"])], [value], [out], check=False
    )
    path = onnx_factory.save_model(model_proto, tmp_path / "model.onnx")
    with load_model(str(path)) as model:
        assert not model.inputs[0].rank_known
        with pytest.raises(UsageError) as info:
            generate_inputs(model)
        assert "input 'x' has no shape" in str(info.value)
    with load_model(str(path), input_shapes="[2,3]") as model:
        arrays = generate_inputs(model)
        assert arrays["x"].shape == (2, 3)
        (y,) = run_ort(model, arrays)
        assert y.shape == (2, 3)


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [({"seq_len": 0}, "-seq_len 0"), ({"batch_size": 0}, "-b 0"), ({"seed": -1}, "--seed -1")],
)
def test_bad_arguments(dynamic: LoadedModel, kwargs: dict[str, int], flag: str) -> None:
    with pytest.raises(UsageError, match=flag):
        generate_inputs(dynamic, **kwargs)


def test_default_table_is_documented() -> None:
    doc = dims_module.__doc__ or ""
    for key in DEFAULT_DIMS:
        assert key.replace("_", " ") in doc or key in doc, key
    for value in set(DEFAULT_DIMS.values()):
        assert str(value) in doc


# ---------------------------------------------------------------------------------------------
# --data files


def test_npz_by_name(tmp_path: Path, transformer: LoadedModel) -> None:
    arrays = generate_inputs(transformer, seq_len=8, seed=2)
    save_npz(tmp_path / "data.npz", arrays)
    loaded = load_inputs(tmp_path / "data.npz", transformer)
    assert list(loaded) == transformer.input_names()
    for name in arrays:
        np.testing.assert_array_equal(loaded[name], arrays[name])
    run_ort(transformer, loaded)


def test_npz_in_input_order(tmp_path: Path, dynamic: LoadedModel) -> None:
    x, y, z = (np.full(s, i, np.float32) for i, s in enumerate([(1, 2, 4), (1, 2, 4), (3, 5)]))
    np.savez(tmp_path / "data.npz", x, y, z)
    loaded = load_inputs(str(tmp_path / "data.npz"), dynamic)
    assert [float(a.ravel()[0]) for a in loaded.values()] == [0.0, 1.0, 2.0]
    assert loaded["z"].shape == (3, 5)


def test_npy_for_a_single_input_model(tmp_path: Path) -> None:
    with load_model("squeezenet") as model:
        np.save(tmp_path / "x.npy", np.zeros((1, 3, 224, 224), np.float32))
        assert load_inputs(tmp_path / "x.npy", model)["data_0"].shape == (1, 3, 224, 224)


def test_npy_for_several_inputs(tmp_path: Path, dynamic: LoadedModel) -> None:
    np.save(tmp_path / "x.npy", np.zeros((1, 2, 4), np.float32))
    with pytest.raises(UsageError, match="3 inputs"):
        load_inputs(tmp_path / "x.npy", dynamic)


def test_safe_casts_and_lossless_integer_narrowing(tmp_path: Path, all_dtypes: LoadedModel) -> None:
    arrays = generate_inputs(all_dtypes)
    arrays["x_float64"] = arrays["x_float64"].astype(np.float32)  # float32 -> float64: safe
    arrays["x_int64"] = arrays["x_int64"].astype(np.int8)  # widening: safe
    arrays["x_int32"] = np.full((2, 128), 7, np.int64)  # fits int32: narrowed
    arrays["x_object"] = np.array([["a", "bc"] * 64] * 2)  # str, not pickled objects
    save_npz(tmp_path / "data.npz", arrays)
    loaded = load_inputs(tmp_path / "data.npz", all_dtypes)
    assert loaded["x_float64"].dtype == np.float64
    assert loaded["x_int64"].dtype == np.int64
    assert loaded["x_int32"].dtype == np.int32
    assert loaded["x_object"].dtype == object
    assert loaded["x_object"][0, 1] == "bc"
    run_ort(all_dtypes, loaded)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x": np.zeros((1, 2, 4), np.float64)}, "input 'x' takes float32, --data"),
        ({"x": np.zeros((1, 2), np.float32)}, "input 'x' has rank 3"),
        ({"x": np.zeros((1, 2, 5), np.float32)}, "input 'x' needs shape [batch,seq,4]"),
        ({"z": None}, "no array for input 'z'"),
        ({"q": np.zeros(1, np.float32)}, "array 'q', which is not an input"),
    ],
)
def test_npz_mismatch_names_the_input(
    tmp_path: Path, dynamic: LoadedModel, change: dict[str, Any], message: str
) -> None:
    arrays: dict[str, Any] = {
        "x": np.zeros((1, 2, 4), np.float32),
        "y": np.zeros((1, 2, 4), np.float32),
        "z": np.zeros((1, 5), np.float32),
    }
    arrays.update(change)
    save_npz(tmp_path / "data.npz", {k: v for k, v in arrays.items() if v is not None})
    with pytest.raises(UsageError) as info:
        load_inputs(tmp_path / "data.npz", dynamic)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_integers_that_do_not_fit_are_refused(tmp_path: Path, all_dtypes: LoadedModel) -> None:
    arrays = generate_inputs(all_dtypes)
    arrays["x_int8"] = np.full((2, 128), 1000, np.int64)
    save_npz(tmp_path / "data.npz", arrays)
    with pytest.raises(UsageError, match=r"input 'x_int8' takes int8.*astype\(numpy.int8\)"):
        load_inputs(tmp_path / "data.npz", all_dtypes)


def test_data_must_match_the_batch_override(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((1, 3, 224, 224), np.float32))
    with load_model("squeezenet", batch_size=2) as model, pytest.raises(UsageError, match="dim 0"):
        load_inputs(tmp_path / "x.npy", model)


def test_pickled_objects_are_never_loaded(tmp_path: Path) -> None:
    path = onnx_factory.make_identity_model(tmp_path, [("s", TensorProto.STRING, [2])])
    np.save(tmp_path / "s.npy", np.array(["a", "b"], dtype=object), allow_pickle=True)
    with load_model(str(path)) as model, pytest.raises(UsageError, match="pickled objects"):
        load_inputs(tmp_path / "s.npy", model)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("data.txt", b"1 2 3", "expected an .npz file"),
        ("data.npz", b"not a zip", "is not a valid .npz file (not a zip archive"),
        ("data.npz", bytes(range(256)) * 4, "is not a valid .npz file (not a zip archive"),
        ("data.npz", b"PK\x03\x04 truncated", "is not a valid .npz file"),
        ("data.npy", b"hello\n", "is not a valid .npy file (no NumPy header"),
        ("data.npy", b"\x93NUMPY garbage", "cannot read it"),
    ],
)
def test_unreadable_data_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with load_model("squeezenet") as model, pytest.raises(UsageError) as info:
        load_inputs(tmp_path / name, model)
    assert message in str(info.value)
    assert "pickled" not in str(info.value)  # random bytes are not pickled objects


def test_an_npz_member_that_is_not_an_array(tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "d.npz", "w") as archive:
        archive.writestr("data_0.npy", b"plain text")
    with load_model("squeezenet") as model, pytest.raises(UsageError) as info:
        load_inputs(tmp_path / "d.npz", model)
    assert str(info.value).endswith("its member 'data_0.npy' is not an .npy array")


def test_inputs_that_cannot_fit_in_memory_say_how_much_they_need() -> None:
    from pinbench.base.errors import RunError
    from pinbench.model.inputs import check_inputs_fit

    with load_model("squeezenet") as model:
        shapes = {"data_0": [1000, 3, 224, 224]}
        assert check_inputs_fit(model, shapes, 2**40, copies=2) == 602_112_000
        with pytest.raises(RunError) as info:
            check_inputs_fit(model, shapes, 2**30, copies=2)
    assert str(info.value) == (
        "the inputs need 574.2 MiB per stream x 2 streams, more than the 1.0 GiB of memory "
        "available (data_0 float32[1000,3,224,224]); lower -b or -shapes"
    )
    assert "\n" not in str(info.value)


def test_missing_data_file(tmp_path: Path, dynamic: LoadedModel) -> None:
    with pytest.raises(UsageError, match="not found"):
        load_inputs(tmp_path / "nope.npz", dynamic)
