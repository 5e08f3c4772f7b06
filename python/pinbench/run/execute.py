"""The second half of a benchmark: a layout planned over a Prepared model, the engine's instances
built on the pinned stream threads, the window measured, the result assembled.

Example::

    >>> with prepare(settings) as p:  # doctest: +SKIP
    ...     result = execute(p, settings, layout_for(p, settings))
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .. import _core
from ..base import allocator
from ..base.arrivals import arrival_schedule
from ..base.errors import PinbenchError, RunError, UsageError, gist
from ..base.logs import log
from ..base.process import read_memory
from ..base.shapes import parse_input_shapes
from ..base.system import available_memory
from ..model.inputs import check_inputs_fit
from ..result.config import KvCacheRecord, RunConfig
from ..result.frequency import measure_frequencies
from ..result.interference import measure_interference
from ..result.samples import reference
from ..result.server import server_warnings
from ..settings import WARMUP_MAX_S
from .assemble import assemble
from .bandwidth import run_bandwidth, with_roofline
from .environment import capture_environment
from .hardware import energy_probe, hardware_counters, with_energy
from .instances import BuildLog, step_factory
from .layout import plan_layout
from .measure import StreamError, measure
from .model_steps import ModelSteps
from .sampler import WindowSampler
from .topology import core_type_of

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from ..engines.base import Engine, Step
    from ..result.measurement import Measurement
    from ..result.record import Result
    from ..result.tuning import StreamTuning
    from ..settings import RunSettings
    from .layout import Layout
    from .prepare import Prepared

OnStart = Callable[[float, float], None]  # (warmup seconds, measured seconds), before the run


class StreamFailed(RunError):
    """A stream failed after the measurement had begun: the one-line error, with what every
    stream had measured until the run stopped (``measurement``; ``engine`` the engine it ran)
    and, once assembled by ``execute``, the partial ``result`` that ``-x`` still writes."""

    def __init__(self, message: str, measurement: Measurement, engine: Engine) -> None:
        super().__init__(message)
        self.measurement = measurement
        self.engine = engine
        self.result: Result | None = None


def layout_for(prepared: Prepared, settings: RunSettings, num_streams: int | None = None) -> Layout:
    """The layout of ``settings`` on this machine; ``num_streams`` overrides the settings' (for
    probes). UsageError when it cannot run here."""
    lay, cls = settings.layout, prepared.engine_class
    return plan_layout(
        lay.scenario,
        prepared.topology,
        num_cores=lay.num_cores,
        num_streams=num_streams if num_streams is not None else settings.fixed_streams,
        pinning=lay.thread_pinning,
        smt=lay.smt,
        shared=cls.schedules_streams,
        instances=lay.instances,
        inline_sharing=cls.shares_inline_instances,
        engine=cls.name,
        isolation=lay.isolation,
    )


@dataclass(frozen=True)
class Window:
    """What the runner needs beyond the layout: phase lengths, caps and arrivals."""

    warmup: float | str  # seconds, or "auto" (until settled, at most warmup_max)
    duration: float
    max_samples: int | None = None
    arrivals_ns: NDArray[np.int64] | None = None
    drain: float | None = None
    warmup_max: float = WARMUP_MAX_S


def checked_engine(prepared: Prepared, layout: Layout) -> Engine:
    """Everything that can be checked before ``layout`` runs, checked: every stream's inputs
    fit in memory (RunError), and a fresh engine of the prepared class accepts its options and
    the layout (UsageError or RunError). Returns that engine, prepared for ``layout``."""
    model, shapes = prepared.model, prepared.shapes
    check_inputs_fit(model, shapes, available_memory(), copies=layout.num_streams)
    check_cache_fits(prepared, layout.num_streams, available_memory())
    engine = prepared.engine_class(model, prepared.engine_options)
    engine.prepare(layout, batch_size=prepared.batch_size, input_shapes=shapes)
    return engine


def check_cache_fits(prepared: Prepared, streams: int, available: int | None) -> None:
    """-s generate: each stream holds two copies of the KV cache at a request's longest
    (``engines.generation``); UsageError when ``streams`` of them need more than ``available``
    bytes of memory (None: unknown, not checked)."""
    request, decoder = prepared.engine_options.generation, prepared.model.decoder
    if request is None or decoder is None or available is None:
        return
    one = 2 * decoder.cache_bytes(prepared.batch_size, request.max_length)
    if one * streams > available:
        raise UsageError(
            f"-s generate's KV cache needs {one / 2**30:.2f} GiB a stream (2 copies of "
            f"{request.max_length} tokens) x {streams}; {available / 2**30:.2f} GiB available: "
            "lower --prompt-tokens, --new-tokens, --depth, -b or -nstreams"
        )


def spinning_of(settings: RunSettings, layout: Layout) -> bool:
    """Whether the engine's threads spin: as asked, else on where one stream has every core
    to itself (sync, and generate with one stream)."""
    spinning = settings.engine.spinning
    if spinning is not None:
        return spinning
    alone = layout.scenario == "generate" and layout.num_streams == 1
    return layout.scenario == "sync" or alone


def calls_per_request(prepared: Prepared) -> int:
    """The runner's unit: a -s generate request's forward passes (1 in other scenarios)."""
    request = prepared.engine_options.generation
    return request.calls if request is not None else 1


def measure_layout(
    prepared: Prepared,
    settings: RunSettings,
    layout: Layout,
    window: Window,
    engine: Engine,
    marks: dict[str, int] | None = None,
    build: BuildLog | None = None,
    on_measure: Callable[[], object] | None = None,
) -> tuple[Engine, Measurement]:
    """``engine`` (from ``checked_engine`` for ``layout``), its instances built on ``layout``'s
    pinned threads (or, with process isolation, in each stream's worker process), measured over
    ``window``. Engine failures raise as one-line errors; StreamFailed once measuring began.
    ``marks`` gets the start-up mark ``engine`` (when the runner started); ``build`` what the
    stream factories did, and the process's memory before them; ``on_measure()`` is called once
    the measured window has opened."""
    spin = spinning_of(settings, layout)
    make_step: Callable[[int], Step] = (
        ModelSteps.of(prepared, settings.engine.engine, layout, spin)
        if layout.isolation == "process"
        else step_factory(engine, layout, prepared.make_inputs, spinning=spin, log=build)
    )
    if build is not None:
        build.before = read_memory()  # the allocator in its build settings, no instance yet
    if marks is not None:
        marks["engine"] = time.monotonic_ns()
    try:
        m = measure(
            make_step,
            streams=layout.num_streams,
            cpus=[list(s.cpus) for s in layout.streams],
            warmup=window.warmup,
            warmup_max=window.warmup_max,
            duration=window.duration,
            max_samples=window.max_samples,
            iteration_timeout=settings.measure.iteration_timeout,
            arrivals_ns=window.arrivals_ns,
            drain=window.drain,
            seed=settings.inputs.seed,
            isolation=layout.isolation,
            calls_per_unit=calls_per_request(prepared),
            on_measure=_measuring(on_measure),
            counters=settings.measure.counters,
        )
    except StreamError as e:
        failure = engine_failure(e)
        if e.partial is not None and e.partial.iterations > 0:
            raise StreamFailed(str(failure), e.partial, engine) from e.error
        raise failure from e.error
    finally:
        allocator.built()  # also when a factory failed before the last one returned
    return engine, m


def execute(
    prepared: Prepared,
    settings: RunSettings,
    layout: Layout,
    *,
    on_start: OnStart | None = None,
    auto_streams: StreamTuning | None = None,
) -> Result:
    """Runs ``layout`` for ``settings.measure`` and returns the assembled result.

    RunError when no iteration finished (unless interrupted).
    """
    meas, server = settings.measure, settings.server
    arrivals = _arrivals(settings)
    marks: dict[str, int] = {"searches": time.monotonic_ns()}
    engine = checked_engine(prepared, layout)
    bandwidth = run_bandwidth(prepared.topology, layout, meas)  # after the checks, before the run
    prepared.announce()
    _log_plan(layout, prepared, settings)
    if on_start is not None:
        on_start(meas.warmup_bound, meas.time)
    env = capture_environment().to_dict()  # before the run: the load average at the start
    started = _now_iso()
    wall_start, steady_start = time.time_ns(), _core.now_ns()
    window = Window(
        meas.warmup_time, meas.time, meas.max_samples, arrivals, server.drain, meas.warmup_max
    )
    watched = sorted({c for s in layout.streams for c in s.cpus}) or list(prepared.topology.allowed)
    build = BuildLog()
    failed: StreamFailed | None = None
    rapl, idle = energy_probe(meas)  # the idle baseline, when asked: before the instances exist
    with WindowSampler(cpus=watched, rapl=rapl) as sampler:
        try:
            engine, m = measure_layout(
                prepared, settings, layout, window, engine, marks, build, sampler.window_opened
            )
        except StreamFailed as e:
            failed, engine, m = e, e.engine, e.measurement
    peak = read_memory()  # the window's end: before any profiled pass or later run
    start = prepared.start
    for name, ns in marks.items():
        start.mark(name, ns)
    if m.warmup_start_ns and m.measure_start_ns:
        start.mark("instances", m.warmup_start_ns)
        start.mark("warmup", m.measure_start_ns)
    wall_end, steady_end = time.time_ns(), _core.now_ns()
    probe = _core.probe_clock(20_000)
    clock_marks = {
        "overhead_ns": probe.overhead_ns,
        "resolution_ns": float(probe.resolution_ns),
        "wall_start_ns": wall_start,
        "wall_end_ns": wall_end,
        "steady_start_ns": steady_start,
        "steady_end_ns": steady_end,
    }
    config = run_config(prepared, settings, layout, engine, started, auto_streams, m)
    out = settings.outputs
    samples = reference(out.export_samples, out.export_path) if out.export_samples else None
    result = assemble(
        settings,
        config,
        m,
        environment=env,
        clock=clock_marks,
        core_cpus=[list(c.cpus) for c in prepared.topology.cores],
        samples=samples,
        load=measure_interference(
            sampler.readings, sampler.affinity, m.window_ns, [s.cpus for s in m.streams]
        ),
        freq=measure_frequencies(
            sampler.readings,
            m.window_ns,
            sampler.frequency_source,
            {c.id: c.core_type for c in prepared.topology.cpus},
        ),
        start=start,
        build=build,
        peak=peak,
        counters=hardware_counters(m),
    )
    result = with_energy(
        with_roofline(result, bandwidth, prepared.model), rapl, sampler.energy, idle
    )
    if failed is not None:
        failed.result = result  # the partial result, for -x
        raise failed
    if result.server is not None:
        for warning in server_warnings(result.server, meas.time):
            log.warning("server: %s", warning)
    if m.iterations == 0 and not m.interrupted:
        empty = RunError(
            "no iteration finished in the measured window; extend the benchmark time with -t"
        )
        empty.phase = "measure"
        raise empty
    return result


def run_config(
    prepared: Prepared,
    settings: RunSettings,
    layout: Layout,
    engine: Engine,
    started: str,
    auto_streams: StreamTuning | None = None,
    m: Measurement | None = None,
) -> RunConfig:
    """What ran: the layout as planned and the engine as it resolved its options (with process
    isolation, as the workers' engines resolved them: see ``worker_engines``)."""
    model, shapes_text = prepared.model, settings.inputs.input_shapes
    reports = [r for r in (m.extra.get("worker_reports", []) if m else []) if r]
    engine_record = worker_engines(reports) if reports else local_engine(engine)
    return RunConfig(
        orig_model_path=model.orig_path,
        model_path=str(model.source_path),
        batch_size=prepared.batch_size,
        input_shapes=parse_input_shapes(shapes_text) if shapes_text else None,
        resolved_input_shapes=prepared.shapes,
        input_source=prepared.input_source,
        num_cores=layout.num_cores,
        scenario=layout.scenario,
        num_streams=layout.num_streams,
        num_streams_reason=layout.num_streams_reason,
        pinning=layout.pinning,
        seconds_to_run=settings.measure.time,
        warmup_seconds=warmup_seconds(settings, m),
        engine_name=engine.name,
        **engine_record,
        stream_threads=[s.threads for s in layout.streams],
        seed=settings.inputs.seed,
        command_line=list(settings.command_line) or list(sys.argv),
        timestamp=started,
        auto_streams=auto_streams,
        instances=layout.instances,
        isolation=layout.isolation,
        stream_core_types=[core_type_of(prepared.topology, s.cpus) for s in layout.streams],
        kv_cache=kv_cache_record(prepared),
    )


def warmup_seconds(settings: RunSettings, m: Measurement | None) -> float:
    """``config.warmup_seconds``: -w's seconds; with -w auto, those the warmup took (its bound
    before the run)."""
    meas = settings.measure
    if not meas.auto_warmup:
        return meas.warmup_bound
    return m.warmup.seconds if m is not None and m.warmup is not None else meas.warmup_bound


def kv_cache_record(prepared: Prepared) -> KvCacheRecord | None:
    """``pinbench.kv_cache`` of a decoder (None for other models)."""
    model = prepared.model
    decoder, shape = model.decoder, model.kv_shape
    if decoder is None:
        return None
    internal = prepared.engine_options.internal_kv_cache
    request = prepared.engine_options.generation
    nbytes = None
    if shape is not None:
        nbytes = decoder.cache_bytes(prepared.batch_size, shape.past_len)
    elif request is not None:  # the cache at the end of a request
        nbytes = decoder.cache_bytes(prepared.batch_size, request.max_length)
    cache = "internal (DeepSparse)" if internal else "external"
    if prepared.engine_class.name == "onnxruntime-genai":
        cache = "internal (onnxruntime-genai)"  # its generator holds the cache
    return KvCacheRecord(
        convention=decoder.convention,
        cache_inputs=len(decoder.caches),
        cache=cache,
        seq_len=shape.seq_len if shape else None,
        input_ids_len=shape.input_ids_len if shape else None,
        past_len=shape.past_len if shape else None,
        seq_len_source=shape.seq_len_source if shape else None,
        cache_bytes_per_stream=nbytes,
    )


def local_engine(engine: Engine) -> dict[str, Any]:
    """RunConfig's engine fields, from the engine that ran in this process."""
    return {
        "engine_version": engine.version(),
        "engine_description": engine.describe(),
        "engine_options": engine.options(),
        "engine_instances": engine.instances_created,
        "scheduler": engine.scheduler(),
        "fraction_of_supported_ops": engine.fraction_of_supported_ops(),
    }


def worker_engines(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """RunConfig's engine fields from the workers' engines (process isolation): instances
    summed; each option the value every worker resolved, or the list of each worker's in stream
    order where they differ (counts inside the options, such as ``sessions``, are per worker);
    the description, scheduler and supported fraction of the first worker."""
    first = reports[0]
    options: dict[str, Any] = {}
    for key in dict.fromkeys(k for r in reports for k in r["options"]):
        values = [r["options"].get(key) for r in reports]
        options[key] = values[0] if all(v == values[0] for v in values) else values
    return {
        "engine_version": first["version"],
        "engine_description": first["description"],
        "engine_options": options,
        "engine_instances": sum(int(r["instances"]) for r in reports),
        "scheduler": first["scheduler"],
        "fraction_of_supported_ops": first["fraction_of_supported_ops"],
    }


# The runner's phases by how far a run got (``pinbench.phase_reached`` in the JSON).
_PHASE_REACHED = {
    "start": "start",
    "pin": "start",
    "factory": "start",
    "warmup": "warmup",
    "measure": "measure",
}


def engine_failure(e: StreamError) -> Exception:
    """A stream's failure as the one-line error the user sees: the engine's own error with the
    stream named, or RunError (the cause's full text as its ``detail``); ``phase`` says how far
    the run got."""
    cause = e.error
    err: PinbenchError
    if isinstance(cause, PinbenchError):
        err = type(cause)(f"stream {e.stream}: {cause}", detail=cause.detail)
    elif isinstance(cause, MemoryError):
        err = RunError(
            f"stream {e.stream} ran out of memory in its {e.phase} (making its engine instance "
            "and inputs, or running them); use fewer streams (-nstreams) or a smaller -b",
            detail=str(e),
        )
    else:
        err = RunError(gist(e), detail=str(e))
    err.phase = _PHASE_REACHED.get(e.phase, "start")
    return err


def _arrivals(settings: RunSettings) -> NDArray[np.int64] | None:
    """The open loop's arrival schedule (``base.arrivals``); None for a closed loop."""
    server = settings.server
    if not settings.open_loop:
        return None
    assert server.qps is not None  # validated
    return arrival_schedule(
        server.qps, settings.measure.time, distribution=server.arrivals, seed=settings.inputs.seed
    )


def _measuring(then: Callable[[], object] | None) -> Callable[[], None]:
    """The runner's ``on_measure``: the log line, then ``then`` (the sampler's cue)."""

    def opened() -> None:
        _log_measuring()
        if then is not None:
            then()

    return opened


def _log_measuring() -> None:
    # Once the measured window is open and the signal handlers are in place: a reader (a test, a
    # person) may send a signal from here on and be sure it ends the measurement.
    log.info("measuring")


def _log_plan(layout: Layout, prepared: Prepared, settings: RunSettings) -> None:
    log.info("num_streams %d: %s", layout.num_streams, layout.num_streams_reason)
    for i, slot in enumerate(layout.streams):
        cpus = _core.format_cpu_list(list(slot.cpus)) if slot.cpus else "any (not pinned)"
        log.info("stream %d: cpus %s, %d engine thread(s)", i, cpus, slot.threads)
    log.info(
        "%s on %s, %d stream(s), %s for %g s after %s of warmup",
        layout.scenario,
        prepared.engine_class.name,
        layout.num_streams,
        layout.pinning,
        settings.measure.time,
        _warmup_text(settings),
    )


def _warmup_text(settings: RunSettings) -> str:
    meas = settings.measure
    if meas.auto_warmup:
        return f"an auto (at most {meas.warmup_max:g} s)"
    return f"{meas.warmup_bound:g} s"


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
