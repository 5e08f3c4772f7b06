"""The limits of what the runner and the engines can hold, and the checks every settings group
shares: each raises UsageError with one line that names the flag.

Example::

    >>> positive_int(4, "-nstreams")  # returns None: 4 is fine
"""

from __future__ import annotations

import math

from ..base.errors import UsageError

# Limits of what the runner and the engines can hold. MAX_SECONDS is the runner's own
# (csrc/core/stream_runner.h kMaxSeconds): every deadline is int64 nanoseconds. ONNX dims, and
# so batch sizes and shapes, are int64; the runner's seed is a uint64.
MAX_SECONDS = 1e9  # about 31.7 years
MAX_INT64 = 2**63 - 1
MAX_SEED = 2**64 - 1


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def positive_int(value: object, what: str, maximum: int = MAX_INT64) -> None:
    if value is not None and not (is_int(value) and value >= 1):  # type: ignore[operator]
        raise UsageError(f"{what} must be an integer of at least 1, got {value!r}")
    if value is not None and value > maximum:  # type: ignore[operator]
        raise UsageError(f"{what} must be at most {maximum} ({_limit_name(maximum)}), got {value}")


def _limit_name(maximum: int) -> str:
    return {MAX_INT64: "2**63 - 1, int64", MAX_SEED: "2**64 - 1, uint64"}.get(maximum, "the limit")


def seconds(value: object, what: str, *, zero_ok: bool) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not zero_ok):  # type: ignore[operator]
        rule = ">= 0" if zero_ok else "> 0"
        raise UsageError(f"{what} must be a number of seconds {rule}, got {value!r}")
    if value > MAX_SECONDS:  # type: ignore[operator]
        raise UsageError(
            f"{what} must be at most {MAX_SECONDS:g} s (the runner counts int64 nanoseconds), "
            f"got {value:g}"
        )


def validate_target(percentile: object, slo: object) -> None:
    if not (isinstance(percentile, (int, float)) and 0 < percentile < 100):
        raise UsageError(f"--percentile must lie between 0 and 100, got {percentile!r}")
    if slo is not None and not (isinstance(slo, (int, float)) and math.isfinite(slo) and slo > 0):
        raise UsageError(f"--latency-slo must be more than 0 ms, got {slo!r}")
