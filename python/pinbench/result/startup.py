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
    ("model", "the model resolved and read, overrides written, inputs planned, engine found"),
    ("searches", "what ran before the final layout: -nstreams auto probes, --find-qps trials"),
    ("engine", "the engine made and prepared on the main thread (its library imported)"),
    ("instances", "the instances built and the inputs made and bound, on the stream threads"),
    ("warmup", "the warmup (-w)"),
)


@dataclass
class StartMarks:
    """Where a run's start-up is counted from, and the marks taken on the way (name -> ns).

    ``origin`` is ``"process start"`` (the command line: the kernel's start time of the
    process) or ``"call"`` (the API: when ``benchmark()`` was called). Marks are set once each,
    by the layer that reaches them (``mark``); a part whose mark is missing is not reported.
    """

    origin: str
    origin_ns: int
    marks: dict[str, int] = field(default_factory=dict)

    def mark(self, name: str, ns: int) -> None:
        """Sets mark ``name`` (one of STARTUP_PARTS) to ``ns``, replacing an earlier one."""
        self.marks[name] = ns


@dataclass(frozen=True)
class Startup:
    """The start-up of a run, as assembled.

    ``seconds_to_first_iteration``: from the origin to the first measured iteration (the
    measure barrier's release, after the warmup); ``seconds_to_first_warmup_iteration``: to the
    first iteration of all (before the warmup). ``parts``: (name, seconds) in the order of
    STARTUP_PARTS, each from the previous mark; they add up to the first figure.
    """

    origin: str
    seconds_to_first_iteration: float
    seconds_to_first_warmup_iteration: float
    parts: tuple[tuple[str, float], ...]
