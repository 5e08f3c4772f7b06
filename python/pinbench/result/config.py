"""RunConfig: what actually ran (the request itself is the ``RunSettings`` beside it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .tuning import QpsSearch, StreamTuning

# pinbench's scenarios by the original's names, for its JSON keys ("server" is pinbench's own:
# the original had no open-loop scenario; MLPerf LoadGen's name for it).
DEEPSPARSE_SCENARIO = {
    "sync": "singlestream",
    "async": "multistream",
    "elastic": "elastic",
    "server": "server",
    "generate": "generate",
}


@dataclass(frozen=True)
class KvCacheRecord:
    """What a KV-cache decoder ran as (``pinbench.kv_cache``): which convention its inputs
    follow, the forward pass that -seq_len / -input_ids_len fixed (None under -s generate or
    --disable-kv-cache-overrides), and who holds the cache."""

    convention: str  # past_key_values | past_key_value | past (pinbench.model.decoder)
    cache_inputs: int  # how many inputs are cache tensors
    cache: str  # external (inputs and outputs) | internal (DeepSparse's own)
    seq_len: int | None  # the context of one forward pass: past + new tokens
    input_ids_len: int | None  # new tokens per forward pass
    past_len: int | None  # tokens in the cache before it
    seq_len_source: str | None  # -seq_len | the model's attention_mask | default
    cache_bytes_per_stream: int | None  # the cache inputs of one stream, at past_len


@dataclass(frozen=True)
class EngineInstance:
    """One engine instance of a run: the streams it served, where it was built, and why.

    ``kind``: ``stream`` (a stream's own), ``node`` (shared by the one-core streams of one NUMA
    node, or of no node when they are not pinned) or ``shared`` (one for every stream: the
    elastic scenario, or an engine that schedules the streams itself).
    """

    index: int
    kind: str
    streams: tuple[int, ...]  # the streams that stepped it, ascending
    node: int | None  # the NUMA node of its streams' CPUs; None when unpinned or several
    cpus: tuple[int, ...]  # the union of its streams' CPU sets (empty: not pinned)
    reason: str


@dataclass(frozen=True)
class InstancePlan:
    """Which engine instance each stream steps (``pinbench.run.layout.plan_instances``)."""

    requested: str  # --instances: auto | stream | node
    instances: tuple[EngineInstance, ...]
    of_stream: tuple[int, ...]  # stream i -> the index of its instance

    @property
    def kinds(self) -> dict[str, int]:
        """How many instances of each kind, e.g. ``{"node": 2}``."""
        out: dict[str, int] = {}
        for instance in self.instances:
            out[instance.kind] = out.get(instance.kind, 0) + 1
        return out


@dataclass(frozen=True)
class RunConfig:
    """What was resolved: every value here is what actually ran."""

    orig_model_path: str
    model_path: str
    batch_size: int
    input_shapes: list[list[int]] | dict[str, list[int]] | None  # as the user gave them
    resolved_input_shapes: dict[str, list[int]]  # per input, as run
    input_source: str  # "generated (seed N)" or the --data path
    num_cores: int
    scenario: str
    num_streams: int
    num_streams_reason: str
    pinning: str
    seconds_to_run: float
    warmup_seconds: float
    engine_name: str
    engine_version: str
    engine_description: str
    engine_options: dict[str, object]
    engine_instances: int
    stream_threads: list[int]
    seed: int
    command_line: list[str] = field(default_factory=list)
    timestamp: str = ""
    scheduler: str = "None"  # the engine's scheduler, as the original writes it (DeepSparse only)
    fraction_of_supported_ops: float | None = None  # as the engine reports it (DeepSparse only)
    auto_streams: StreamTuning | None = None  # what -nstreams auto tried
    find_qps: QpsSearch | None = None  # what --find-qps tried
    instances: InstancePlan | None = None  # which engine instance each stream stepped
    isolation: str = "thread"  # thread | process: each stream a worker process of its own
    # Each stream's core type on a hybrid CPU (performance | efficiency); None: not known.
    stream_core_types: list[str | None] = field(default_factory=list)
    kv_cache: KvCacheRecord | None = None  # a KV-cache decoder's convention and shapes

    @property
    def deepsparse_scenario(self) -> str:
        """The scenario by the original's name (``multistream`` for async)."""
        return DEEPSPARSE_SCENARIO[self.scenario]
