"""``pinbench compare``'s lines: each run described, and its changes against the baseline."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..result.run_changes import Change, Compared
    from ..result.schema.run import RunDoc


def table(base: Compared, other: Compared, changes: Sequence[Change]) -> list[str]:
    """The lines that show ``other`` against ``base``."""
    a, b = _short(base.run.path), _short(other.run.path)
    rows = [("metric", a, b, "change", "test", "result")]
    for c in changes:
        digits = 2 if max(abs(c.base), abs(c.other)) >= 100 else 4
        rows.append(
            (
                c.label,
                _number(c.base, digits),
                _number(c.other, digits),
                f"{c.change:+.1%}" if math.isfinite(c.change) else "n/a",
                c.test,
                c.verdict,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    lines = [f"{other.run.path} vs {base.run.path}"]
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [r[i].rjust(widths[i]) for i in (1, 2, 3)]
        cells += [r[4].ljust(widths[4]), r[5]]
        lines.append("  ".join(cells).rstrip())
    return lines


def describe(c: Compared, role: str) -> str:
    """One line: the run, its verdict, and whether it has raw samples."""
    run = c.run
    if run.valid is None:
        verdict = "no verdict (schema 1)"
    elif run.valid:
        verdict = "valid"
    else:
        verdict = f"invalid: {', '.join(rule for rule, _ in run.reasons)}"
    samples = "raw samples" if c.streams is not None else "no raw samples"
    return f"{role} {run.path}: {_description(run)}; {verdict}; {samples}"


def _description(run: RunDoc) -> str:
    engine = f", {run.engine} {run.engine_version}".rstrip() if run.engine else ""
    return (
        f"{run.model}, {run.scenario}, {run.num_streams} stream(s), {run.num_cores} core(s), "
        f"batch {run.batch_size}{engine}"
    )


def _number(v: float, digits: int) -> str:
    return f"{v:.{digits}f}" if math.isfinite(v) else "n/a"


def _short(path: str, width: int = 24) -> str:
    name = Path(path).name
    return name if len(name) <= width else "…" + name[-(width - 1) :]
