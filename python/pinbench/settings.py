"""RunSettings: every knob of a run, with its documented default, validated once.

One frozen object goes from the command line (or ``pinbench.benchmark(**kwargs)``) to the runner;
searches derive variants of it with ``dataclasses.replace``. It holds what was *requested*; what
actually ran (streams chosen, CPUs, engine threads) is the result's ``RunConfig``. Both go to the
JSON (``pinbench.requested`` and ``pinbench.config``).

``validate()`` checks every value before anything is loaded and returns the normalised settings
(scenario aliases resolved); it raises UsageError with one line. It does no I/O: whether an output
path can be written is checked by the caller just before the run (``check_outputs``).

Example::

    >>> s = RunSettings.from_kwargs("squeezenet", scenario="sync", time=1.0).validate()
    >>> s.layout.scenario, s.measure.time, s.measure.warmup_time
    ('sync', 1.0, 2.0)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Union

from .base.errors import UsageError

# The scenarios, by pinbench's names; the original's names are accepted on input.
SCENARIOS: tuple[str, ...] = ("async", "sync", "elastic", "server", "generate")
SCENARIO_ALIASES = {"singlestream": "sync", "multistream": "async"}
PINNING_MODES: tuple[str, ...] = ("core", "numa", "none")
ISOLATION_MODES: tuple[str, ...] = ("thread", "process")
GRAPH_OPTIMIZATION_LEVELS: tuple[str, ...] = ("disable", "basic", "extended", "all")
PRECISIONS: tuple[str, ...] = ("f32", "bf16", "f16")
ARRIVALS: tuple[str, ...] = ("poisson", "uniform")
# -s generate's next token: greedy (the argmax of the logits, as a real generation picks it) or
# fixed (always the same id: a cost that does not depend on the weights' values).
TOKEN_MODES: tuple[str, ...] = ("greedy", "fixed")
# --instances: auto (one per NUMA node for one-core streams where the engine runs them inline,
# else one per stream), node, stream. See pinbench.run.layout.
INSTANCE_MODES: tuple[str, ...] = ("auto", "stream", "node")
AUTO = "auto"
# --counters: what each stream thread counts over its window (pinbench.result.counters): auto =
# software events, and hardware events where the PMU allows (a missing PMU is a note); all = the
# same events, asked for: a hardware event that cannot be opened is also a warning on stderr;
# software; off (nothing, energy included)
COUNTER_MODES: tuple[str, ...] = (AUTO, "off", "software", "all")
# -w auto's bound (--warmup-max): a warmup that has not settled by then ends anyway, and the run
# says so (verdict note warmup_unsettled). Long enough for a JIT or a cold cache; short enough
# that a model that never settles costs half a minute, not a hang.
WARMUP_MAX_S = 30.0
DEFAULT_ENGINE = "onnxruntime"

NumStreams = Union[int, str, None]  # a number, "auto", or None for the scenario's default

# Limits of what the runner and the engines can hold. MAX_SECONDS is the runner's own
# (csrc/core/stream_runner.h kMaxSeconds): every deadline is int64 nanoseconds. ONNX dims, and
# so batch sizes and shapes, are int64; the runner's seed is a uint64.
MAX_SECONDS = 1e9  # about 31.7 years
MAX_INT64 = 2**63 - 1
MAX_SEED = 2**64 - 1


@dataclass(frozen=True)
class InputSettings:
    """The model's inputs: shapes and where the values come from."""

    batch_size: int | None = None  # -b: dim 0 of every input; None keeps the model's dims
    input_shapes: str = ""  # -shapes text, positional or by name; "" = none
    sequence_length: int | None = None  # -seq_len: free sequence dims (None: 128)
    seed: int = 0  # --seed of the generated inputs (and of the arrival schedule)
    data: str | None = None  # --data FILE.npz/.npy instead of generated inputs


@dataclass(frozen=True)
class MeasureSettings:
    """How long, and how the runner stores and polices the iterations."""

    time: float = 10.0  # -t: seconds measured
    # -w: seconds of warmup, uncounted; or "auto": until the throughput settles (base.warmup),
    # at most warmup_max seconds
    warmup_time: float | str = 2.0
    warmup_max: float = WARMUP_MAX_S  # --warmup-max: -w auto's bound
    iteration_timeout: float | None = None  # seconds one inference may take; None: no limit
    max_samples: int | None = None  # samples stored per stream; None: every iteration
    repeat: int = 1  # -r: repetitions, each a fresh warmup, instances and window
    roofline: bool = False  # --roofline: the memory bandwidth on the run's CPUs, before warmup
    bandwidth_mib: int | None = None  # --bandwidth-mib: an array's MiB; None: 4x the LLC
    counters: str = AUTO  # --counters: auto | off | software | all (COUNTER_MODES)
    # --energy-baseline: seconds of idle power read just before the run starts, subtracted from
    # the energy figures (net joules); 0 = none
    energy_baseline: float = 0.0

    @property
    def auto_warmup(self) -> bool:
        return isinstance(self.warmup_time, str)

    @property
    def warmup_bound(self) -> float:
        """The longest the warmup may last: -w's seconds, or -w auto's bound."""
        return self.warmup_max if isinstance(self.warmup_time, str) else float(self.warmup_time)


@dataclass(frozen=True)
class LayoutSettings:
    """Streams and cores as requested; the planner resolves them (``run.layout``)."""

    scenario: str = "async"  # async | sync | elastic | server (or singlestream, multistream)
    num_streams: NumStreams = None  # -nstreams: a number, "auto", or the scenario's default
    num_cores: int | None = None  # -ncores: physical cores; None = all this process may use
    thread_pinning: str = "core"  # core | numa | none
    smt: bool = False  # give streams every hardware thread of their cores
    instances: str = "auto"  # engine instances: auto | stream | node (see run.layout)
    # thread: streams are native threads of this process, sharing its interpreter (and GIL);
    # process: each stream a worker process of its own (run/isolation.py)
    isolation: str = "thread"


@dataclass(frozen=True)
class EngineSettings:
    """Which engine, and the options the user may set on it."""

    engine: str | type = DEFAULT_ENGINE  # a name, file.py:Class, module:Class, or a class
    providers: tuple[str, ...] = ()  # ONNX Runtime execution providers; () = CPU only
    graph_optimization: str = "all"  # disable | basic | extended | all
    spinning: bool | None = None  # intra-op threads spin; None = on for sync, off otherwise
    precision: str | None = None  # OpenVINO inference precision; None = f32


@dataclass(frozen=True)
class ServerSettings:
    """The server scenario's open-loop arrivals (``-s server --qps Q``)."""

    qps: float | None = None  # arrival rate, queries (batches) per second
    arrivals: str = "poisson"  # poisson (seeded by InputSettings.seed) | uniform
    drain: float | None = None  # seconds the backlog is served after the deadline; None = -t


@dataclass(frozen=True)
class SearchSettings:
    """Probes of ``-nstreams auto`` and the ``--find-qps`` search."""

    probe_time: float = 1.0  # seconds of each probe
    find_qps: bool = False  # search the highest server rate meeting latency_slo_ms
    latency_slo_ms: float | None = None  # the target of --find-qps (and of a sweep)
    # -s generate --find-qps: targets on each request's time to first token (from its arrival)
    # and time per output token, at ``percentile``; either or both
    ttft_slo_ms: float | None = None
    tpot_slo_ms: float | None = None
    percentile: float = 99.0  # the latency percentile that must meet the target
    qps_tolerance: float = 0.02  # --find-qps ends when its bounds are this close (a share)
    qps_max_trials: int = 10  # ... or after this many trials


@dataclass(frozen=True)
class OutputSettings:
    """Files the run writes; each is checked before the run and written atomically after it."""

    export_path: str | None = None  # -x: the JSON
    export_samples: str | None = None  # --export-samples FILE.npz|.csv
    plot: str | None = None  # --plot FILE.png|.svg|.pdf
    profile: str | None = None  # --profile DIR: a profiled pass after the window, files in DIR
    profile_iterations: int = 100  # --profile-iterations: the pass's iterations per stream


@dataclass(frozen=True)
class KvCacheSettings:
    """deepsparse.benchmark's KV-cache options (``pinbench.model.decoder``): on a KV-cache
    decoder the single-call scenarios time one forward pass of ``-input_ids_len`` new tokens at
    a context of ``-seq_len`` (``InputSettings.sequence_length``), unless
    ``disable_kv_cache_overrides``. The internal cache and its tokens are DeepSparse's; other
    engines keep the cache outside (inputs and outputs)."""

    input_ids_length: int = 1  # -input_ids_len: new tokens per forward pass
    internal_kv_cache: bool | None = None  # None: not given
    disable_kv_cache_overrides: bool = False
    num_kv_cache_tokens: int | None = None  # None: not given (the original's default is 1)
    kv_cache_prev_num_tokens: int = 0
    kv_cache_num_frozen_tokens: int = 0

    def given(self) -> bool:
        """True when any option differs from its default."""
        return self != KvCacheSettings()


@dataclass(frozen=True)
class GenerationSettings:
    """``-s generate``: each stream runs requests of a prefill and decode calls (see
    ``pinbench.engines.generation``)."""

    prompt_tokens: int = 128  # --prompt-tokens: the prefill's tokens (0: decode only, tg)
    new_tokens: int = 32  # --new-tokens: tokens generated per request (0: prefill only, pp)
    depth: int = 0  # --depth: tokens already in the cache when a request starts
    tokens: str = "greedy"  # --tokens: greedy | fixed


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
        layout = _validate_layout(self.layout)
        _validate_inputs(self.inputs)
        _validate_kv_cache(self.kv_cache, self.inputs.sequence_length)
        _validate_generation(self.generation, layout)
        measure = _validate_measure(self.measure)
        _validate_engine(self.engine)
        _positive_int(self.outputs.profile_iterations, "--profile-iterations")
        _validate_search(self.search, layout.scenario, self.server)
        if not self.search.find_qps:  # the search sets the rate itself
            _validate_server(self.server, layout.scenario)
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


def parse_scenario(name: str) -> str:
    """'async' / 'sync' / 'elastic' / 'server' (or the original's 'multistream' /
    'singlestream'); UsageError otherwise.

    >>> parse_scenario("singlestream")
    'sync'
    """
    key = str(name).strip().lower()
    key = SCENARIO_ALIASES.get(key, key)
    if key not in SCENARIOS:
        raise UsageError(
            f"unknown scenario {name!r}: expected async, sync, elastic, server or generate"
        )
    return key


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: object, what: str, maximum: int = MAX_INT64) -> None:
    if value is not None and not (_is_int(value) and value >= 1):  # type: ignore[operator]
        raise UsageError(f"{what} must be an integer of at least 1, got {value!r}")
    if value is not None and value > maximum:  # type: ignore[operator]
        raise UsageError(f"{what} must be at most {maximum} ({_limit_name(maximum)}), got {value}")


def _limit_name(maximum: int) -> str:
    return {MAX_INT64: "2**63 - 1, int64", MAX_SEED: "2**64 - 1, uint64"}.get(maximum, "the limit")


def _seconds(value: object, what: str, *, zero_ok: bool) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not zero_ok):  # type: ignore[operator]
        rule = ">= 0" if zero_ok else "> 0"
        raise UsageError(f"{what} must be a number of seconds {rule}, got {value!r}")
    if value > MAX_SECONDS:  # type: ignore[operator]
        raise UsageError(
            f"{what} must be at most {MAX_SECONDS:g} s (the runner counts int64 nanoseconds), "
            f"got {value:g}"
        )


def _validate_layout(layout: LayoutSettings) -> LayoutSettings:
    scenario = parse_scenario(layout.scenario)
    n = layout.num_streams
    if isinstance(n, str):
        if n.strip().lower() != AUTO:
            raise UsageError(f"-nstreams must be an integer >= 1 or 'auto', got {n!r}")
        n = AUTO
    else:
        _positive_int(n, "the number of streams (-nstreams)")
    _positive_int(layout.num_cores, "the number of cores (-ncores)")
    if layout.thread_pinning not in PINNING_MODES:
        raise UsageError(
            f"unknown pinning {layout.thread_pinning!r}: expected one of core, numa, none"
        )
    instances = str(layout.instances).strip().lower()
    if instances not in INSTANCE_MODES:
        raise UsageError(
            f"unknown --instances {layout.instances!r}: expected one of {', '.join(INSTANCE_MODES)}"
        )
    if layout.isolation not in ISOLATION_MODES:
        raise UsageError(f"unknown isolation {layout.isolation!r}: expected thread or process")
    if layout.isolation == "process" and scenario == "elastic":
        raise UsageError(
            "-s elastic shares one engine instance between the streams, and --isolation process "
            "gives each stream its own process: use -s async, or --isolation thread"
        )
    return dataclasses.replace(layout, scenario=scenario, num_streams=n, instances=instances)


def _validate_inputs(inputs: InputSettings) -> None:
    b = inputs.batch_size
    if b is not None and not (_is_int(b) and b >= 1):
        raise UsageError(f"batch size must be at least 1, got {b!r}")
    _positive_int(b, "the batch size (-b; an ONNX dim)")
    _positive_int(inputs.sequence_length, "the sequence length (-seq_len)")
    if not (_is_int(inputs.seed) and inputs.seed >= 0):
        raise UsageError(f"--seed must be a non-negative integer, got {inputs.seed!r}")
    if inputs.seed > MAX_SEED:
        raise UsageError(f"--seed must be at most {MAX_SEED} (2**64 - 1), got {inputs.seed}")
    if not isinstance(inputs.input_shapes, str):
        raise UsageError(
            f"input shapes must be text such as '[1,3,224,224]', got {inputs.input_shapes!r}"
        )


def _validate_kv_cache(kv: KvCacheSettings, seq_len: int | None) -> None:
    _positive_int(kv.input_ids_length, "-input_ids_len (new tokens per forward pass)")
    _positive_int(kv.num_kv_cache_tokens, "--num-kv-cache-tokens")
    if seq_len is not None and kv.input_ids_length > seq_len:
        raise UsageError(
            f"-input_ids_len {kv.input_ids_length} is longer than -seq_len {seq_len}: the new "
            "tokens are part of the sequence, so it must be at most -seq_len"
        )


def _validate_generation(g: GenerationSettings, layout: LayoutSettings) -> None:
    for value, flag in ((g.prompt_tokens, "--prompt-tokens"), (g.new_tokens, "--new-tokens"),
                        (g.depth, "--depth")):  # fmt: skip
        if not (_is_int(value) and 0 <= value <= MAX_INT64):
            raise UsageError(f"{flag} must be an integer of at least 0, got {value!r}")
    if g.tokens not in TOKEN_MODES:
        raise UsageError(f"unknown --tokens {g.tokens!r}: expected one of {', '.join(TOKEN_MODES)}")
    if layout.scenario != "generate":
        if g != GenerationSettings():
            raise UsageError(
                "--prompt-tokens, --new-tokens, --depth and --tokens shape -s generate's "
                f"requests: add -s generate, not {layout.scenario}"
            )
        return
    if g.prompt_tokens == 0 and g.new_tokens == 0:
        raise UsageError("-s generate needs --prompt-tokens or --new-tokens above 0")
    if g.depth + g.prompt_tokens + g.new_tokens > MAX_INT64:  # the cache's length is an ONNX dim
        raise UsageError(
            "--depth + --prompt-tokens + --new-tokens is a cache length, an ONNX dim: at most "
            f"{MAX_INT64} (2**63 - 1, int64)"
        )


def _validate_measure(m: MeasureSettings) -> MeasureSettings:
    _seconds(m.time, "time (-t)", zero_ok=False)
    w = m.warmup_time
    if isinstance(w, str):
        if w.strip().lower() != AUTO:
            raise UsageError(
                f"warmup time (-w) must be a number of seconds >= 0 or 'auto', got {w!r}"
            )
        m = dataclasses.replace(m, warmup_time=AUTO)
    else:
        _seconds(w, "warmup time (-w)", zero_ok=True)
    _seconds(m.warmup_max, "the warmup bound (--warmup-max)", zero_ok=False)
    if m.iteration_timeout is not None:
        _seconds(m.iteration_timeout, "the iteration timeout", zero_ok=False)
    _positive_int(m.max_samples, "--max-samples")
    _positive_int(m.repeat, "the number of repetitions (-r)")
    _positive_int(m.bandwidth_mib, "--bandwidth-mib")
    if m.counters not in COUNTER_MODES:
        raise UsageError(
            f"unknown --counters {m.counters!r}: expected one of {', '.join(COUNTER_MODES)}"
        )
    _seconds(m.energy_baseline, "--energy-baseline", zero_ok=True)
    if m.energy_baseline > 0 and m.counters == "off":
        raise UsageError("--energy-baseline measures energy, which --counters off turns off")
    return m


def _validate_engine(e: EngineSettings) -> None:
    if e.graph_optimization not in GRAPH_OPTIMIZATION_LEVELS:
        raise UsageError(
            f"unknown graph optimization level {e.graph_optimization!r}: expected one "
            f"of {', '.join(GRAPH_OPTIMIZATION_LEVELS)}"
        )
    if e.precision is not None and e.precision.lower() not in PRECISIONS:
        raise UsageError(f"--precision {e.precision}: expected one of {', '.join(PRECISIONS)}")
    if not isinstance(e.engine, (str, type)):
        raise UsageError(f"engine must be a name or a class, got {e.engine!r}")


def _validate_server(s: ServerSettings, scenario: str) -> None:
    if scenario not in ("server", "generate"):
        if s.qps is not None:
            raise UsageError(
                f"--qps applies to -s server (and to -s generate's requests): not {scenario}"
            )
        return
    if s.qps is None:
        if scenario == "generate":
            return  # closed loop: each stream's next request as soon as the last one ends
        raise UsageError("the server scenario needs an arrival rate: add --qps QUERIES_PER_SEC")
    q = s.qps
    if isinstance(q, bool) or not isinstance(q, (int, float)) or not (math.isfinite(q) and q > 0):
        raise UsageError(f"--qps must be a number of queries per second > 0, got {q!r}")
    if str(s.arrivals).strip().lower() not in ARRIVALS:
        raise UsageError(
            f"unknown arrival distribution {s.arrivals!r}: expected poisson or uniform"
        )
    if s.drain is not None:
        _seconds(s.drain, "the drain time", zero_ok=True)


def _validate_target(percentile: object, slo: object) -> None:
    if not (isinstance(percentile, (int, float)) and 0 < percentile < 100):
        raise UsageError(f"--percentile must lie between 0 and 100, got {percentile!r}")
    if slo is not None and not (isinstance(slo, (int, float)) and math.isfinite(slo) and slo > 0):
        raise UsageError(f"--latency-slo must be more than 0 ms, got {slo!r}")


def _validate_search(s: SearchSettings, scenario: str, server: ServerSettings) -> None:
    _seconds(s.probe_time, "--probe-time", zero_ok=False)
    _validate_target(s.percentile, s.latency_slo_ms)
    tol = s.qps_tolerance
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise UsageError(f"the rate search's tolerance must lie between 0 and 1, got {tol!r}")
    _positive_int(s.qps_max_trials, "the rate search's number of trials")
    for slo, flag in ((s.ttft_slo_ms, "--ttft-slo"), (s.tpot_slo_ms, "--tpot-slo")):
        if slo is not None and not (isinstance(slo, (int, float)) and math.isfinite(slo)
                                    and slo > 0):  # fmt: skip
            raise UsageError(f"{flag} must be more than 0 ms, got {slo!r}")
    token_slos = s.ttft_slo_ms is not None or s.tpot_slo_ms is not None
    if not s.find_qps:
        if s.latency_slo_ms is not None:
            raise UsageError("--latency-slo is the target of --find-qps (or of pinbench sweep)")
        if token_slos:
            raise UsageError("--ttft-slo and --tpot-slo are targets of -s generate --find-qps")
        return
    if scenario == "generate":
        if not token_slos or s.latency_slo_ms is not None:
            raise UsageError(
                "-s generate --find-qps targets tokens: give --ttft-slo, --tpot-slo or both "
                "(not --latency-slo)"
            )
    elif token_slos:
        raise UsageError("--ttft-slo and --tpot-slo are targets of -s generate --find-qps")
    elif s.latency_slo_ms is None:
        raise UsageError("--find-qps needs a target: add --latency-slo, e.g. 20ms")
    if scenario not in ("server", "async", "generate"):
        raise UsageError(f"--find-qps searches the server scenario's rate; drop -s {scenario}")
    if server.qps is not None:
        raise UsageError("--find-qps searches the rate itself; drop --qps")


SWEEP_SCENARIOS: tuple[str, ...] = ("async", "elastic", "sync", "generate")
MAX_CORES = "max"  # --cores max: every physical core this process may use


@dataclass(frozen=True)
class SweepSettings:
    """A grid of models x engines x core counts x scenarios x batch sizes x stream counts, each
    point one whole run of ``base`` (its -t, -w, -pin, --seed, ...).

    An empty axis takes ``base``'s value alone: ``models=()`` runs ``base.model``, ``engines=()``
    ``base.engine.engine``, ``cores=()`` ``base.layout.num_cores`` (all cores when None) and
    ``scenarios=()`` ``base.layout.scenario``. A folder among ``models`` that holds no
    ``model.onnx`` stands for every ``.onnx`` file under it (``pinbench.search.sweep``). ``sync``
    points run one stream whatever ``streams`` says.

    Decoders: ``prompt_tokens`` and ``new_tokens`` are axes of the ``generate`` points (() =
    ``base.generation``'s); ``sequence_lengths`` (``-seq_len``) an axis of the single-call points
    (() = ``base.inputs.sequence_length``), each a forward pass of that KV shape.

    Example::

        >>> base = RunSettings.from_kwargs("squeezenet", time=1.0, warmup_time=0.2)
        >>> s = SweepSettings(base, batch_sizes=(1, 4), streams=(1, 2), cores=(1, "max"))
        >>> s.validate().cores, s.validate().engines
        ((1, 'max'), ('onnxruntime',))
    """

    base: RunSettings  # the flags every point shares (-t, -w, -pin, --seed, ...)
    batch_sizes: tuple[int, ...] = (1,)
    streams: tuple[int, ...] | None = None  # None: the candidates of -nstreams auto
    latency_slo_ms: float | None = None  # each model's best point must meet it
    percentile: float = 99.0  # the latency percentile of the table, frontier and target
    models: tuple[str, ...] = ()  # () = base.model alone
    engines: tuple[str | type, ...] = ()  # () = base.engine.engine alone
    cores: tuple[int | str, ...] = ()  # physical cores per point, or "max"; () = base's
    scenarios: tuple[str, ...] = ()  # async, elastic, sync, generate; () = base's scenario alone
    prompt_tokens: tuple[int, ...] = ()  # generate points' --prompt-tokens; () = base's
    new_tokens: tuple[int, ...] = ()  # generate points' --new-tokens; () = base's
    sequence_lengths: tuple[int, ...] = ()  # single-call points' -seq_len; () = base's
    fleet: FleetSettings | None = None  # None: every point on this machine

    def validate(self) -> SweepSettings:
        """Every axis checked and deduplicated in the order given, empty axes filled from
        ``base``; UsageError (one line) for a value that cannot run anywhere."""
        scenarios = _sweep_scenarios(self.scenarios or (self.base.layout.scenario,))
        bs = tuple(dict.fromkeys(self.batch_sizes))
        ns = None if self.streams is None else tuple(dict.fromkeys(self.streams))
        if not bs or ns == ():
            raise UsageError("sweep needs at least one batch size and one number of streams")
        for v, flag in [*((b, "--batch") for b in bs), *((n, "--streams") for n in ns or ())]:
            if not (_is_int(v) and 1 <= v <= MAX_INT64):
                raise UsageError(f"sweep {flag}: {v!r} is not an integer from 1 to 2**63 - 1")
        if scenarios == ("sync",) and ns not in (None, (1,)):
            raise UsageError("sweep -s sync runs one stream: give --streams 1, or -s async")
        _validate_target(self.percentile, self.latency_slo_ms)
        if self.cores and self.base.layout.num_cores is not None:
            raise UsageError("sweep: give the cores once, with --cores (or -ncores), not both")
        base = dataclasses.replace(
            self.base, layout=dataclasses.replace(self.base.layout, scenario=scenarios[0])
        ).validate()
        if base.inputs.batch_size is not None or base.layout.num_streams is not None:
            raise UsageError("sweep sets the batch size and the streams of each point itself")
        cores = _sweep_cores(self.cores or (base.layout.num_cores or MAX_CORES,))
        prompts, news, seqs = _sweep_decoder_axes(self, scenarios)
        return dataclasses.replace(
            self,
            # the axes hold the cores now: validate() again finds them given once
            base=dataclasses.replace(base, layout=dataclasses.replace(base.layout, num_cores=None)),
            batch_sizes=bs,
            streams=ns,
            models=_sweep_models(self.models or (base.model,)),
            engines=_sweep_engines(self.engines or (base.engine.engine,)),
            cores=cores,
            scenarios=scenarios,
            prompt_tokens=prompts,
            new_tokens=news,
            sequence_lengths=seqs,
            fleet=None if self.fleet is None else self.fleet.validate(),
        )


FLEET_MODES = ("spread", "every-host")
RAY_PREFIX = "ray://"
SLURM_CLUSTERS = ("slurm", "slurm:local")  # slurm:local = submitit's local executor


@dataclass(frozen=True)
class FleetSettings:
    """Where a sweep's points run when not on this machine (``pinbench.search.fleet``).

    ``cluster``: ``ray`` (the Ray cluster running on this machine: ``ray start --head``),
    ``ray://HOST:PORT`` or ``HOST:PORT`` (a Ray cluster the user names), ``slurm`` (submitit,
    one exclusive allocation per point) or ``slurm:local`` (submitit's local executor: the same
    jobs as processes here, to try a campaign out). ``mode``: ``spread`` divides the grid among
    identical hosts; ``every-host`` runs the whole grid on each kind of host.

    Example::

        >>> FleetSettings("ray://10.0.0.5:10001", mode="every-host").validate().backend
        'ray'
    """

    cluster: str = "ray"
    mode: str = "spread"
    slurm_folder: str = "pinbench-slurm"  # submitit's job files and logs (an output folder)
    slurm_partitions: tuple[str, ...] = ()  # each a kind of host; () = the default partition
    slurm_hosts: int = 1  # allocations held at once per partition (spread)
    slurm_timeout_min: int = 60  # each job's time limit

    @property
    def backend(self) -> str:
        return "slurm" if self.cluster in SLURM_CLUSTERS else "ray"

    @property
    def ray_address(self) -> str:
        """The address to join (``auto``: the cluster running on this machine). pinbench never
        starts one: Ray's servers listen on every interface (docs/fleet.md)."""
        return "auto" if self.cluster == "ray" else self.cluster

    def validate(self) -> FleetSettings:
        """UsageError (one line) for a cluster or mode that names nothing pinbench knows."""
        c = self.cluster.strip()
        if not (c in ("ray", *SLURM_CLUSTERS) or c.startswith(RAY_PREFIX) or _host_port(c)):
            raise UsageError(
                f"--cluster {c!r}: expected ray, ray://HOST:PORT, HOST:PORT, slurm or slurm:local"
            )
        if self.mode not in FLEET_MODES:
            raise UsageError(f"fleet mode {self.mode!r}: expected {' or '.join(FLEET_MODES)}")
        if not (_is_int(self.slurm_hosts) and self.slurm_hosts >= 1):
            raise UsageError(f"--slurm-hosts {self.slurm_hosts!r}: expected an integer >= 1")
        if not (_is_int(self.slurm_timeout_min) and self.slurm_timeout_min >= 1):
            raise UsageError(f"--slurm-timeout {self.slurm_timeout_min!r}: expected minutes >= 1")
        return dataclasses.replace(self, cluster=c)


def _host_port(text: str) -> bool:
    host, _, port = text.rpartition(":")
    return bool(host) and port.isdigit()


def _sweep_decoder_axes(
    sweep: SweepSettings, scenarios: tuple[str, ...]
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """The request axes checked: each value an integer in range, each axis with a scenario
    that uses it, no request of no tokens."""
    prompts = tuple(dict.fromkeys(sweep.prompt_tokens))
    news = tuple(dict.fromkeys(sweep.new_tokens))
    seqs = tuple(dict.fromkeys(sweep.sequence_lengths))
    for values, flag, least in ((prompts, "--prompt-tokens", 0), (news, "--new-tokens", 0),
                                (seqs, "-seq_len", 1)):  # fmt: skip
        for v in values:
            if not (_is_int(v) and least <= v <= MAX_INT64):
                raise UsageError(f"sweep {flag}: {v!r} is not an integer from {least} to 2**63 - 1")
    if (prompts or news) and "generate" not in scenarios:
        raise UsageError(
            "sweep --prompt-tokens and --new-tokens shape -s generate's requests: add generate "
            "to -s"
        )
    if seqs and all(s == "generate" for s in scenarios):
        raise UsageError(
            "sweep -seq_len fixes the single-call scenarios' forward pass: add async, elastic "
            "or sync to -s (generate's lengths are its requests')"
        )
    g = sweep.base.generation
    if "generate" in scenarios and max(prompts or (g.prompt_tokens,)) == 0 == max(
        news or (g.new_tokens,)
    ):  # a request of neither runs nothing; (0, 0) among others is left out of the grid
        raise UsageError("sweep -s generate needs --prompt-tokens or --new-tokens above 0")
    return prompts, news, seqs


def _sweep_scenarios(given: tuple[str, ...]) -> tuple[str, ...]:
    out = []
    for name in given:
        scenario = parse_scenario(name)
        if scenario not in SWEEP_SCENARIOS:
            raise UsageError(
                f"sweep -s {scenario}: choose async, elastic, sync or generate (for the server "
                "scenario's highest rate under a target use pinbench --find-qps)"
            )
        out.append(scenario)
    return tuple(dict.fromkeys(out))


def _sweep_models(given: tuple[str, ...]) -> tuple[str, ...]:
    for m in given:
        if not isinstance(m, str) or not m.strip():
            raise UsageError("sweep: every model must be a file, a folder or a built-in name")
    return tuple(dict.fromkeys(given))


def _sweep_engines(given: tuple[str | type, ...]) -> tuple[str | type, ...]:
    for e in given:
        if not (isinstance(e, type) or (isinstance(e, str) and e.strip())):
            raise UsageError(f"sweep --engines: {e!r} is not an engine name or class")
    return tuple(dict.fromkeys(e.strip() if isinstance(e, str) else e for e in given))


def _sweep_cores(given: tuple[int | str, ...]) -> tuple[int | str, ...]:
    out: list[int | str] = []
    for c in given:
        if isinstance(c, str) and c.strip().lower() == MAX_CORES:
            out.append(MAX_CORES)
        elif _is_int(c) and c >= 1:  # type: ignore[operator]
            out.append(c)
        else:
            raise UsageError(f"sweep --cores: {c!r} is not an integer >= 1 or 'max'")
    return tuple(dict.fromkeys(out))
