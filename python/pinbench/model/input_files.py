"""The files a command reads: a run's model, its external data and ``--data``, which no output
may replace (the output guard, ``base.files.guard_outputs``, takes them as (what, path) pairs).

Example::

    >>> model_files(["model.onnx"], "inputs.npz", what="the model")  # doctest: +SKIP
    [('the model', PosixPath('model.onnx')), ('the --data file', PosixPath('inputs.npz'))]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..base.errors import UsageError
from .graph import external_locations_of_file
from .resolve import REMOTE, resolve_model_path

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..settings import RunSettings
    from .spec import LoadedModel


def input_files(model: LoadedModel, settings: RunSettings) -> list[tuple[str, Path]]:
    """(what, path) of every file a run reads: the model, its external data, --data."""
    files = [("the model", model.source_path)]
    files += [(f"the model's external data {p.name}", p) for p in model.data_files]
    if settings.inputs.data:
        files.append(("the --data file", Path(settings.inputs.data)))
    return files


def model_files(
    models: Sequence[str],
    data: str | None,
    *,
    known_only: bool = False,
    what: str = "a model of the sweep",
) -> list[tuple[str, Path]]:
    """``input_files`` of models not loaded yet: each resolved, its external data read from it.
    ``known_only``: a model that does not resolve is left out (its load reports it), not an
    error. ``what``: each model's name in an error line."""
    files: list[tuple[str, Path]] = []
    for spec in models:
        if spec.startswith(REMOTE):  # fetched into a cache when its turn comes
            continue
        try:
            source = resolve_model_path(spec)
        except UsageError:
            if known_only:
                continue
            raise
        files.append((what, source))
        files += [
            (f"the external data {location} of {what}", source.parent / location)
            for location in external_locations_of_file(source)
        ]
    if data:
        files.append(("the --data file", Path(data)))
    return files
