"""benchmark(): a model, an engine and a scenario, measured on pinned stream threads.

Example::

    >>> import pinbench
    >>> r = pinbench.benchmark("squeezenet", scenario="async", time=1, warmup_time=0.5)
    >>> print(f"{r.items_per_sec:.1f} items/s, median {r.latency.median:.3f} ms")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import math
import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .errors import RunError, UsageError
from .results import RunConfig, check_export_path, write_json_atomic

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import numpy as np

    from .measurement import Measurement
    from .models import LoadedModel
    from .results import Result
    from .scenarios import Layout

log = logging.getLogger("pinbench")

DEFAULT_ENGINE = "onnxruntime"


def benchmark(
    model: str,
    *,
    batch_size: int | None = None,
    input_shapes: str = "",
    num_cores: int | None = None,
    scenario: str = "async",
    time: float = 10.0,
    warmup_time: float = 2.0,
    num_streams: int | str | None = None,
    thread_pinning: str = "core",
    engine: str | type[Any] = DEFAULT_ENGINE,
    export_path: str | None = None,
    export_samples: str | None = None,
    seed: int = 0,
    data: str | None = None,
    sequence_length: int | None = None,
    providers: Sequence[str] = (),
    graph_optimization: str = "all",
    spinning: bool | None = None,
    precision: str | None = None,
    smt: bool = False,
    max_samples: int | None = None,
    iteration_timeout: float | None = None,
    command_line: Sequence[str] | None = None,
    on_start: Callable[[float, float], None] | None = None,
    qps: float | None = None,
    arrivals: str = "poisson",
    probe_time: float = 1.0,
) -> Result:
    """Benchmarks ``model`` and returns a Result; writes the JSON to ``export_path`` if given.

    ``model`` is an ONNX file, a folder holding ``model.onnx``, a built-in name (``squeezenet``,
    ``resnet50``, ...), ``zoo:`` or ``hf:org/repo[/file.onnx]``. The other arguments mean what the
    deepsparse.benchmark flags of the same names mean; ``time`` and ``warmup_time`` take fractions.
    ``batch_size`` sets dim 0 of every input. None leaves the model's dims as they are (free
    ones get the documented defaults, batch 1); the batch that ``items_per_sec`` counts is then
    dim 0 of the first input as run. ``export_samples`` (``.npz`` or ``.csv``)
    receives every measured iteration's stream, start and end (see ``pinbench.samples``).
    ``engine`` is a name (``onnxruntime``, ``openvino``, ``deepsparse``, one registered under the
    ``pinbench.engines`` entry points), ``file.py:Class``, ``module:Class``, or a class;
    ``precision`` is OpenVINO's inference precision (default f32).
    ``scenario="server"`` issues ``qps`` queries per second open-loop (``arrivals`` poisson, seeded
    by ``seed``, or uniform; see ``pinbench.server``); ``num_streams="auto"`` picks the streams by
    probes of ``probe_time`` seconds (see ``pinbench.tuning``).
    Usage errors raise UsageError, engine failures RunError, both with a one-line message.
    """
    from . import pinning
    from .engines import engine_class
    from .engines.base import EngineOptions
    from .measurement import StreamError, measure
    from .models import load_model
    from .scenarios import parse_scenario, plan_layout, step_factory
    from .server import server_settings
    from .server import warnings_for as server_warnings
    from .tuning import split_num_streams

    fixed_streams, auto = split_num_streams(num_streams)
    _check_numbers(batch_size, time, warmup_time, num_cores, fixed_streams)
    server = server_settings(parse_scenario(scenario), qps, arrivals, seed)
    arrivals_ns = server.schedule(time) if server is not None else None
    # Without -b the model keeps its own dims (free ones get the documented defaults, batch 1),
    # and the batch that items/sec counts is dim 0 of the first input as run.
    override_batch = batch_size
    if export_path:
        check_export_path(export_path)
    if export_samples:
        from .samples import check_samples_path

        check_samples_path(export_samples)
    topo = pinning.topology()
    cls = engine_class(engine)

    def layout_for(streams: int | None) -> Layout:
        return plan_layout(
            scenario,
            topo,
            num_cores=num_cores,
            num_streams=streams,
            pinning=thread_pinning,
            smt=smt,
            shared=cls.schedules_streams,
        )

    layout = layout_for(fixed_streams)
    if not auto:
        log.info("num_streams %d: %s", layout.num_streams, layout.num_streams_reason)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")

    with load_model(model, batch_size=override_batch, input_shapes=input_shapes or None) as loaded:
        log.info("model %s: %s", loaded.orig_path, loaded.describe_inputs())
        make_inputs, shapes, source = _input_maker(
            loaded, data, override_batch or 1, seed, sequence_length
        )
        batch = override_batch or _batch_of(shapes)
        log.info("inputs %s: %s", source, ", ".join(f"{k}{v}" for k, v in shapes.items()))
        options = EngineOptions(tuple(providers), graph_optimization, spinning, precision)
        tuned = None
        if auto:
            from .tuning import auto_layout, make_prober

            layout, tuned = auto_layout(
                layout,
                layout_for,
                make_prober(
                    cls,
                    loaded,
                    options,
                    batch_size=batch,
                    input_shapes=shapes,
                    make_inputs=make_inputs,
                    spinning=spinning,
                    iteration_timeout=iteration_timeout,
                    seed=seed,
                ),
                batch_size=batch,
                probe_time=probe_time,
                warmup=warmup_time,
            )
            log.info("num_streams %d: %s", layout.num_streams, layout.num_streams_reason)
        eng = cls(loaded, options)
        eng.prepare(layout, batch_size=batch, input_shapes=shapes)
        spin = spinning if spinning is not None else layout.scenario == "sync"
        make_step = step_factory(eng, layout, make_inputs, spinning=spin)
        for i, slot in enumerate(layout.streams):
            log.info(
                "stream %d: cpus %s, %d engine thread(s)",
                i,
                _cpus(slot.cpus),
                slot.threads,
            )
        log.info(
            "%s on %s, %d stream(s), %s for %g s after %g s of warmup",
            layout.scenario,
            cls.name,
            layout.num_streams,
            thread_pinning,
            time,
            warmup_time,
        )
        if on_start is not None:
            on_start(warmup_time, time)
        env = _environment()  # before the run: the load average at the start
        wall_start, steady_start = _clocks()
        try:
            m = measure(
                make_step,
                streams=layout.num_streams,
                cpus=[list(s.cpus) for s in layout.streams],
                warmup=warmup_time,
                duration=time,
                max_samples=max_samples,
                iteration_timeout=iteration_timeout,
                arrivals_ns=arrivals_ns,
                seed=seed,
            )
        except StreamError as e:
            raise _engine_failure(e) from e.error
        wall_end, steady_end = _clocks()
        marks = {
            "wall_start_ns": wall_start,
            "wall_end_ns": wall_end,
            "steady_start_ns": steady_start,
            "steady_end_ns": steady_end,
        }
        config = _run_config(
            loaded,
            layout,
            eng,
            batch,
            input_shapes,
            shapes,
            source,
            time,
            warmup_time,
            seed,
            command_line,
            started,
        )
        config = dataclasses.replace(config, server=server, auto_streams=tuned)
        samples = _samples_reference(export_samples, export_path)
        result = _result(config, m, env, marks, [list(c.cpus) for c in topo.cores], samples)
        for warning in server_warnings(result):
            log.warning("server: %s", warning)
    if m.iterations == 0 and not m.interrupted:
        raise RunError(
            "no iteration finished in the measured window; extend the benchmark time with -t"
        )
    if export_samples:
        from .samples import write_samples

        write_samples(m, export_samples)
        log.info("samples written to %s", export_samples)
    if export_path:
        write_json_atomic(result.to_dict(), export_path)
        log.info("results written to %s", export_path)
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
) -> dict[str, Any]:
    """deepsparse.benchmark's ``benchmark_model``: same arguments, returns the original's dict.

    Example::

        >>> d = pinbench.benchmark_model("squeezenet", time=1)
        >>> d["benchmark_result"]["items_per_sec"]  # doctest: +SKIP
    """
    if quiet:
        logging.getLogger("pinbench").setLevel(logging.WARNING)
    result = benchmark(
        model_path,
        batch_size=batch_size,
        input_shapes=input_shapes,
        num_cores=num_cores,
        scenario=scenario,
        time=time,
        warmup_time=warmup_time,
        num_streams=num_streams,
        thread_pinning=thread_pinning,
        engine=engine,
        export_path=export_path,
        sequence_length=sequence_length,
    )
    return result.to_deepsparse_dict()


def _batch_of(shapes: dict[str, list[int]]) -> int:
    """The batch of inputs as run: dim 0 of the first input (1 for a scalar)."""
    first = next(iter(shapes.values()), [])
    return first[0] if first else 1


def _check_numbers(
    batch_size: int | None,
    time: float,
    warmup: float,
    num_cores: int | None,
    num_streams: int | None,
) -> None:
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise UsageError(f"batch size must be at least 1, got {batch_size}")
    if not (math.isfinite(time) and time > 0):
        raise UsageError(f"time must be more than 0 seconds, got {time}")
    if not (math.isfinite(warmup) and warmup >= 0):
        raise UsageError(f"warmup time must be 0 seconds or more, got {warmup}")
    if num_cores is not None and num_cores < 1:
        raise UsageError(f"number of cores must be at least 1, got {num_cores}")
    if num_streams is not None and num_streams < 1:
        raise UsageError(f"number of streams must be at least 1, got {num_streams}")


def _cpus(cpus: Sequence[int]) -> str:
    from . import _core

    return _core.format_cpu_list(list(cpus)) if cpus else "any (not pinned)"


def _input_maker(
    model: LoadedModel, data: str | None, batch_size: int, seed: int, seq_len: int | None
) -> tuple[Callable[[int], dict[str, np.ndarray]], dict[str, list[int]], str]:
    """(make_inputs(stream), shapes, source). Inputs are made (or copied) on each stream thread,
    so their memory is first touched on that stream's NUMA node."""
    from .inputs import generate_inputs, load_inputs

    if data:
        given = load_inputs(data, model)
        return (
            lambda i: {k: v.copy() for k, v in given.items()},
            {k: list(v.shape) for k, v in given.items()},
            f"from {data}",
        )
    # Generated once here, to validate and report; each stream regenerates the same on its thread.
    sample = generate_inputs(model, batch_size=batch_size, seed=seed, seq_len=seq_len)
    return (
        lambda i: generate_inputs(model, batch_size=batch_size, seed=seed, seq_len=seq_len),
        {k: list(v.shape) for k, v in sample.items()},
        f"generated (seed {seed})",
    )


def _engine_failure(e: Exception) -> Exception:
    from .errors import PinbenchError
    from .measurement import StreamError

    assert isinstance(e, StreamError)
    cause = e.error
    if isinstance(cause, PinbenchError):
        err: Exception = type(cause)(f"stream {e.stream}: {cause}")
        return err
    return RunError(str(e))


def _run_config(
    model: LoadedModel,
    layout: Layout,
    engine: Any,
    batch_size: int,
    input_shapes: str,
    shapes: dict[str, list[int]],
    source: str,
    time: float,
    warmup: float,
    seed: int,
    command_line: Sequence[str] | None,
    started: str,
) -> RunConfig:
    from .scenarios import DEEPSPARSE_SCENARIO
    from .shapes import parse_input_shapes

    return RunConfig(
        orig_model_path=model.orig_path,
        model_path=str(model.source_path),
        batch_size=batch_size,
        input_shapes=parse_input_shapes(input_shapes) if input_shapes else None,
        resolved_input_shapes=shapes,
        input_source=source,
        num_cores=layout.num_cores,
        scenario=layout.scenario,
        deepsparse_scenario=DEEPSPARSE_SCENARIO[layout.scenario],
        num_streams=layout.num_streams,
        num_streams_reason=layout.num_streams_reason,
        pinning=layout.pinning,
        seconds_to_run=time,
        warmup_seconds=warmup,
        engine_name=engine.name,
        engine_version=engine.version(),
        engine_description=engine.describe(),
        engine_options=engine.options(),
        engine_instances=engine.instances_created,
        scheduler=engine.scheduler(),
        fraction_of_supported_ops=engine.fraction_of_supported_ops(),
        stream_threads=[s.threads for s in layout.streams],
        seed=seed,
        command_line=list(command_line) if command_line is not None else list(sys.argv),
        timestamp=started,
    )


def _result(
    config: RunConfig,
    m: Measurement,
    env: dict[str, Any],
    marks: dict[str, int],
    core_cpus: list[list[int]],
    samples: dict[str, Any] | None,
) -> Result:
    from . import _core
    from .results import Result

    probe = _core.probe_clock(20_000)
    return Result(
        config=config,
        measurement=m,
        environment=env,
        clock={
            "overhead_ns": probe.overhead_ns,
            "resolution_ns": float(probe.resolution_ns),
            **marks,
        },
        core_cpus=core_cpus,
        samples=samples,
    )


def _environment() -> dict[str, Any]:
    from .system import capture_environment

    return capture_environment().to_dict()


def _clocks() -> tuple[int, int]:
    """(wall clock, steady clock) in ns, read together: for the wall-clock cross-check."""
    import time

    from . import _core

    return time.time_ns(), _core.now_ns()


def _samples_reference(samples: str | None, export_path: str | None) -> dict[str, Any] | None:
    from .samples import reference

    return reference(samples, export_path) if samples else None
