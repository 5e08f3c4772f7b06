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
