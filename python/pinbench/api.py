"""The public entry points: ``benchmark()``, the original's ``benchmark_model()``, ``find_qps()``
and ``run_sweep()``. Each builds one RunSettings, validates it, checks its output paths, runs,
and writes its outputs: ``model.input_files`` lists the files a command reads,
``report.outputs`` checks and writes those it writes.

Example::

    >>> import pinbench
    >>> r = pinbench.benchmark("squeezenet", scenario="async", time=1, warmup_time=0.5)
    >>> print(f"{r.items_per_sec:.1f} items/s, median {r.latency.median:.3f} ms")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base.errors import RunError, UsageError
from .base.logs import log
from .model.input_files import input_files, model_files
from .report.outputs import (
    SweepOutputs,
    check_ab_output,
    check_outputs,
    fleet_outputs,
    write_ab_output,
    write_outputs,
    write_plot,
    write_unfinished,
)
from .result.schema.run import deepsparse_document, write_run
from .result.startup import StartMarks
from .run.environment import capture_environment
from .run.execute import StreamFailed
from .run.prepare import prepare
from .run.profile import with_profile
from .search.ab_rounds import run_ab
from .search.auto_streams import run_benchmark
from .search.find_qps import search_rate
from .search.fleet import connect, require_extra, run_fleet
from .search.sweep_grid import check_grid, expand_models
from .search.sweep_runner import run_sweep as search_grid
from .settings import (
    DEFAULT_ENGINE,
    PINNING_MODES,
    SCENARIO_ALIASES,
    SCENARIOS,
    SWEEP_TIME_S,
    SWEEP_WARMUP_S,
    AbSettings,
    RunSettings,
    SearchSettings,
    SweepSettings,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .result.ab_record import AbResult
    from .result.record import Result
    from .result.sweep_record import Sweep
    from .run.execute import OnStart
    from .run.prepare import Prepared


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
    ``input_shapes``, ``num_cores``, ``scenario``, ``time``, ``warmup_time`` (seconds, or
    ``"auto"``: until the throughput settles, at most ``warmup_max`` s), ``num_streams``,
    ``thread_pinning``, ``engine``, ``export_path``, ...) and pinbench's (``seed``, ``data``,
    ``qps``, ``arrivals``, ``probe_time``, ``find_qps``, ``latency_slo_ms``, ...). ``engine`` may
    also be a class. ``on_start(warmup_s, measure_s)`` is called just before the run.
    Usage errors raise UsageError, engine failures RunError, both with a one-line message.
    """
    start = StartMarks("call", time.monotonic_ns())
    return run(_settings(model, settings, kwargs), on_start=on_start, start=start)


def run(
    settings: RunSettings,
    *,
    on_start: OnStart | None = None,
    plot: bool = True,
    start: StartMarks | None = None,
) -> Result:
    """Validates ``settings``, checks its outputs can be written, runs (a fixed layout,
    ``-nstreams auto`` or ``--find-qps``) and writes the outputs. ``plot=False`` leaves the plot
    to the caller (``write_plot``), e.g. to print the result first. ``start``: where the
    result's start-up is counted from (default: this call; the command line passes the
    process's start)."""
    start = start or StartMarks("call", time.monotonic_ns())
    s = settings.validate()
    # The model files known before the load; the load may fetch (hf:, zoo:) or fail, checked then.
    known = model_files([s.model], s.inputs.data, known_only=True, what="the model")
    check_outputs(s.outputs, known)
    reached, model = "load", None
    try:
        with prepare(s, start) as prepared:
            model = prepared.model
            check_outputs(s.outputs, input_files(model, s))  # hf:, zoo: are files now
            reached = "probe" if s.search.find_qps or s.auto_streams else "start"
            result = _measure(prepared, s, on_start)
    except (KeyboardInterrupt, RunError) as e:
        if not (isinstance(e, StreamFailed) and e.result is not None):  # that one is written
            phase = getattr(e, "phase", reached)
            write_unfinished(s, e, phase, model, lambda: capture_environment().to_dict())
        raise
    write_outputs(result, s.outputs)
    if plot and s.outputs.plot:
        write_plot(result, s.outputs.plot)
    return result


def _measure(prepared: Prepared, s: RunSettings, on_start: OnStart | None) -> Result:
    """The measured part of ``run``: a fixed layout, ``-nstreams auto`` or ``--find-qps``, then
    the profiled pass when asked for. What a stream measured before it failed is written."""
    try:
        if s.search.find_qps:
            result = search_rate(prepared, s, on_start=on_start)
        else:
            result = run_benchmark(prepared, s, on_start=on_start)
    except StreamFailed as e:
        if e.result is not None:  # what was measured until a stream failed is not lost
            write_outputs(e.result, s.outputs)
        raise
    if s.outputs.profile and not result.interrupted:
        result = with_profile(prepared, s, result)  # after every measured window
    return result


def benchmark_model(
    model_path: str,
    batch_size: int = 1,
    input_shapes: str | None = "",
    num_cores: int | None = None,
    scenario: str = "async",
    time: float = 10,
    warmup_time: float | str = 2,
    num_streams: int | None = None,
    sequence_length: int | None = None,
    input_ids_length: int | None = 1,
    thread_pinning: str = "core",
    engine: str = DEFAULT_ENGINE,
    internal_kv_cache: bool = True,
    quiet: bool = False,
    export_path: str | None = None,
    disable_kv_cache_overrides: bool = False,
    num_kv_cache_tokens: int = 1,
) -> dict[str, Any]:
    """deepsparse.benchmark's ``benchmark_model``: every argument of deepsparse 1.8.0's, returns
    the original's dict. On a KV-cache decoder ``sequence_length`` and ``input_ids_length`` fix
    the forward pass as the CLI's ``-seq_len`` / ``-input_ids_len`` do (unless
    ``disable_kv_cache_overrides``); ``internal_kv_cache`` (the original's default, True) and
    ``num_kv_cache_tokens`` apply to DeepSparse, whose internal cache they choose; other engines
    keep the cache outside, as ``internal_kv_cache=False`` asks. See docs/decoders.md.
    Every value the original takes is taken, as it reads it (``benchmark_sweep`` passes some of
    them): ``input_shapes=None`` or ``""`` for the model's own shapes; ``num_streams`` and
    ``sequence_length`` of 0 or None for the default; ``scenario`` and ``thread_pinning`` in any
    case; an unknown scenario runs async and an unknown pinning keeps the default ``core``, each
    with a warning, where the original warned and went on.

    Example::

        >>> d = pinbench.benchmark_model("squeezenet", time=1)  # doctest: +SKIP
        >>> d["benchmark_result"]["items_per_sec"]  # doctest: +SKIP
    """
    if quiet:
        logging.getLogger("pinbench").setLevel(logging.WARNING)
    settings = RunSettings.from_kwargs(
        model_path,
        batch_size=batch_size,
        input_shapes=input_shapes or "",  # the original's parse_input_shapes: falsy is none
        num_cores=num_cores,
        scenario=_original_scenario(scenario),
        time=time,
        warmup_time=warmup_time,
        num_streams=num_streams or None,  # the original: "if num_streams:", 0 is not given
        sequence_length=sequence_length or None,  # "if not sequence_length:" infers it
        input_ids_length=input_ids_length if input_ids_length is not None else 1,
        thread_pinning=_original_pinning(thread_pinning),
        engine=engine,
        internal_kv_cache=None if internal_kv_cache else False,
        export_path=export_path,
        disable_kv_cache_overrides=disable_kv_cache_overrides,
        num_kv_cache_tokens=None if num_kv_cache_tokens == 1 else num_kv_cache_tokens,
    )
    return deepsparse_document(run(settings))


def _original_scenario(name: str) -> str:
    """The scenario as deepsparse 1.8.0's ``parse_scenario`` reads ``name`` (lower-cased)."""
    key = name.lower() if isinstance(name, str) else name
    if key in SCENARIOS or key in SCENARIO_ALIASES:
        return key
    log.warning("unknown scenario %r: running async, as deepsparse.benchmark did", name)
    return "async"


def _original_pinning(mode: str) -> str:
    """The pinning as deepsparse 1.8.0's ``decide_thread_pinning`` reads ``mode``: lower-cased;
    ``pinning_mode in "none"`` there, so any part of "none" (``""``, ``"no"``) turns it off."""
    key = mode.lower() if isinstance(mode, str) else mode
    if key in PINNING_MODES:
        return key
    if isinstance(key, str) and key in "none":
        return "none"
    log.warning("unknown thread pinning %r: pinning to cores (core)", mode)
    return "core"


def find_qps(
    model: str | None = None,
    settings: RunSettings | None = None,
    *,
    latency_slo_ms: float | None = None,
    ttft_slo_ms: float | None = None,
    tpot_slo_ms: float | None = None,
    percentile: float = SearchSettings.percentile,
    max_trials: int = SearchSettings.qps_max_trials,
    tolerance: float = SearchSettings.qps_tolerance,
    **kwargs: Any,
) -> Result:
    """The highest server rate whose ``percentile`` latency meets ``latency_slo_ms``; with
    ``scenario="generate"``, the highest rate of generation requests whose time to first token
    and time per output token meet ``ttft_slo_ms`` and ``tpot_slo_ms`` (either or both).

    The other keywords are ``benchmark()``'s (``time`` bounds each trial and is the final run's
    length; ``num_streams`` may be ``"auto"``); ``max_trials`` and ``tolerance`` bound the
    bisection. Returns the final server run at the rate found,
    its ``config.find_qps`` holding the search; RunError when no rate meets the target. See
    ``pinbench.search.find_qps``.

    Example::

        >>> r = find_qps("squeezenet", latency_slo_ms=20, time=3, warmup_time=0.5)  # doctest: +SKIP
        >>> r.config.find_qps.best_qps  # doctest: +SKIP
        >>> find_qps("decoder.onnx", scenario="generate", new_tokens=16, ttft_slo_ms=2000,
        ...          tpot_slo_ms=100)  # doctest: +SKIP
    """
    kwargs.setdefault("scenario", "server")
    s = _settings(model, settings, kwargs)
    search = dataclasses.replace(
        s.search,
        find_qps=True,
        latency_slo_ms=latency_slo_ms,
        ttft_slo_ms=ttft_slo_ms,
        tpot_slo_ms=tpot_slo_ms,
        percentile=percentile,
        qps_max_trials=max_trials,
        qps_tolerance=tolerance,
    )
    return run(dataclasses.replace(s, search=search))


def run_sweep(
    model: str | None = None,
    settings: RunSettings | None = None,
    *,
    batch_sizes: Sequence[int] = SweepSettings.batch_sizes,
    streams: Sequence[int] | None = None,
    latency_slo_ms: float | None = None,
    percentile: float = SweepSettings.percentile,
    models: Sequence[str] = (),
    engines: Sequence[str | type] = (),
    cores: Sequence[int | str] = (),
    scenarios: Sequence[str] = (),
    csv_path: str | None = None,
    csv_dir: str | None = None,
    **kwargs: Any,
) -> Sweep[Result]:
    """Every configuration of models x engines x cores x scenarios x batch sizes x streams run
    as one benchmark; each model's table, Pareto frontier and best point (see
    ``pinbench.search.sweep_frontier``). Keywords as for ``benchmark()``; ``time`` defaults to
    ``settings.SWEEP_TIME_S`` (5 s) and ``warmup_time`` to ``SWEEP_WARMUP_S`` (1 s) per point.
    An empty axis takes the base settings' value (``model``, ``engine=``, ``num_cores=``,
    ``scenario=``); ``cores`` may hold ``"max"``. ``export_path``
    writes the sweep's JSON, ``csv_path`` one CSV of every point (deepsparse.benchmark_sweep's
    columns), ``csv_dir`` one CSV per model.

    Example::

        >>> s = run_sweep("squeezenet", batch_sizes=[1, 4], streams=[1, 2])  # doctest: +SKIP
        >>> s.points[s.best].num_streams  # doctest: +SKIP
    """
    kwargs.setdefault("time", SWEEP_TIME_S)
    kwargs.setdefault("warmup_time", SWEEP_WARMUP_S)
    export = kwargs.pop("export_path", None)
    if model is None and settings is None and models:
        model = models[0]
    grid = SweepSettings(
        _settings(model, settings, kwargs),
        batch_sizes=tuple(batch_sizes),
        streams=None if streams is None else tuple(streams),
        latency_slo_ms=latency_slo_ms,
        percentile=percentile,
        models=tuple(models),
        engines=tuple(engines),
        cores=tuple(cores),
        scenarios=tuple(scenarios),
    )
    return sweep(grid, export_path=export, csv_path=csv_path, csv_dir=csv_dir)


def sweep(
    grid: SweepSettings,
    *,
    export_path: str | None = None,
    csv_path: str | None = None,
    csv_dir: str | None = None,
    plot: str | None = None,
) -> Sweep[Result]:
    """Runs a sweep: validated, its grid and outputs checked before anything runs, then its
    JSON (``export_path``), CSV (``csv_path``, ``csv_dir``) and plot written, also after an
    interrupt (the points measured so far)."""
    grid = grid.validate()
    if grid.fleet is not None:
        return _fleet_sweep(grid, SweepOutputs(export_path, csv_path, csv_dir, plot))
    checked = check_grid(grid)
    outputs = SweepOutputs(export_path, csv_path, csv_dir, plot)
    stamp = outputs.check(checked.models, model_files(checked.models, grid.base.inputs.data))
    result = search_grid(grid, checked)
    outputs.write(result, stamp)
    return result


def _fleet_sweep(grid: SweepSettings, outputs: SweepOutputs) -> Sweep[Result]:
    """A sweep on a cluster (``pinbench.search.fleet``): the grid is checked on each host, the
    JSON rewritten as each point arrives, every output written at the end (also after Ctrl-C).

    Example::

        >>> fleet = pinbench.FleetSettings("ray://10.0.0.5:10001", mode="every-host")
        >>> grid = dataclasses.replace(grid, fleet=fleet)
        >>> pinbench.api.sweep(grid, export_path="fleet.json")  # doctest: +SKIP
    """
    assert grid.fleet is not None
    models = expand_models(grid.models)
    inputs = model_files(models, grid.base.inputs.data)
    own = fleet_outputs(grid.fleet)
    missing = [Path(o.path) for o in own if not Path(o.path).exists()]
    stamp = outputs.check(models, inputs, own)  # guarded first, whether or not the extra is here
    try:
        require_extra(grid.fleet)
    except UsageError:
        for folder in missing:  # the guard made it: a run that never started leaves nothing
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise

    def arrived(partial: Sweep[Result]) -> None:
        outputs.write_json(partial)

    backend = connect(grid)
    try:
        result = run_fleet(grid, backend, arrived)
    finally:
        backend.close()
    outputs.write(result, stamp)
    return result


def ab(
    a: RunSettings,
    b: RunSettings,
    *,
    rounds: int = AbSettings.rounds,
    metric: str = AbSettings.metric,
    alpha: float = AbSettings.alpha,
    flags: tuple[str, str] = ("", ""),
    export_path: str | None = None,
) -> AbResult[Result]:
    """An interleaved A/B comparison of two settings (ABBA... rounds; see
    ``pinbench.result.ab_record``); writes its JSON to ``export_path`` when given. ``rounds``,
    ``metric`` and ``alpha`` are ``AbSettings``' and checked by it, as the command line's are.

    Example::

        >>> a = pinbench.RunSettings.from_kwargs("squeezenet", time=1, num_streams=1)
        >>> b = dataclasses.replace(a, layout=dataclasses.replace(a.layout, num_streams=2))
        >>> pinbench.ab(a, b, rounds=4).comparison.ratio  # doctest: +SKIP
    """
    a, b = a.validate(), b.validate()
    if a.outputs.profile or b.outputs.profile:
        raise UsageError("--profile applies to one benchmark (pinbench MODEL), not to pinbench ab")
    AbSettings(rounds=rounds, metric=metric, alpha=alpha).validate()
    if export_path:
        inputs = model_files([a.model, b.model], None, known_only=True, what="the model")
        inputs += [("the --data file", Path(x.inputs.data)) for x in (a, b) if x.inputs.data]
        check_ab_output(export_path, inputs)
    result = run_ab(a, b, rounds=rounds, metric=metric, alpha=alpha, flags=flags)
    if export_path:
        write_ab_output(result, export_path)
    return result


def json_document(result: Result) -> dict[str, Any]:
    """The JSON that ``-x`` writes for ``result``, as a dict (see ``pinbench.result.schema.run``).

    Example: ``pinbench.json_document(r)["pinbench"]["config"]["num_streams"]``.
    """
    return write_run(result)


def _settings(
    model: str | None, settings: RunSettings | None, kwargs: dict[str, Any]
) -> RunSettings:
    if settings is None:
        if model is None:
            raise TypeError("benchmark() needs a model or a RunSettings")
        return RunSettings.from_kwargs(model, **kwargs)
    s = settings.with_kwargs(**kwargs)
    return dataclasses.replace(s, model=model) if model is not None else s
