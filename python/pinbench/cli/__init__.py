"""The ``pinbench`` command line: one module per command, dispatched through one table.

Kept free of heavy imports so that ``pinbench --help`` answers at once.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

# The first argument -> the module whose main(argv) runs that command; anything else is a model.
COMMANDS = {
    "ab": "ab",
    "compare": "compare",
    "machine": "machine",
    "report": "report",
    "sweep": "sweep",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI; returns the exit code (0 ok, 1 run-time failure, 2 usage, 130 Ctrl-C,
    143 SIGTERM)."""
    import importlib

    given = sys.argv[1:] if argv is None else list(argv)
    name = COMMANDS.get(given[0]) if given else None
    module = importlib.import_module(f".{name or 'benchmark'}", __name__)
    command: Callable[[Sequence[str]], int] = module.main
    return command(given[1:] if name else given)


def run() -> NoReturn:
    """Console-script entry point (and ``python -m pinbench``)."""
    from .common import exit_code_after_stragglers

    sys.exit(exit_code_after_stragglers(main()))
