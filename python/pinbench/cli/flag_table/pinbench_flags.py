"""The entries of ``pinbench``'s flags: deepsparse.benchmark's, pinbench's, the outputs', the
server scenario's and the search's, and -s generate's (see ``cli.flag_table``)."""

from __future__ import annotations

import argparse

from ...settings import (
    ARRIVALS,
    COUNTER_MODES,
    GRAPH_OPTIMIZATION_LEVELS,
    INSTANCE_MODES,
    ISOLATION_MODES,
    PINNING_MODES,
    PRECISIONS,
    SPINNING_CHOICES,
    TOKEN_MODES,
)
from .. import types
from ..actions import ListEngines, ShowVersion
from ..flags import Flag

PINBENCH_FLAGS: tuple[Flag, ...] = (
    # deepsparse.benchmark's flags, with its short and long names
    Flag(
        ("model_path",),
        "RunSettings.model",
        "ONNX file, folder holding model.onnx, built-in name (squeezenet, resnet50, ...), "
        "zoo: stub or hf:org/repo[/file.onnx]",
    ),
    Flag(
        ("-b", "--batch_size"),
        "RunSettings.inputs.batch_size",
        "batch size: sets dim 0 of every input (default: the model's; free dims 1)",
        types.positive_int,
    ),
    Flag(
        ("-i", "-shapes", "--input_shapes"),
        "RunSettings.inputs.input_shapes",
        'input shapes: "[1,3,224,224],[1,128]" in input order, or by name '
        '"x:[1,3,640,640]"; one bracket applies to every input',
    ),
    Flag(
        ("-ncores", "--num_cores"),
        "RunSettings.layout.num_cores",
        "physical cores to use (default: all this process may use)",
        types.positive_int,
    ),
    Flag(
        ("-s", "--scenario"),
        "RunSettings.layout.scenario",
        "async (default): one engine per stream on its own cores; sync: one stream on all "
        "cores; elastic: streams share one engine; server: as async, queries arriving at --qps; "
        "generate: a KV-cache decoder's requests, prefill then decode, timed call by call",
    ),
    Flag(
        ("-t", "--time"),
        "RunSettings.measure.time",
        "seconds measured ({default})",
        types.positive_float,
    ),
    Flag(
        ("-w", "--warmup_time"),
        "RunSettings.measure.warmup_time",
        "seconds of warmup ({default}), or auto: until the throughput of successive 0.25 s "
        "slices settles (3 within 2%%), at most --warmup-max seconds",
        types.warmup_time,
    ),
    Flag(
        ("--warmup-max",),
        "RunSettings.measure.warmup_max",
        "-w auto's bound: a warmup not settled by then ends, and the verdict notes it ({default})",
        types.positive_float,
        metavar="SEC",
        dest="warmup_max",
    ),
    Flag(
        ("-nstreams", "--num_streams"),
        "RunSettings.layout.num_streams",
        "concurrent streams, or auto: probe and run the fastest (default: async and server "
        "one per core, elastic cores // 2, sync 1)",
        types.num_streams,
    ),
    Flag(
        ("-pin", "--thread_pinning"),
        "RunSettings.layout.thread_pinning",
        "core (default): streams on disjoint physical cores; numa: one node per stream; "
        "none: no pinning",
        choices=PINNING_MODES,
    ),
    Flag(
        ("-e", "--engine"),
        "RunSettings.engine.engine",
        "onnxruntime (default), openvino, deepsparse, path/to/file.py:Class, module:Class "
        "or an engine registered under the pinbench.engines entry points (see --engines)",
    ),
    # deepsparse.benchmark's KV-cache flags (see docs/decoders.md)
    Flag(
        ("-seq_len", "--sequence_length"),
        "RunSettings.inputs.sequence_length",
        "a KV-cache decoder's context: past + new tokens of the one forward pass timed "
        "(default: its attention_mask's fixed length, else 128); other models: the value of "
        "free sequence-length dimensions (128)",
        types.positive_int,
    ),
    Flag(
        ("-input_ids_len", "--input_ids_length"),
        "RunSettings.kv_cache.input_ids_length",
        "a KV-cache decoder's new tokens per forward pass, at most -seq_len ({default}: a "
        "decode step; -seq_len: a prefill with an empty cache)",
        types.positive_int,
    ),
    Flag(
        ("--no-internal-kv-cache", "--no_internal_kv_cache"),
        "RunSettings.kv_cache.internal_kv_cache",
        "DeepSparse: keep a decoder's cache outside the engine (inputs and outputs), not "
        "in its internal cache; other engines always do",
        action="store_const",
        const=False,
    ),
    Flag(
        ("--num-kv-cache-tokens", "--num_kv_cache_tokens"),
        "RunSettings.kv_cache.num_kv_cache_tokens",
        "DeepSparse's internal KV cache: tokens held in it (NM_BENCHMARK_KV_TOKENS; 1)",
        types.positive_int,
    ),
    Flag(
        ("--kv-cache-prev-num-tokens",),
        "RunSettings.kv_cache.kv_cache_prev_num_tokens",
        argparse.SUPPRESS,
        int,
    ),
    Flag(
        ("--kv-cache-num-frozen-tokens",),
        "RunSettings.kv_cache.kv_cache_num_frozen_tokens",
        argparse.SUPPRESS,
        int,
    ),
    Flag(
        ("--disable-kv-cache-overrides", "--disable_kv_cache_overrides"),
        "RunSettings.kv_cache.disable_kv_cache_overrides",
        "leave a KV-cache decoder's shapes to the model and -shapes (no -seq_len / "
        "-input_ids_len shapes)",
        action="store_true",
    ),
    Flag(
        ("-q", "--quiet"),
        help="only the result, no logs",
        action="store_true",
        own="pinbench.quiet",
    ),
    Flag(
        ("-x", "--export_path"),
        "RunSettings.outputs.export_path",
        "write the result as JSON",
        types.output_file,
    ),
    # the flags pinbench adds
    Flag(("--seed",), "RunSettings.inputs.seed", "seed of the generated inputs ({default})", int),
    Flag(
        ("-r", "--repeat"),
        "RunSettings.measure.repeat",
        "repetitions, each a fresh warmup, engine instances and window; the figures are "
        "the median repetition's, with the spread across them ({default})",
        types.positive_int,
        metavar="N",
    ),
    Flag(("--data",), "RunSettings.inputs.data", "inputs from a .npz (by name) or .npy file"),
    Flag(
        ("--providers",),
        "RunSettings.engine.providers",
        "ONNX Runtime execution providers, comma-separated (default CPUExecutionProvider)",
        types.names,
    ),
    Flag(
        ("--graph-optimization",),
        "RunSettings.engine.graph_optimization",
        "ONNX Runtime graph optimization level ({default})",
        choices=GRAPH_OPTIMIZATION_LEVELS,
    ),
    Flag(
        ("--spinning",),
        "RunSettings.engine.spinning",
        "engine threads spin between ops: auto = on for sync, off when streams share cores",
        words=SPINNING_CHOICES,
    ),
    Flag(
        ("--precision",),
        "RunSettings.engine.precision",
        "OpenVINO inference precision (f32, as ONNX Runtime computes)",
        choices=PRECISIONS,
    ),
    Flag(
        ("--smt",),
        "RunSettings.layout.smt",
        "give each stream every hardware thread of its cores",
        action="store_true",
    ),
    Flag(
        ("--instances",),
        "RunSettings.layout.instances",
        "engine instances: auto (default) = one per NUMA node for one-core streams where "
        "the engine runs them inline (ONNX Runtime), else one per stream; node; stream",
        choices=INSTANCE_MODES,
    ),
    Flag(
        ("--isolation",),
        "RunSettings.layout.isolation",
        "thread (default): streams are pinned threads of this process, sharing its GIL; "
        "process: each stream a pinned worker process of its own (no shared GIL; a crashing "
        "stream is reported, not fatal)",
        choices=ISOLATION_MODES,
    ),
    Flag(
        ("--roofline",),
        "RunSettings.measure.roofline",
        "measure the memory bandwidth on the run's CPUs before the warmup; with -s "
        "generate, the decode steps' bytes a token and their share of it",
        action="store_true",
    ),
    Flag(
        ("--bandwidth-mib",),
        "RunSettings.measure.bandwidth_mib",
        "--roofline: each bandwidth array's MiB over all threads (4x the last-level "
        "cache, at least 64)",
        types.positive_int,
        metavar="MIB",
    ),
    Flag(  # docs/counters.md
        ("--counters",),
        "RunSettings.measure.counters",
        "what each stream counts over its window: auto (default) = software events, and "
        "hardware events (cycles, instructions, cache and branch misses) where the PMU allows; "
        "all = the same, a warning when one cannot be counted; software; off (no counters, "
        "no energy)",
        choices=COUNTER_MODES,
    ),
    Flag(
        ("--energy-baseline",),
        "RunSettings.measure.energy_baseline",
        "read the idle power for SEC seconds before the run and give the energy above it "
        "too (RAPL; 0 = no baseline)",
        types.non_negative_float,
        metavar="SEC",
    ),
    Flag(
        ("--iteration-timeout",),
        "RunSettings.measure.iteration_timeout",
        "end the run with an error when one inference takes longer than SEC",
        types.positive_float,
        metavar="SEC",
    ),
    Flag(
        ("--max-samples",),
        "RunSettings.measure.max_samples",
        "store at most N samples per stream (16 bytes each; a uniform sample past N, "
        "with count, mean, std, min, max kept exact)",
        types.positive_int,
        metavar="N",
    ),
    Flag(("--debug",), help="tracebacks on errors", action="store_true", own="pinbench.debug"),
    Flag(
        ("--version",),
        help="show program's version number and exit",
        action=ShowVersion,
        own="pinbench.version",
    ),
    Flag(
        ("--engines",),
        help="list every engine: name, version, and whether it can run here; then exit",
        action=ListEngines,
        own="pinbench.engines",
    ),
    # the files a run writes besides -x: raw samples, a plot, a profile
    Flag(
        ("--export-samples",),
        "RunSettings.outputs.export_samples",
        "write every iteration's stream, start and end (ns) to FILE.npz or FILE.csv",
        types.output_file,
        metavar="FILE",
    ),
    Flag(
        ("--plot",),
        "RunSettings.outputs.plot",
        "draw latency histogram, latency over time and throughput per second (needs "
        "pinbench[plot])",
        types.output_file,
        metavar="FILE.png",
    ),
    Flag(
        ("--profile",),
        "RunSettings.outputs.profile",
        "after the measured window, a profiled pass on fresh instances: the top operators "
        "(ONNX Runtime's profiler, its trace files written into DIR; OpenVINO's counters)",
        types.output_folder,
        metavar="DIR",
    ),
    Flag(
        ("--profile-iterations",),
        "RunSettings.outputs.profile_iterations",
        "iterations per stream of the profiled pass ({default})",
        types.positive_int,
        metavar="N",
    ),
    # the server scenario's and the search's flags
    Flag(
        ("--qps",),
        "RunSettings.server.qps",
        "server scenario (-s server): arrival rate, queries (batches) per second",
        float,
        metavar="Q",
    ),
    Flag(
        ("--arrivals",),
        "RunSettings.server.arrivals",
        "server scenario: arrival times, poisson (default, seeded by --seed) or uniform",
        choices=ARRIVALS,
    ),
    Flag(
        ("--find-qps",),
        "RunSettings.search.find_qps",
        "search the server scenario for the highest rate meeting --latency-slo",
        action="store_true",
    ),
    Flag(
        ("--latency-slo",),
        "RunSettings.search.latency_slo_ms",
        "latency target of --find-qps, e.g. 20ms",
        types.latency_ms,
        metavar="TIME",
    ),
    Flag(
        ("--ttft-slo",),
        "RunSettings.search.ttft_slo_ms",
        "-s generate --find-qps: time-to-first-token target (from arrival), e.g. 2s",
        types.latency_ms,
        metavar="TIME",
    ),
    Flag(
        ("--tpot-slo",),
        "RunSettings.search.tpot_slo_ms",
        "-s generate --find-qps: time-per-output-token target, e.g. 100ms",
        types.latency_ms,
        metavar="TIME",
    ),
    Flag(
        ("--percentile",),
        "RunSettings.search.percentile",
        "the latency percentile that must meet --latency-slo ({default})",
        types.percentile,
        metavar="P",
    ),
    Flag(
        ("--probe-time",),
        "RunSettings.search.probe_time",
        "seconds of each probe of -nstreams auto and --find-qps ({default})",
        types.positive_float,
        metavar="SEC",
    ),
    # -s generate's request shape
    Flag(
        ("--prompt-tokens",),
        "RunSettings.generation.prompt_tokens",
        "tokens of each request's prefill ({default}; 0: decode only)",
        types.non_negative_int,
    ),
    Flag(
        ("--new-tokens",),
        "RunSettings.generation.new_tokens",
        "tokens generated per request ({default}; 0: the prefill alone)",
        types.non_negative_int,
    ),
    Flag(
        ("--depth",),
        "RunSettings.generation.depth",
        "tokens already in the cache when a request starts ({default})",
        types.non_negative_int,
    ),
    Flag(
        ("--tokens",),
        "RunSettings.generation.tokens",
        "the next token: greedy (the logits' argmax, default) or fixed (the same id)",
        choices=TOKEN_MODES,
    ),
)
