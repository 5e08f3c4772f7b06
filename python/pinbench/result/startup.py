"""How long a run took to start: from the command (or the API call) to its first measured
iteration, in parts. Plain records; the figures are computed in ``pinbench.run.assemble``.

Every mark is a CLOCK_MONOTONIC time in ns (``time.monotonic_ns()``, the clock of the runner's
``_core.now_ns()``), so marks taken in Python and in the runner compare directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The parts, in order: each runs from the mark before it (the origin for the first) to its own.
STARTUP_PARTS: tuple[tuple[str, str], ...] = (
    ("interpreter", "the interpreter started and pinbench's command began"),
    ("imports", "pinbench's modules imported and the settings checked"),
    (
        "resolve",
        "the machine read, the engine found, the model resolved (a file, a folder, a "
        "built-in name, a zoo: or hf: download)",
    ),
    ("model", "the model read, overrides written, inputs planned"),
    ("searches", "what ran before the final layout: -nstreams auto probes, --find-qps trials"),
    ("engine", "the engine made and prepared on the main thread (its library imported)"),
    ("instances", "the instances built and the inputs made and bound, on the stream threads"),
    ("warmup", "the warmup (-w)"),
)


@dataclass
class StartMarks:
    """Where a run's start-up is counted from, and the marks taken on the way (name -> ns).

    ``origin`` is ``"process start"`` (the command line: the kernel's start time of the
    process, when it stands for the exec of pinbench: ``base.process.exec_start_ns``),
    ``"command start"`` (the command line when it does not: pinbench's command began, the
    interpreter's share ``unknown``) or ``"call"`` (the API: when ``benchmark()`` was called).
    Marks are set once each, by the layer that reaches them (``mark``); a part whose mark is
    missing is not reported.
    """

    origin: str
    origin_ns: int
    marks: dict[str, int] = field(default_factory=dict)
    unknown: tuple[str, ...] = ()  # parts that cannot be measured: before the origin

    def mark(self, name: str, ns: int) -> None:
        """Sets mark ``name`` (one of STARTUP_PARTS) to ``ns``, replacing an earlier one."""
        self.marks[name] = ns


@dataclass(frozen=True)
class InstanceBuild:
    """One engine instance's ``create_instance()`` on a stream thread (ns on the monotonic
    clock; RSS in bytes, None when unreadable), as ``pinbench.run.instances`` records it."""

    index: int
    stream: int  # the stream whose thread built it
    start_ns: int
    end_ns: int
    rss_before_bytes: int | None
    rss_after_bytes: int | None
    overlapped: bool  # another stream's factory ran during it (see result.memory)


@dataclass(frozen=True)
class StreamBind:
    """One stream's factory on its thread: from its start (``start_ns``: its instance built or
    waited for) to its inputs made (``bind_start_ns``) and bound (``end_ns``); the calls of its
    step that ``bind()`` ran first, each timed (``Engine.check_step``; () when the engine did
    not time them)."""

    stream: int
    instance: int
    start_ns: int
    bind_start_ns: int
    end_ns: int
    first_inferences_ns: tuple[int, ...]


@dataclass(frozen=True)
class InstanceStartup:
    """How long one instance took to create, on the thread of the stream that built it: an ONNX
    Runtime session made, an OpenVINO model compiled, a DeepSparse engine compiled."""

    index: int
    built_by: int  # the stream
    seconds: float


@dataclass(frozen=True)
class StreamStartup:
    """One stream's factory: ``seconds`` from its start (building its instance, or waiting for a
    shared one) to its step made; ``bind_seconds`` of them in ``bind()`` (inputs bound and the
    first inferences run); ``first_inferences_ms``: each first call of its step, timed (the
    first one cold), () when the engine did not time them."""

    index: int
    instance: int
    seconds: float
    bind_seconds: float
    first_inferences_ms: tuple[float, ...]


@dataclass(frozen=True)
class Startup:
    """The start-up of a run, as assembled.

    ``seconds_to_first_iteration``: from the origin to the first measured iteration (the
    measure barrier's release, after the warmup); ``seconds_to_first_warmup_iteration``: to the
    first iteration of all (before the warmup). ``parts``: (name, seconds) in the order of
    STARTUP_PARTS, each from the previous mark; they add up to the first figure. ``instances``
    and ``streams``: the "instances" part in detail, per instance and per stream.
    """

    origin: str
    seconds_to_first_iteration: float
    seconds_to_first_warmup_iteration: float
    parts: tuple[tuple[str, float], ...]
    instances: tuple[InstanceStartup, ...] = ()
    streams: tuple[StreamStartup, ...] = ()
    unknown_parts: tuple[str, ...] = ()  # before the origin, not measured ("interpreter")
