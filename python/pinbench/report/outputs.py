"""Every file a command writes: each named for the output guard (``base.files.guard_outputs``)
before anything runs, so that a run whose result cannot be written never starts and no output
replaces an input, and each written atomically after the run.

A run writes ``-x`` (JSON), ``--export-samples``, ``--plot`` and ``--profile``'s folder; a sweep
its JSON, CSVs and plot; an A/B its JSON. The flags whose files have a format of their own name
the suffixes they accept here (``samples_output``, ``plot_output``).

Example::

    >>> check_outputs(settings.outputs, [("the model", "model.onnx")])  # doctest: +SKIP
    >>> write_outputs(result, settings.outputs)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import importlib.util
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..base.errors import RunError, UsageError
from ..base.files import Output, guard_outputs, write_json_atomic
from ..base.logs import log
from ..result.samples import FORMATS as SAMPLE_FORMATS
from ..result.samples import write_samples
from ..result.schema.ab import write_ab
from ..result.schema.run import unfinished_document, write_run
from ..result.schema.sweep import write_sweep
from .csvfile import per_model_paths, write_csv
from .plot import FORMATS as PLOT_FORMATS
from .plot import plot_result
from .plot_sweep import plot_sweep

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from ..model.spec import LoadedModel
    from ..result.ab_record import AbResult
    from ..result.record import Result
    from ..result.sweep_record import Sweep
    from ..settings import FleetSettings, OutputSettings, RunSettings


def samples_output(path: str | os.PathLike[str]) -> Output:
    """``--export-samples PATH`` for the output guard (``base.files.guard_outputs``)."""
    return Output("--export-samples", path, suffixes=SAMPLE_FORMATS)


def plot_output(path: str | os.PathLike[str]) -> Output:
    """``--plot PATH`` for the output guard (``base.files.guard_outputs``); UsageError now, before
    any run, when matplotlib is missing."""
    if importlib.util.find_spec("matplotlib") is None:
        raise UsageError("--plot needs matplotlib: pip install 'pinbench[plot]'")
    return Output("--plot", path, suffixes=PLOT_FORMATS)


def check_outputs(outputs: OutputSettings, inputs: Sequence[tuple[str, str | Path]] = ()) -> None:
    """Every output of a run through the output guard before the run: UsageError when one cannot
    be written, would replace one of ``inputs`` (the model, its external data, ``--data``) or any
    ONNX model, or when two outputs name one file."""
    guard_outputs(run_outputs(outputs), inputs)


def run_outputs(outputs: OutputSettings) -> list[Output]:
    """Every output a run writes, as the output guard takes them."""
    named: list[Output] = []
    if outputs.export_path:
        named.append(Output("-x", outputs.export_path))
    if outputs.export_samples:
        named.append(samples_output(outputs.export_samples))
    if outputs.plot:
        named.append(plot_output(outputs.plot))
    if outputs.profile:
        named.append(Output("--profile", outputs.profile, folder=True))
    return named


def write_unfinished(
    settings: RunSettings,
    error: BaseException,
    phase: str,
    model: LoadedModel | None,
    environment: Callable[[], dict[str, Any]],
) -> None:
    """For a run that ended before its result (a signal, or a failure at run time): the JSON
    of what is known, when -x asks for one (see ``result.schema.run.unfinished_document``). Sets
    ``error.phase`` and ``error.export_path`` (None when nothing was written) for the caller.
    ``environment()``: the environment record's dict, called only when the file is written."""
    path = settings.outputs.export_path
    interrupted = isinstance(error, KeyboardInterrupt)
    error.phase = phase  # type: ignore[attr-defined]
    error.export_path = path  # type: ignore[attr-defined]
    if not path:
        return
    try:
        data = unfinished_document(
            settings,
            phase,
            environment=environment(),
            model_path=str(model.source_path) if model is not None else None,
            interrupted=interrupted,
            error=None if interrupted else error,
        )
        write_json_atomic(data, path)
    except Exception as e:  # the error being reported matters more than this file
        log.warning("could not write %s: %s", path, e)
        error.export_path = None  # type: ignore[attr-defined]
        return
    log.info("what is known of the run written to %s", path)


def write_outputs(result: Result, outputs: OutputSettings) -> None:
    """The samples and the JSON, each written atomically (samples first: the JSON links them)."""
    if outputs.export_samples:
        write_samples(result.measurement, outputs.export_samples)
        log.info("samples written to %s", outputs.export_samples)
    if outputs.export_path:
        write_json_atomic(write_run(result), outputs.export_path)
        log.info("results written to %s", outputs.export_path)


def write_plot(result: Result, path: str) -> None:
    """Draws the plot of ``result``; RunError (one line) when drawing fails."""
    _draw(lambda: plot_result(result, path), path)


@dataclasses.dataclass(frozen=True)
class SweepOutputs:
    """A sweep's files: each checked before the run (writable, and never one of the models or
    another output), each written atomically after it."""

    export_path: str | None = None
    csv_path: str | None = None
    csv_dir: str | None = None
    plot: str | None = None

    def check(
        self,
        models: Sequence[str],
        inputs: Sequence[tuple[str, str | Path]],
        more: Sequence[Output] = (),
    ) -> str:
        """UsageError when an output (these and ``more``) cannot be written or would replace one
        of ``inputs`` (the models' files, ``model.input_files.model_files``); returns the time
        stamp of the ``csv_dir`` file names."""
        stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
        named: list[Output] = list(more)
        if self.export_path:
            named.append(Output("-x", self.export_path))
        if self.csv_path:
            named.append(Output("--csv", self.csv_path))
        if self.plot:
            named.append(plot_output(self.plot))
        if self.csv_dir:  # created by the guard when missing, as benchmark_sweep did
            named.append(Output("--csv-dir", self.csv_dir, folder=True))
            paths = per_model_paths(models, self.csv_dir, stamp).values()
            named += [Output("--csv-dir", p) for p in paths]
        guard_outputs(named, inputs)
        return stamp

    def write_json(self, result: Sweep[Result]) -> None:
        """The JSON alone (``export_path``), rewritten as a fleet's points arrive."""
        if self.export_path:
            write_json_atomic(write_sweep(result), self.export_path)

    def write(self, result: Sweep[Result], stamp: str) -> None:
        if self.export_path:
            self.write_json(result)
            log.info("sweep written to %s", self.export_path)
        if self.csv_path:
            write_csv(self.csv_path, [result])
            log.info("CSV written to %s", self.csv_path)
        if self.csv_dir:
            paths = per_model_paths([m.model for m in result.models], self.csv_dir, stamp)
            for m in result.models:
                write_csv(paths[m.model], [result], m.points)
            log.info("one CSV per model written to %s", self.csv_dir)
        if self.plot:
            write_sweep_plot(result, self.plot)


def write_sweep_plot(result: Sweep[Result], path: str) -> None:
    """Draws ``pinbench sweep --plot``; RunError (one line) when drawing fails."""
    _draw(lambda: plot_sweep(result, path), path)


def _draw(plot: Callable[[], object], path: str) -> None:
    """Runs ``plot``, which writes ``path``; any failure of the drawing as one RunError line."""
    try:
        plot()
    except Exception as e:
        raise RunError(f"--plot {path}: {type(e).__name__}: {e}") from e
    log.info("plot written to %s", path)


def check_ab_output(path: str, inputs: Sequence[tuple[str, str | Path]]) -> None:
    """``pinbench ab -x PATH`` through the output guard before the rounds: UsageError when it
    cannot be written or would replace one of ``inputs`` (both sides' models, their ``--data``)."""
    guard_outputs([Output("-x", path)], inputs)


def write_ab_output(result: AbResult[Result], path: str) -> None:
    """The A/B's JSON, written atomically."""
    write_json_atomic(write_ab(result), path)
    log.info("A/B written to %s", path)


def fleet_outputs(fleet: FleetSettings) -> list[Output]:
    """A fleet sweep's own outputs beside the sweep's: Slurm's job folder."""
    if fleet.backend != "slurm":
        return []
    return [Output("--slurm-folder", fleet.slurm_folder, folder=True)]
