"""argparse actions that answer and exit before any model is named: ``--version`` and
``--engines`` (exit 0, output on stdout, like argparse's own ``--help``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from collections.abc import Sequence


class _Answer(argparse.Action):
    """A flag of no value whose answer is printed, then the command exits 0."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def answer(self) -> str:
        raise NotImplementedError

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        print(self.answer())
        parser.exit(0)


class ShowVersion(_Answer):
    """``--version``: ``pinbench X.Y.Z`` (read from the installed distribution when asked)."""

    def answer(self) -> str:
        from ..base.version import pinbench_version

        return f"pinbench {pinbench_version()}"


class ListEngines(_Answer):
    """``--engines``: the engines table (name, version, whether it can run here)."""

    def answer(self) -> str:
        from ..engines import engines_table

        return engines_table()
