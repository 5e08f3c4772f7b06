"""``--profile DIR``: a profiled pass after the measured window, so that the timed figures stay
clean of the profiler's cost.

The pass builds fresh instances with the engine's profiler on (a fresh engine whose
``EngineOptions.profile_dir`` is DIR; instances built for the window could not turn it on
afterwards), on the run's own layout: the same streams on the same pinned threads, the same
instance plan. Each stream then steps its instance ``--profile-iterations`` times (no warmup:
the engine counts each stream's N inferences after ``bind()``'s first calls), and the
engine reads its profiler's figures (``Engine.profile_results``). An engine without a profiler
(``Engine.profiler == ""``: DeepSparse, user engines unless they say otherwise) runs no pass; a
pass that fails is recorded and warned of, never costing the measured result.

Example::

    >>> with prepare(settings) as p:  # doctest: +SKIP
    ...     result = with_profile(p, settings, execute(p, settings, layout_for(p, settings)))
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from ..base import allocator
from ..base.errors import PinbenchError, RunError, one_line
from ..base.logs import log
from .assemble import profile_figures
from .execute import engine_failure, layout_for, spinning_of
from .instances import step_factory
from .measure import StreamError, measure

if TYPE_CHECKING:
    from ..base.profiling import OperatorProfile
    from ..result.measurement import Measurement
    from ..result.profile import Profile
    from ..result.record import Result
    from ..settings import RunSettings
    from .layout import Layout
    from .prepare import Prepared


def with_profile(prepared: Prepared, settings: RunSettings, result: Result) -> Result:
    """``result`` with the profile of a pass on its layout (its streams as run)."""
    layout = layout_for(prepared, settings, num_streams=result.config.num_streams)
    return dataclasses.replace(result, profile=profile_pass(prepared, settings, layout))


def profile_pass(prepared: Prepared, settings: RunSettings, layout: Layout) -> Profile:
    """The profiled pass of ``layout`` (see the module docstring)."""
    out, cls = settings.outputs, prepared.engine_class
    assert out.profile is not None  # the caller checks
    directory, iterations = out.profile, out.profile_iterations
    started = time.monotonic()
    if not cls.profiler:
        reason = f"engine {cls.name} has no per-operator profiler"
        log.info("--profile: %s; no profiled pass", reason)
        return profile_figures(None, directory, cls.name, "", iterations, reason=reason)
    log.info(
        "--profile: %d iterations per stream on fresh profiled instances, %s, into %s",
        iterations,
        cls.profiler,
        directory,
    )
    try:
        m, raw = _run_pass(prepared, settings, layout)
    except KeyboardInterrupt as e:  # outside the runner (which returns what it measured)
        return profile_figures(
            None, directory, cls.name, cls.profiler, iterations, reason="interrupted",
            interrupt=type(e).__name__,
        )  # fmt: skip
    except PinbenchError as e:
        log.warning("--profile: the profiled pass failed: %s", e)
        return profile_figures(
            None, directory, cls.name, cls.profiler, iterations, reason=f"failed: {e}"
        )
    if m.interrupted:
        reason = "interrupted"
    else:
        reason = "" if raw is not None else "the engine reported nothing"
    return profile_figures(
        raw,
        directory,
        cls.name,
        cls.profiler,
        iterations,
        measurement=m,
        seconds=time.monotonic() - started,
        reason=reason,
        interrupt=m.interrupt if m.interrupted else None,
    )


def _run_pass(
    prepared: Prepared, settings: RunSettings, layout: Layout
) -> tuple[Measurement, OperatorProfile | None]:
    out = settings.outputs
    options = dataclasses.replace(prepared.engine_options, profile_dir=out.profile)
    engine = prepared.engine_class(prepared.model, options)
    engine.prepare(layout, batch_size=prepared.batch_size, input_shapes=prepared.shapes)
    make_step = step_factory(
        engine, layout, prepared.make_inputs, spinning=spinning_of(settings, layout)
    )
    try:
        m = measure(
            make_step,
            streams=layout.num_streams,
            cpus=[list(s.cpus) for s in layout.streams],
            warmup=0.0,
            duration=None,
            iterations=out.profile_iterations,
            iteration_timeout=settings.measure.iteration_timeout,
            seed=settings.inputs.seed,
        )
    except StreamError as e:
        raise engine_failure(e) from e.error
    finally:
        allocator.built()
    try:  # the profiler's files are read (and, for ONNX Runtime, written) even when interrupted
        return m, engine.profile_results(out.profile_iterations)
    except Exception as e:
        raise RunError(f"reading the {engine.name} profile: {one_line(e)}") from e
