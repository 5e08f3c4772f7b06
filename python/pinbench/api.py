"""The public entry points: ``benchmark()``, the original's ``benchmark_model()``, ``find_qps()``
and ``run_sweep()``. Each builds one RunSettings, validates it, checks its output paths, runs,
and writes its outputs.

Example::

    >>> import pinbench
    >>> r = pinbench.benchmark("squeezenet", scenario="async", time=1, warmup_time=0.5)
    >>> print(f"{r.items_per_sec:.1f} items/s, median {r.latency.median:.3f} ms")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base.errors import RunError
from .base.files import check_distinct_files, check_output_path, write_json_atomic
from .base.logs import log
from .base.system import capture_environment
from .model.graph import external_locations_of_file
from .model.resolve import resolve_model_path
from .report.json import deepsparse_document, document, sweep_document, unfinished_document
from .report.plot import check_plot_path
from .result.samples import check_samples_path, write_samples
from .run.prepare import prepare
from .search.auto_streams import benchmark_streams
from .search.find_qps import find_qps as search_rate
from .search.sweep import run_sweep as search_grid
from .settings import DEFAULT_ENGINE, RunSettings, SweepSettings

if TYPE_CHECKING:
    from .model.spec import LoadedModel
    from .result.record import Result
    from .result.search import Sweep
    from .run.execute import OnStart
    from .settings import OutputSettings


def benchmark(
    model: str | None = None,
    settings: RunSettings | None = None,
    *,
    on_start: OnStart | None = None,
    **kwargs: Any,
) -> Result:
    """Benchmarks ``model`` and returns a Result; writes the outputs the settings name.

    ``model`` is an ONNX file, a folder holding ``model.onnx``, a built-in name (``squeezenet``,
    ``resnet50``, ...), ``zoo:`` or ``hf:org/repo[/file.onnx]``. Give either ``settings`` (a
    ``RunSettings``; ``model`` then overrides its model when given) or keywords by the flat names
    of ``RunSettings.from_kwargs``: those of deepsparse.benchmark's flags (``batch_size``,
    ``input_shapes``, ``num_cores``, ``scenario``, ``time``, ``warmup_time``, ``num_streams``,
    ``thread_pinning``, ``engine``, ``export_path``, ...) and pinbench's (``seed``, ``data``,
    ``qps``, ``arrivals``, ``probe_time``, ``find_qps``, ``latency_slo_ms``, ...). ``engine`` may
    also be a class. ``on_start(warmup_s, measure_s)`` is called just before the run.
    Usage errors raise UsageError, engine failures RunError, both with a one-line message.
    """
    return run(_settings(model, settings, kwargs), on_start=on_start)


def run(settings: RunSettings, *, on_start: OnStart | None = None, plot: bool = True) -> Result:
    """Validates ``settings``, checks its outputs can be written, runs (a fixed layout,
    ``-nstreams auto`` or ``--find-qps``) and writes the outputs. ``plot=False`` leaves the plot
    to the caller (``write_plot``), e.g. to print the result first."""
    s = settings.validate()
    check_outputs(s.outputs)
    reached, model = "load", None
    try:
        with prepare(s) as prepared:
            model = prepared.model
            check_distinct_files(input_files(model, s), output_files(s.outputs))
            if s.kv_cache.given():
                log.warning("KV-cache options apply to DeepSparse's internal KV cache; ignored")
            reached = "probe" if s.search.find_qps or s.auto_streams else "start"
            if s.search.find_qps:
                result = search_rate(prepared, s, on_start=on_start)
            else:
                result = benchmark_streams(prepared, s, on_start=on_start)
    except (KeyboardInterrupt, RunError) as e:
        write_unfinished(s, e, getattr(e, "phase", reached), model)
        raise
    write_outputs(result, s.outputs)
    if plot and s.outputs.plot:
        write_plot(result, s.outputs.plot)
    return result


def benchmark_model(
    model_path: str,
    batch_size: int = 1,
    input_shapes: str = "",
    num_cores: int | None = None,
    scenario: str = "async",
    time: float = 10,
    warmup_time: float = 2,
    num_streams: int | None = None,
    sequence_length: int | None = None,
    input_ids_length: int | None = 1,
    thread_pinning: str = "core",
    engine: str = DEFAULT_ENGINE,
    internal_kv_cache: bool = False,
    quiet: bool = False,
    export_path: str | None = None,
    disable_kv_cache_overrides: bool = False,
    num_kv_cache_tokens: int = 1,
) -> dict[str, Any]:
    """deepsparse.benchmark's ``benchmark_model``: every argument of deepsparse 1.8.0's, returns
    the original's dict. The KV-cache ones (``input_ids_length``, ``internal_kv_cache``,
    ``disable_kv_cache_overrides``, ``num_kv_cache_tokens``) concern DeepSparse's internal KV
    cache: they are recorded (``pinbench.requested.kv_cache``), and a warning says they are
    ignored when they differ from the original's defaults.

    Example::

        >>> d = pinbench.benchmark_model("squeezenet", time=1)  # doctest: +SKIP
        >>> d["benchmark_result"]["items_per_sec"]  # doctest: +SKIP
    """
    if quiet:
        logging.getLogger("pinbench").setLevel(logging.WARNING)
    settings = RunSettings.from_kwargs(
        model_path,
        batch_size=batch_size,
        input_shapes=input_shapes,
        num_cores=num_cores,
        scenario=scenario,
        time=time,
        warmup_time=warmup_time,
        num_streams=num_streams,
        sequence_length=sequence_length,
        input_ids_length=input_ids_length if input_ids_length is not None else 1,
        thread_pinning=thread_pinning,
        engine=engine,
        internal_kv_cache=internal_kv_cache or None,
        export_path=export_path,
        disable_kv_cache_overrides=disable_kv_cache_overrides,
        num_kv_cache_tokens=None if num_kv_cache_tokens == 1 else num_kv_cache_tokens,
    )
    return deepsparse_document(run(settings))


def find_qps(
    model: str | None = None,
    settings: RunSettings | None = None,
    *,
    latency_slo_ms: float,
    percentile: float = 99.0,
    max_trials: int = 10,
    tolerance: float = 0.02,
    **kwargs: Any,
) -> Result:
    """The highest server rate whose ``percentile`` latency meets ``latency_slo_ms``.

    The other keywords are ``benchmark()``'s (``time`` bounds each trial and is the final run's
    length; ``num_streams`` may be ``"auto"``); ``max_trials`` and ``tolerance`` bound the
    bisection. Returns the final server run at the rate found,
    its ``config.find_qps`` holding the search; RunError when no rate meets the target. See
    ``pinbench.search.find_qps``.

    Example::

        >>> r = find_qps("squeezenet", latency_slo_ms=20, time=3, warmup_time=0.5)  # doctest: +SKIP
        >>> r.config.find_qps.best_qps  # doctest: +SKIP
    """
    kwargs.setdefault("scenario", "server")
    s = _settings(model, settings, kwargs)
    search = dataclasses.replace(
        s.search,
        find_qps=True,
        latency_slo_ms=latency_slo_ms,
        percentile=percentile,
        qps_max_trials=max_trials,
        qps_tolerance=tolerance,
    )
    return run(dataclasses.replace(s, search=search))


def run_sweep(
    model: str | None = None,
    settings: RunSettings | None = None,
    *,
    batch_sizes: tuple[int, ...] | list[int] = (1,),
    streams: tuple[int, ...] | list[int] | None = None,
    latency_slo_ms: float | None = None,
    percentile: float = 99.0,
    **kwargs: Any,
) -> Sweep:
    """Every (batch size, streams) configuration run as one benchmark; the table, the Pareto
    frontier and the best point (see ``pinbench.search.sweep``). Keywords as for
    ``benchmark()``; ``time`` defaults to 5 s and ``warmup_time`` to 1 s per point.
    ``export_path`` writes the sweep's JSON.

    Example::

        >>> s = run_sweep("squeezenet", batch_sizes=[1, 4], streams=[1, 2])  # doctest: +SKIP
        >>> s.points[s.best].num_streams  # doctest: +SKIP
    """
    kwargs.setdefault("time", 5.0)
    kwargs.setdefault("warmup_time", 1.0)
    export = kwargs.pop("export_path", None)
    grid = SweepSettings(
        _settings(model, settings, kwargs),
        batch_sizes=tuple(batch_sizes),
        streams=None if streams is None else tuple(streams),
        latency_slo_ms=latency_slo_ms,
        percentile=percentile,
    )
    return sweep(grid, export_path=export)


def sweep(grid: SweepSettings, *, export_path: str | None = None, plot: str | None = None) -> Sweep:
    """Runs a validated sweep and writes its JSON to ``export_path`` when given. ``plot`` is
    the file the caller will draw the sweep to: checked with the JSON before the run (neither
    may replace the model, its data, or each other)."""
    grid = grid.validate()
    if export_path:
        check_output_path(export_path)
    outputs = [(flag, path) for flag, path in (("-x", export_path), ("--plot", plot)) if path]
    if outputs:
        check_distinct_files(model_files(grid.base), outputs)
    result = search_grid(grid)
    if export_path:
        write_json_atomic(sweep_document(result), export_path)
        log.info("sweep written to %s", export_path)
    return result


def json_document(result: Result) -> dict[str, Any]:
    """The JSON that ``-x`` writes for ``result``, as a dict (see ``pinbench.report.json``).

    Example: ``pinbench.json_document(r)["pinbench"]["config"]["num_streams"]``.
    """
    return document(result)


def check_outputs(outputs: OutputSettings) -> None:
    """Every output path checked before the run: UsageError when one cannot be written, or
    when two outputs name one file."""
    if outputs.export_path:
        check_output_path(outputs.export_path)
    if outputs.export_samples:
        check_samples_path(outputs.export_samples)
    if outputs.plot:
        check_plot_path(outputs.plot)
    check_distinct_files([], output_files(outputs))


def output_files(outputs: OutputSettings) -> list[tuple[str, str]]:
    """(flag, path) of every output a run writes."""
    given = [
        ("-x", outputs.export_path),
        ("--export-samples", outputs.export_samples),
        ("--plot", outputs.plot),
    ]
    return [(flag, path) for flag, path in given if path]


def input_files(model: LoadedModel, settings: RunSettings) -> list[tuple[str, Path]]:
    """(what, path) of every file a run reads: the model, its external data, --data."""
    files = [("the model", model.source_path)]
    files += [(f"the model's external data {p.name}", p) for p in model.data_files]
    if settings.inputs.data:
        files.append(("the --data file", Path(settings.inputs.data)))
    return files


def model_files(settings: RunSettings) -> list[tuple[str, Path]]:
    """``input_files`` of a model not loaded yet: resolved, its external data read from it."""
    source = resolve_model_path(settings.model)
    files = [("the model", source)]
    files += [
        (f"the model's external data {location}", source.parent / location)
        for location in external_locations_of_file(source)
    ]
    if settings.inputs.data:
        files.append(("the --data file", Path(settings.inputs.data)))
    return files


def write_unfinished(
    settings: RunSettings, error: BaseException, phase: str, model: LoadedModel | None
) -> None:
    """For a run that ended before its result (a signal, or a failure at run time): the JSON
    of what is known, when -x asks for one (see ``report.json.unfinished_document``). Sets
    ``error.phase`` and ``error.export_path`` (None when nothing was written) for the caller."""
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
            environment=capture_environment().to_dict(),
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
        write_json_atomic(document(result), outputs.export_path)
        log.info("results written to %s", outputs.export_path)


def write_plot(result: Result, path: str) -> None:
    """Draws the plot of ``result``; RunError (one line) when drawing fails."""
    from .report.plot import plot_result

    try:
        plot_result(result, path)
    except Exception as e:
        raise RunError(f"--plot {path}: {type(e).__name__}: {e}") from e
    log.info("plot written to %s", path)


def _settings(
    model: str | None, settings: RunSettings | None, kwargs: dict[str, Any]
) -> RunSettings:
    if settings is None:
        if model is None:
            raise TypeError("benchmark() needs a model or a RunSettings")
        return RunSettings.from_kwargs(model, **kwargs)
    s = settings.with_kwargs(**kwargs)
    return dataclasses.replace(s, model=model) if model is not None else s
