"""The errors pinbench shows to a user: one line each, with the exit code they map to."""

from __future__ import annotations


class PinbenchError(Exception):
    """A failure that the CLI prints as one line, without a traceback.

    ``exit_code`` is 2 for usage errors (the request cannot be satisfied as written) and 1 for
    failures at run time.
    """

    exit_code = 1


class UsageError(PinbenchError, ValueError):
    """The request is wrong as written: a bad flag value, a missing file, an impossible plan."""

    exit_code = 2


class RunError(PinbenchError, RuntimeError):
    """The request was valid but the run failed: the engine refused the model or the inputs."""

    exit_code = 1


def one_line(e: BaseException) -> str:
    """An exception's message on one line; its type's name when it has no message.

    >>> one_line(ValueError("two\\nlines"))
    'two lines'
    """
    return " ".join(str(e).split()) or type(e).__name__


def shorten(e: BaseException | str, limit: int = 300) -> str:
    """``one_line`` of an exception (or a text), cut to ``limit`` characters with an ellipsis.

    >>> shorten("x" * 10, limit=5)
    'xxxx…'
    """
    text = one_line(e) if isinstance(e, BaseException) else " ".join(e.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
