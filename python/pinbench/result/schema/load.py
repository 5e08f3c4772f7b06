"""Any pinbench document, read back by its kind: a run, a sweep or an A/B run.

- a **run** (``pinbench -x``; any schema, deepsparse.benchmark's own export too): ``RunDoc``;
- a **sweep** (``pinbench sweep -x``, ``"kind": "pinbench sweep"``): ``Sweep[RunDoc]``;
- an **A/B** run (``pinbench ab -x``, ``"kind": "pinbench ab"``): ``AbResult[RunDoc]``.

A file that is not JSON, or JSON of no known kind, is a UsageError (one line).

Example::

    >>> doc = load_document("result.json")  # doctest: +SKIP
    >>> doc.items_per_sec, doc.valid  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Union

from ...base.errors import UsageError
from ..ab_record import AbResult
from ..sweep_record import Sweep
from .ab import read_ab
from .run import RunDoc, read_run
from .sweep import read_sweep
from .values import read_json_file
from .version import AB_KIND, SWEEP_KIND

Document = Union[RunDoc, Sweep[RunDoc], AbResult[RunDoc]]


def load_document(path: str) -> Document:
    """The document in ``path``; UsageError (one line) when it is missing or of no known kind."""
    return read_document(read_json_file(path), path)


def read_document(data: Any, path: str = "") -> Document:
    """A document from its parsed JSON; ``path`` locates a run's samples beside it."""
    name = path or "document"
    if not isinstance(data, dict):
        raise UsageError(f"{name}: not a pinbench JSON (not an object)")
    try:
        if data.get("kind") == SWEEP_KIND:
            return read_sweep(data, path)
        if data.get("kind") == AB_KIND:
            return read_ab(data, path)
        if "benchmark_result" in data:
            return read_run(data, path)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise UsageError(f"{name}: not a pinbench JSON (missing or bad {e})") from None
    raise UsageError(f"{name}: not a pinbench run, sweep or A/B JSON")
