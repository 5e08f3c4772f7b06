"""RunSettings: every knob of one run, the settings groups of ``settings.groups`` together, and
its ``validate()``.

Example::

    >>> RunSettings.from_kwargs("m.onnx", time=1.0).measure.time
    1.0
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..base.errors import UsageError
from .checks import positive_int
from .groups import (
    EngineSettings,
    GenerationSettings,
    InputSettings,
    KvCacheSettings,
    LayoutSettings,
    MeasureSettings,
    OutputSettings,
    SearchSettings,
    ServerSettings,
)
from .validation import (
    validate_engine,
    validate_generation,
    validate_inputs,
    validate_kv_cache,
    validate_layout,
    validate_measure,
    validate_search,
    validate_server,
)


@dataclass(frozen=True)
class RunSettings:
    """Every knob of one benchmark run (see the module docstring)."""

    model: str  # ONNX file, folder with model.onnx, built-in name, zoo:..., hf:...
    inputs: InputSettings = field(default_factory=InputSettings)
    measure: MeasureSettings = field(default_factory=MeasureSettings)
    layout: LayoutSettings = field(default_factory=LayoutSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    outputs: OutputSettings = field(default_factory=OutputSettings)
    kv_cache: KvCacheSettings = field(default_factory=KvCacheSettings)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    command_line: tuple[str, ...] = ()  # as typed, for the record; () = this process's argv

    @classmethod
    def from_kwargs(cls, model: str, **kwargs: Any) -> RunSettings:
        """Settings from ``benchmark()``'s flat keyword names (``time=``, ``scenario=``, ...).

        Raises TypeError for a keyword that is not a setting, as a function call would.
        """
        return cls(model=model).with_kwargs(**kwargs)

    def with_kwargs(self, **kwargs: Any) -> RunSettings:
        """A copy with the flat keywords of ``from_kwargs`` applied."""
        groups: dict[str, dict[str, Any]] = {}
        top: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key in _TOP_LEVEL:
                top[key] = tuple(value) if key == "command_line" else value
                continue
            group = _GROUP_OF.get(key)
            if group is None:
                raise TypeError(f"unknown setting {key!r}")
            if key == "providers" and value is not None:
                value = tuple(value)
            groups.setdefault(group, {})[key] = value
        changed = {g: dataclasses.replace(getattr(self, g), **v) for g, v in groups.items()}
        return dataclasses.replace(self, **changed, **top)

    @property
    def generates(self) -> bool:
        """True when the streams run generation requests (``-s generate``; with ``--qps`` they
        arrive open-loop, as the server scenario's queries do)."""
        return self.layout.scenario == "generate"

    @property
    def open_loop(self) -> bool:
        """True when queries (or requests) arrive at ``--qps`` rather than back to back."""
        return self.server.qps is not None and self.layout.scenario in ("server", "generate")

    @property
    def auto_streams(self) -> bool:
        """True when ``-nstreams auto`` asks the probes to choose."""
        return isinstance(self.layout.num_streams, str)

    @property
    def fixed_streams(self) -> int | None:
        """The number of streams asked for, or None for auto and the scenario's default."""
        n = self.layout.num_streams
        return None if isinstance(n, str) else n

    def validate(self) -> RunSettings:
        """Every value checked (UsageError, one line); returns the normalised settings."""
        if not isinstance(self.model, str) or not self.model.strip():
            raise UsageError("no model given; pass an .onnx file, a folder, or a built-in name")
        layout = validate_layout(self.layout)
        validate_inputs(self.inputs)
        validate_kv_cache(self.kv_cache, self.inputs.sequence_length)
        validate_generation(self.generation, layout)
        measure = validate_measure(self.measure)
        validate_engine(self.engine)
        positive_int(self.outputs.profile_iterations, "--profile-iterations")
        validate_search(self.search, layout.scenario, self.server)
        if not self.search.find_qps:  # the search sets the rate itself
            validate_server(self.server, layout.scenario)
        return dataclasses.replace(self, layout=layout, measure=measure)

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values (an engine given as a class by its name)."""
        out: dict[str, Any] = {"model": self.model}
        for name in _GROUPS:
            out[name] = dataclasses.asdict(getattr(self, name))
        engine = self.engine.engine
        if isinstance(engine, type):
            out["engine"]["engine"] = f"{engine.__module__}.{engine.__qualname__}"
        out["engine"]["providers"] = list(self.engine.providers)
        out["command_line"] = list(self.command_line)
        return out


_TOP_LEVEL = ("command_line",)
_GROUPS = {
    "inputs": InputSettings,
    "measure": MeasureSettings,
    "layout": LayoutSettings,
    "engine": EngineSettings,
    "server": ServerSettings,
    "search": SearchSettings,
    "outputs": OutputSettings,
    "kv_cache": KvCacheSettings,
    "generation": GenerationSettings,
}
_GROUP_OF = {f.name: g for g, cls in _GROUPS.items() for f in dataclasses.fields(cls)}
