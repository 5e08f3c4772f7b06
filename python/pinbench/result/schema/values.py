"""How the documents hold values: JSON has no NaN (null instead), no tuples, times to the second.

The writers pass their dicts through ``finite_values``; the readers take figures back with
``number`` (null as NaN) and ``interval``.

Example::

    >>> finite_values({"x": float("nan"), "ci": (1.0, 2.0)})
    {'x': None, 'ci': [1.0, 2.0]}
    >>> number(None), interval([1, 2])
    (nan, (1.0, 2.0))
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ...base.errors import UsageError


def finite_values(value: Any) -> Any:
    """JSON has no NaN: non-finite floats become null, tuples lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_values(v) for v in value]
    return value


def now_iso() -> str:
    """The current UTC time, to the second, as the documents record it."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def number(value: Any) -> float:
    """A JSON number as a float; null (a NaN written out) as NaN."""
    return math.nan if value is None else float(value)


def optional_number(value: Any) -> float | None:
    """A JSON number as a float; null as None (a figure that does not apply)."""
    return None if value is None else float(value)


def optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def interval(value: Any) -> tuple[float, float] | None:
    """A ``[lo, hi]`` of finite numbers, else None."""
    if not isinstance(value, list) or len(value) != 2 or None in value:
        return None
    lo, hi = float(value[0]), float(value[1])
    return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None


def read_json_file(path: str) -> Any:
    """The JSON in ``path``; UsageError (one line) when it is missing or not JSON."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"{path}: not a pinbench JSON ({e})") from None
