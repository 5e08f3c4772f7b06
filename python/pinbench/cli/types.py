"""argparse types: each parses one flag's text or raises ArgumentTypeError with one line.

Light on purpose (no numpy, no pinbench layer below settings): ``pinbench --help`` imports them.
"""

from __future__ import annotations

import argparse
import math
import re
from typing import TYPE_CHECKING

from ..settings import AUTO

if TYPE_CHECKING:
    from collections.abc import Callable

_LATENCY = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(ms|us|µs|s|ns)?\s*$")
_UNIT_MS = {"ms": 1.0, "us": 1e-3, "µs": 1e-3, "ns": 1e-6, "s": 1e3, None: 1.0}


def _number(
    kind: Callable[[str], float | int], ok: Callable[[float], bool], rule: str
) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {rule}") from None
        if not (math.isfinite(value) and ok(value)):
            raise argparse.ArgumentTypeError(f"{text!r} is not {rule}")
        return value

    return parse


positive_int = _number(int, lambda v: v >= 1, "an integer >= 1")
non_negative_int = _number(int, lambda v: v >= 0, "an integer >= 0")
positive_float = _number(float, lambda v: v > 0, "a number of seconds > 0")
non_negative_float = _number(float, lambda v: v >= 0, "a number of seconds >= 0")


def num_streams(text: str) -> int | str:
    """``-nstreams``: a positive integer or ``auto``."""
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer >= 1 or 'auto'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer >= 1 or 'auto'")
    return value


def warmup_time(text: str) -> float | str:
    """``-w``: seconds >= 0, or ``auto`` (until the throughput settles, at most --warmup-max)."""
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds >= 0 or 'auto'")
    return value


def latency_ms(text: str) -> float:
    """A latency target in ms: ``20ms``, ``0.02s``, ``500us``, or a bare number of ms."""
    match = _LATENCY.match(text)
    value = float(match.group(1)) * _UNIT_MS[match.group(2)] if match else math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a latency > 0 such as 20ms, 0.5s or 800us"
        )
    return value


def percentile(text: str) -> float:
    """A percentile strictly between 0 and 100 (``99``, ``99.9``)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value < 100):
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentile between 0 and 100")
    return value


def int_list(text: str) -> list[int]:
    """``1,8,32``: a comma-separated list of integers >= 1."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers >= 1")
    return values


def percent(text: str) -> float:
    """A percentage >= 0 (``--fail-if-slower 5``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage >= 0") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage >= 0")
    return value


def level(text: str) -> float:
    """A significance level strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a level between 0 and 1") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a level between 0 and 1")
    return value


def name_list(text: str) -> list[str]:
    """``sync,async`` or ``onnxruntime, openvino``: a comma-separated list of names."""
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of names")
    return values


def names(text: str) -> tuple[str, ...]:
    """``--providers A,B``: a comma-separated list of names, or none (empty text)."""
    return tuple(v.strip() for v in text.split(",") if v.strip())


def count_list(text: str) -> list[int]:
    """``0,16,64``: a comma-separated list of integers >= 0 (a request may have no prompt)."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers >= 0")
    return values


def cores_list(text: str) -> list[int | str]:
    """``1, 4, max``: numbers of physical cores (integers >= 1) or ``max``."""
    out: list[int | str] = []
    for v in (v.strip().lower() for v in text.split(",") if v.strip()):
        if v == "max":
            out.append(v)
            continue
        try:
            n = int(v)
        except ValueError:
            n = 0
        if n < 1:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a comma-separated list of core counts (integers >= 1 or max)"
            )
        out.append(n)
    if not out:
        raise argparse.ArgumentTypeError(f"{text!r} lists no core count")
    return out


def output_file(text: str) -> str:
    """A file the command writes. Every flag that names an output has this type or
    ``output_folder``: the output guard (``pinbench.base.files.guard_outputs``) checks each
    before the run, and the tests find every output flag by its type."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty file name")
    return text


def output_folder(text: str) -> str:
    """A folder the command writes files into (created when missing); see ``output_file``."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty folder name")
    return text


OUTPUT_TYPES = (output_file, output_folder)
