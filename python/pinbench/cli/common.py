"""What every command shares: a parser whose errors are one line, the log setup, SIGTERM raised
like Ctrl-C, and the one-line failure with its exit code."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """Usage errors print one line and exit 2 (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every path that handles one handles both: the runner
    stops the streams and the partial result is still printed and exported."""


def raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def interrupt_code(e: BaseException | str | None) -> int:
    """130 after Ctrl-C, 143 after SIGTERM (by the exception, or its type's name)."""
    name = e if isinstance(e, str) else type(e).__name__ if e is not None else ""
    return 143 if name == Terminated.__name__ else 130


def setup_logging(quiet: bool, debug: bool = False) -> None:
    """Logs go to stderr; -q keeps only warnings and errors."""
    logger = logging.getLogger("pinbench")
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("pinbench: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO)


def fail(prog: str, message: str, code: int, debug: bool) -> int:
    """Prints ``prog: error: message`` on one line (the traceback too with --debug); returns
    ``code``."""
    if debug:
        traceback.print_exc()
    one_line = " ".join(message.split())  # engines' messages may span lines
    print(f"{prog}: error: {one_line}", file=sys.stderr)
    return code
