"""Every flag of ``pinbench``, ``pinbench sweep`` and ``pinbench ab``, one entry each, keyed by
the settings field it fills (``RunSettings.measure.time``); each command's parser takes the
entries it needs (``cli.benchmark``, ``cli.sweep``, ``cli.ab``), so a flag two commands share is
one entry. Defaults and choices come from ``pinbench.settings``, never from here.

The entries sit in one module per command (``pinbench_flags``, ``sweep_flags``, ``ab_flags``); a
flag of one command that another takes too is entered once, where it first belongs. A new flag
is one settings field (with its default and any choices as a settings constant) plus one entry,
then its key in the command's list (``SECTIONS`` of ``cli.benchmark``, ``KEYS`` of ``cli.sweep``
and ``cli.ab``). A flag that fills no settings field (``-q``, ``--debug``, a command's output
files where the API takes them as arguments) is keyed by ``own``, ``"command.what"``.

Example::

    >>> FLAGS["RunSettings.measure.time"].names
    ('-t', '--time')
    >>> pick(["RunSettings.inputs.seed"])[0].help_text()
    'seed of the generated inputs (0)'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ab_flags import AB_FLAGS
from .pinbench_flags import PINBENCH_FLAGS
from .sweep_flags import SWEEP_FLAGS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..flags import Flag

FLAGS: dict[str, Flag] = {flag.key: flag for flag in (*PINBENCH_FLAGS, *SWEEP_FLAGS, *AB_FLAGS)}


def pick(keys: Iterable[str]) -> list[Flag]:
    """The entries of ``keys``, in that order (a command's flags, as its --help lists them)."""
    return [FLAGS[key] for key in keys]
