"""What every command shares: a parser whose errors are one line, the log setup, SIGTERM raised
like Ctrl-C, and the one-line failure with its exit code."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import traceback
from typing import NoReturn

from ..base.errors import MAX_LINE, Interrupted, gist
from ..base.signals import latching


class OneLineParser(argparse.ArgumentParser):
    """Usage errors print one line and exit 2 (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every path that handles one handles both: the runner
    stops the streams and the partial result is still printed and exported."""


def catch_signals() -> None:
    """SIGTERM raised as Terminated and SIGINT as KeyboardInterrupt, each latched
    (``base.signals``) so that one swallowed before a run still ends it. A SIGINT ignored from
    the start (a background job of a non-interactive shell) stays ignored, as Python leaves it.
    """
    signal.signal(signal.SIGTERM, latching(Terminated))
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, latching(KeyboardInterrupt))


def interrupt_code(e: BaseException | str | None) -> int:
    """130 after Ctrl-C, 143 after SIGTERM (by the exception, or its type's name; an
    ``Interrupted`` by the signal it stands for)."""
    if isinstance(e, Interrupted):
        e = e.interrupt
    name = e if isinstance(e, str) else type(e).__name__ if e is not None else ""
    return 143 if name == Terminated.__name__ else 130


# How far a run got before a signal ended it (``pinbench.phase_reached``), for the one line.
PHASE_WORDS = {
    "load": "while loading the model",
    "probe": "during the probes of the search",
    "start": "while the streams were starting",
    "warmup": "during the warmup",
}


def interrupted_message(e: BaseException) -> str:
    """The one line after a signal ended a run before its measurement, and where what was known
    was written (the API sets ``phase`` and ``export_path`` on the exception)."""
    where = PHASE_WORDS.get(getattr(e, "phase", ""), "")
    text = f"interrupted {where}, before the measurement started" if where else "interrupted"
    path = getattr(e, "export_path", None)
    return f"{text}; what was known is in {path}" if path else text


def setup_logging(quiet: bool, debug: bool = False) -> None:
    """Logs go to stderr; -q keeps only warnings and errors."""
    logger = logging.getLogger("pinbench")
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("pinbench: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO)


def fail(prog: str, message: str, code: int, debug: bool, detail: str | None = None) -> int:
    """Prints ``prog: error: message`` as the last line, one sentence of at most ``MAX_LINE``
    characters (``gist``); with --debug the traceback and the full text come before it.
    Returns ``code``."""
    prefix = f"{prog}: error: "
    line = gist(message, MAX_LINE - len(prefix))
    if debug:
        traceback.print_exc()
        full = detail or " ".join(message.split())
        if full != line:
            print(f"{prog}: the whole error: {full}", file=sys.stderr)
    print(prefix + line, file=sys.stderr)
    return code


def exit_code_after_stragglers(code: int) -> int:
    """``code``, once no stream thread left behind by an iteration timeout still runs.

    Such a thread may come back into Python while the interpreter finalizes, and CPython before
    3.14 then unwinds it through the engine's native frames, which aborts the process (exit 134,
    "terminate called without an active exception"). So the exit waits for them (the longest
    timeout they overran, 1 to 10 s); if some still run, the process ends here without
    finalizing: outputs are written and closed by then, and stdout and stderr are flushed.
    """
    core = sys.modules.get("pinbench._core")  # never imported for --help and usage errors
    if core is None or core.stragglers() == 0 or core.wait_for_stragglers():
        return code
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
