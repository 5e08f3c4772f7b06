"""The parts of a run's settings, one frozen dataclass each, every field with its documented
default, and the choices their fields take. ``RunSettings`` (``settings.run``) holds one of each.

Example::

    >>> MeasureSettings().time, LayoutSettings(scenario="sync").thread_pinning
    (10.0, 'core')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from ..base.errors import UsageError

# The scenarios, by pinbench's names; the original's names are accepted on input.
SCENARIOS: tuple[str, ...] = ("async", "sync", "elastic", "server", "generate")
SCENARIO_ALIASES = {"singlestream": "sync", "multistream": "async"}
# -pin's modes, in the order --help lists them (core is the default: LayoutSettings)
PINNING_MODES: tuple[str, ...] = ("none", "core", "numa")
ISOLATION_MODES: tuple[str, ...] = ("thread", "process")
GRAPH_OPTIMIZATION_LEVELS: tuple[str, ...] = ("disable", "basic", "extended", "all")
PRECISIONS: tuple[str, ...] = ("f32", "bf16", "f16")
ARRIVALS: tuple[str, ...] = ("poisson", "uniform")
# -s generate's next token: greedy (the argmax of the logits, as a real generation picks it) or
# fixed (always the same id: a cost that does not depend on the weights' values).
TOKEN_MODES: tuple[str, ...] = ("greedy", "fixed")
# --instances: auto (one per NUMA node for one-core streams where the engine runs them inline,
# else one per stream), node, stream. See pinbench.run.instances.
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
# --spinning's words and the EngineSettings.spinning each sets (auto: on for sync, off otherwise)
SPINNING_CHOICES: dict[str, bool | None] = {"auto": None, "on": True, "off": False}
# The latency percentile a target is met at: --find-qps's and a sweep's
TARGET_PERCENTILE = 99.0

NumStreams = Union[int, str, None]  # a number, "auto", or None for the scenario's default


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
    instances: str = "auto"  # engine instances: auto | stream | node (see run.instances)
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
    percentile: float = TARGET_PERCENTILE  # the latency percentile that must meet the target
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
