"""Parsing and formatting of the ``-shapes`` flag."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbench.base.errors import UsageError
from pinbench.base.shapes import format_shape, format_shapes, parse_input_shapes
from pinbench.model.load import load_model


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1,3,224,224]", [[1, 3, 224, 224]]),
        ("[1,3,224,224],[1,128]", [[1, 3, 224, 224], [1, 128]]),
        (" [ 1 , 3 ] , [ 1,128 ] ", [[1, 3], [1, 128]]),
        ("[[1,2],[3,4]]", [[1, 2], [3, 4]]),
        ("[[1,2]]", [[1, 2]]),
        ("[]", [[]]),
        ("[7]", [[7]]),
        ("[+2,3]", [[2, 3]]),
        ("x:[1,3,640,640],mask:[1,128]", {"x": [1, 3, 640, 640], "mask": [1, 128]}),
        ("x : [1, 3] , mask:[1,128]", {"x": [1, 3], "mask": [1, 128]}),
        ("gpu_0/data_0:[1,3,224,224]", {"gpu_0/data_0": [1, 3, 224, 224]}),
        ("past_key_values.1.key:[1,12,1,64]", {"past_key_values.1.key": [1, 12, 1, 64]}),
        ("a:b:[1]", {"a:b": [1]}),
        ("scalar:[]", {"scalar": []}),
    ],
)
def test_valid(text: str, expected: object) -> None:
    assert parse_input_shapes(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "no shape given"),
        ("   ", "no shape given"),
        ("[1,2],", "trailing ','"),
        ("[1,x]", "not an integer"),
        ("[1.5]", "not an integer"),
        ("[1,,2]", "empty dim"),
        ("[1,2,]", "empty dim"),
        ("[0]", "positive"),
        ("[1,-2]", "positive"),
        ("[-0]", "positive"),
        ("x:[1],[2]", "mix of named and positional"),
        ("[2],x:[1]", "mix of named and positional"),
        ("x:[1],x:[2]", "given twice"),
        (":[1]", "empty input name"),
        ("1,2", "cannot read"),
        ("(1,2)", "cannot read"),
        ("[1,2][3]", "expected ','"),
        ("[1,2]]", "expected ','"),
        ("[1,[2]]", "cannot read"),
        ("[1,2", "cannot read"),
        ("x:1,2", "cannot read"),
    ],
)
def test_invalid_is_one_line_usage_error(text: str, why: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_input_shapes(text)
    message = str(info.value)
    assert why in message
    assert "\n" not in message
    assert message.startswith("-shapes ")
    assert "accepted forms" in message
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("shapes", "text"),
    [
        ([[1, 3, 224, 224], [1, 128]], "[1,3,224,224],[1,128]"),
        ([[]], "[]"),
        ({"x": [1, 3], "mask": [1, 128]}, "x:[1,3],mask:[1,128]"),
        ({"x": (2,)}, "x:[2]"),
    ],
)
def test_format(shapes: list[list[int]] | dict[str, list[int]], text: str) -> None:
    assert format_shapes(shapes) == text


def test_format_shape_shows_free_dims() -> None:
    assert format_shape([1, "seq", None]) == "[1,seq,?]"
    assert format_shape(()) == "[]"


_dims = st.lists(st.integers(min_value=1, max_value=10**6), max_size=5)
_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_./]{0,12}", fullmatch=True)


@given(st.lists(_dims, min_size=1, max_size=4))
def test_positional_round_trip(shapes: list[list[int]]) -> None:
    assert parse_input_shapes(format_shapes(shapes)) == shapes


@given(st.dictionaries(_names, _dims, min_size=1, max_size=4))
def test_named_round_trip(shapes: dict[str, list[int]]) -> None:
    assert parse_input_shapes(format_shapes(shapes)) == shapes


def test_shapes_the_model_cannot_take_are_named_before_anything_runs(tmp_path: Path) -> None:
    """ONNX shape inference sees the clash as the model is loaded: the message names the shape
    given and the model's own, and does not blame the model file."""
    from onnx_factory import make_matmul_model

    model = make_matmul_model(tmp_path, size=4, layers=1)  # x [4,4] @ w [4,4]
    with pytest.raises(UsageError) as info:
        load_model(str(model), input_shapes="x:[4,5]")
    assert str(info.value) == (
        '-shapes "x:[4,5]" does not fit the model, which fixes x as [4,4]: ONNX shape inference '
        "fails at MatMul node: Incompatible dimensions for matrix multiplication"
    )
    with load_model(str(model), batch_size=2) as loaded:  # a batch the graph can take
        assert loaded.inputs[0].shape == (2, 4)
