"""``RunSettings.validate()``'s checks, one function per settings group: each raises UsageError
with one line, and the ones that normalise (scenario aliases, ``auto``) return the group.
"""

from __future__ import annotations

import dataclasses
import math

from ..base.errors import UsageError
from .checks import MAX_INT64, MAX_SEED, is_int, positive_int, seconds, validate_target
from .groups import (
    ARRIVALS,
    AUTO,
    COUNTER_MODES,
    GRAPH_OPTIMIZATION_LEVELS,
    INSTANCE_MODES,
    ISOLATION_MODES,
    PINNING_MODES,
    PRECISIONS,
    TOKEN_MODES,
    EngineSettings,
    GenerationSettings,
    InputSettings,
    KvCacheSettings,
    LayoutSettings,
    MeasureSettings,
    SearchSettings,
    ServerSettings,
    parse_scenario,
)


def validate_layout(layout: LayoutSettings) -> LayoutSettings:
    scenario = parse_scenario(layout.scenario)
    n = layout.num_streams
    if isinstance(n, str):
        if n.strip().lower() != AUTO:
            raise UsageError(f"-nstreams must be an integer >= 1 or 'auto', got {n!r}")
        n = AUTO
    else:
        positive_int(n, "the number of streams (-nstreams)")
    positive_int(layout.num_cores, "the number of cores (-ncores)")
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


def validate_inputs(inputs: InputSettings) -> None:
    b = inputs.batch_size
    if b is not None and not (is_int(b) and b >= 1):
        raise UsageError(f"batch size must be at least 1, got {b!r}")
    positive_int(b, "the batch size (-b; an ONNX dim)")
    positive_int(inputs.sequence_length, "the sequence length (-seq_len)")
    if not (is_int(inputs.seed) and inputs.seed >= 0):
        raise UsageError(f"--seed must be a non-negative integer, got {inputs.seed!r}")
    if inputs.seed > MAX_SEED:
        raise UsageError(f"--seed must be at most {MAX_SEED} (2**64 - 1), got {inputs.seed}")
    if not isinstance(inputs.input_shapes, str):
        raise UsageError(
            f"input shapes must be text such as '[1,3,224,224]', got {inputs.input_shapes!r}"
        )


def validate_kv_cache(kv: KvCacheSettings, seq_len: int | None) -> None:
    positive_int(kv.input_ids_length, "-input_ids_len (new tokens per forward pass)")
    positive_int(kv.num_kv_cache_tokens, "--num-kv-cache-tokens")
    if seq_len is not None and kv.input_ids_length > seq_len:
        raise UsageError(
            f"-input_ids_len {kv.input_ids_length} is longer than -seq_len {seq_len}: the new "
            "tokens are part of the sequence, so it must be at most -seq_len"
        )


def validate_generation(g: GenerationSettings, layout: LayoutSettings) -> None:
    for value, flag in ((g.prompt_tokens, "--prompt-tokens"), (g.new_tokens, "--new-tokens"),
                        (g.depth, "--depth")):  # fmt: skip
        if not (is_int(value) and 0 <= value <= MAX_INT64):
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


def validate_measure(m: MeasureSettings) -> MeasureSettings:
    seconds(m.time, "time (-t)", zero_ok=False)
    w = m.warmup_time
    if isinstance(w, str):
        if w.strip().lower() != AUTO:
            raise UsageError(
                f"warmup time (-w) must be a number of seconds >= 0 or 'auto', got {w!r}"
            )
        m = dataclasses.replace(m, warmup_time=AUTO)
    else:
        seconds(w, "warmup time (-w)", zero_ok=True)
    seconds(m.warmup_max, "the warmup bound (--warmup-max)", zero_ok=False)
    if m.iteration_timeout is not None:
        seconds(m.iteration_timeout, "the iteration timeout", zero_ok=False)
    positive_int(m.max_samples, "--max-samples")
    positive_int(m.repeat, "the number of repetitions (-r)")
    positive_int(m.bandwidth_mib, "--bandwidth-mib")
    if m.counters not in COUNTER_MODES:
        raise UsageError(
            f"unknown --counters {m.counters!r}: expected one of {', '.join(COUNTER_MODES)}"
        )
    seconds(m.energy_baseline, "--energy-baseline", zero_ok=True)
    if m.energy_baseline > 0 and m.counters == "off":
        raise UsageError("--energy-baseline measures energy, which --counters off turns off")
    return m


def validate_engine(e: EngineSettings) -> None:
    if e.graph_optimization not in GRAPH_OPTIMIZATION_LEVELS:
        raise UsageError(
            f"unknown graph optimization level {e.graph_optimization!r}: expected one "
            f"of {', '.join(GRAPH_OPTIMIZATION_LEVELS)}"
        )
    if e.precision is not None and e.precision.lower() not in PRECISIONS:
        raise UsageError(f"--precision {e.precision}: expected one of {', '.join(PRECISIONS)}")
    if not isinstance(e.engine, (str, type)):
        raise UsageError(f"engine must be a name or a class, got {e.engine!r}")


def validate_server(s: ServerSettings, scenario: str) -> None:
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
        seconds(s.drain, "the drain time", zero_ok=True)


def validate_search(s: SearchSettings, scenario: str, server: ServerSettings) -> None:
    seconds(s.probe_time, "--probe-time", zero_ok=False)
    validate_target(s.percentile, s.latency_slo_ms)
    tol = s.qps_tolerance
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise UsageError(f"the rate search's tolerance must lie between 0 and 1, got {tol!r}")
    positive_int(s.qps_max_trials, "the rate search's number of trials")
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
