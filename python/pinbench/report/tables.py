"""Plain-text tables for the console: right-aligned columns, two spaces apart."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def table_lines(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The header and rows, each cell right-aligned to its column's width, indented by two.

    >>> table_lines(("a", "bb"), [("10", "1")])
    ['   a  bb', '  10   1']
    """
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    return [
        "  " + "  ".join(cell.rjust(w) for cell, w in zip(row, widths)).rstrip()
        for row in (header, *rows)
    ]
