"""The entries of ``pinbench sweep``'s own flags: the grid's axes, its target, its point time
and its outputs (see ``cli.flag_table``). Its ``SweepSettings.base.*`` entries are its own
versions of pinbench's flags, filling the base of every point."""

from __future__ import annotations

from ...settings import (
    COUNTER_MODES,
    FLEET_MODES,
    INSTANCE_MODES,
    PINNING_MODES,
    SWEEP_TIME_S,
    SWEEP_WARMUP_S,
    SweepSettings,
)
from .. import types
from ..flags import Flag

SWEEP_FLAGS: tuple[Flag, ...] = (
    # the axes of the grid
    Flag(
        ("models",),
        "SweepSettings.models",
        "as for pinbench: ONNX file, folder (without model.onnx: every .onnx file under it), "
        "built-in name, zoo:, hf:",
        nargs="+",
        metavar="MODEL",
    ),
    Flag(
        ("-e", "--engines", "--engine"),
        "SweepSettings.engines",
        "engines, e.g. onnxruntime,openvino (default {RunSettings.engine.engine})",
        types.name_list,
        dest="engines",
    ),
    Flag(
        ("--cores", "-ncores", "--num_cores"),
        "SweepSettings.cores",
        'physical cores per point, e.g. "1, 4, max" (max: every core this process may use; '
        "the default)",
        types.cores_list,
        dest="cores",
    ),
    Flag(
        ("-s", "--scenario", "--scenarios"),
        "SweepSettings.scenarios",
        "async (default), elastic, sync, generate, or several: sync,async",
        types.name_list,
        dest="scenarios",
    ),
    Flag(
        ("--batch", "--batch-sizes"),
        "SweepSettings.batch_sizes",
        "batch sizes, e.g. 1,8,32 (default {default})",
        types.int_list,
        dest="batch",
    ),
    Flag(
        ("--streams",),
        "SweepSettings.streams",
        "numbers of streams, e.g. 1,2,4 (default: the divisors of the cores and the powers of "
        "two up to them; sync runs 1)",
        types.int_list,
    ),
    Flag(
        ("--prompt-tokens",),
        "SweepSettings.prompt_tokens",
        "-s generate: the requests' prompt tokens, e.g. 16,64 (as pinbench: "
        "{RunSettings.generation.prompt_tokens})",
        types.count_list,
        metavar="P,...",
    ),
    Flag(
        ("--new-tokens",),
        "SweepSettings.new_tokens",
        "-s generate: the requests' new tokens, e.g. 8,32 (as pinbench: "
        "{RunSettings.generation.new_tokens})",
        types.count_list,
        metavar="N,...",
    ),
    Flag(
        ("-seq_len", "--sequence_length", "--sequence-lengths"),
        "SweepSettings.sequence_lengths",
        "KV-cache decoders in the single-call scenarios: the forward pass's context, "
        "e.g. 128,512 (as pinbench -seq_len)",
        types.int_list,
        metavar="S,...",
        dest="sequence_lengths",
    ),
    # the target, what every point shares, and the outputs
    Flag(
        ("--latency-slo",),
        "SweepSettings.latency_slo_ms",
        "e.g. 20ms: each model's best point must meet it",
        types.latency_ms,
        metavar="TIME",
    ),
    Flag(
        ("--percentile",),
        "SweepSettings.percentile",
        "the latency percentile of the table, the frontier and the target ({default})",
        types.percentile,
        metavar="P",
    ),
    Flag(
        ("-t", "--time"),
        "SweepSettings.base.measure.time",
        "seconds per configuration ({default})",
        types.positive_float,
        default=SWEEP_TIME_S,
    ),
    Flag(
        ("-w", "--warmup_time"),
        "SweepSettings.base.measure.warmup_time",
        "seconds of warmup ({default}), or auto: until the throughput settles (see pinbench -h)",
        types.warmup_time,
        default=SWEEP_WARMUP_S,
    ),
    Flag(
        ("-pin", "--thread_pinning"),
        "SweepSettings.base.layout.thread_pinning",
        choices=PINNING_MODES,
    ),
    Flag(
        ("--instances",),
        "SweepSettings.base.layout.instances",
        "as for pinbench ({default})",
        choices=INSTANCE_MODES,
    ),
    Flag(
        ("--counters",),
        "SweepSettings.base.measure.counters",
        "what each point's streams count (as for pinbench; {default})",
        choices=COUNTER_MODES,
    ),
    Flag(
        ("-x", "--export_path"),
        help="write the sweep as JSON",
        parse=types.output_file,
        own="sweep.export_path",
    ),
    Flag(
        ("--csv",),
        help="write every point as one CSV (deepsparse.benchmark_sweep's columns; the Model "
        "column tells models apart)",
        parse=types.output_file,
        metavar="FILE.csv",
        own="sweep.csv",
    ),
    Flag(
        ("--csv-dir",),
        help="write one CSV per model into DIR, as deepsparse.benchmark_sweep did",
        parse=types.output_folder,
        metavar="DIR",
        own="sweep.csv_dir",
    ),
    Flag(
        ("--plot",),
        help="draw the sweep",
        parse=types.output_file,
        metavar="FILE.png",
        own="sweep.plot",
    ),
    Flag(("-q", "--quiet"), help="only the table, no logs", action="store_true", own="sweep.quiet"),
    # where the points run when not here (pinbench.search.fleet; docs/fleet.md): no --cluster,
    # no fleet (SweepSettings.fleet's default); the other fleet flags fill FleetSettings
    Flag(
        ("--cluster",),
        "SweepSettings.fleet.cluster",
        "run the points on a cluster, one point per host at a time: ray (the cluster "
        "running here, ray start --head), ray://HOST:PORT or HOST:PORT (join one), slurm "
        "(submitit, exclusive nodes) or slurm:local (submitit's local executor); needs "
        "pip install 'pinbench[ray]' or 'pinbench[slurm]'",
        metavar="WHERE",
        default=SweepSettings.fleet,
    ),
    Flag(
        ("--spread",),
        "SweepSettings.fleet.mode",
        "divide the grid among identical hosts (the default)",
        dest="fleet_mode",
        action="store_const",
        const=FLEET_MODES[0],
        exclusive="fleet mode",
    ),
    Flag(
        ("--every-host",),
        help="run the whole grid on each kind of host, to compare them",
        dest="fleet_mode",
        action="store_const",
        const=FLEET_MODES[1],
        exclusive="fleet mode",
        own="sweep.every_host",  # sets --spread's field: the fleet's mode
    ),
    Flag(
        ("--slurm-partitions",),
        "SweepSettings.fleet.slurm_partitions",
        "--cluster slurm: the partitions, each a kind of host (default: the default one)",
        types.name_list,
        metavar="P,...",
    ),
    Flag(
        ("--slurm-hosts",),
        "SweepSettings.fleet.slurm_hosts",
        "--cluster slurm: exclusive nodes held at once per partition ({default})",
        int,
        metavar="N",
    ),
    Flag(
        ("--slurm-timeout",),
        "SweepSettings.fleet.slurm_timeout_min",
        "--cluster slurm: each job's time limit in minutes ({default})",
        int,
        metavar="MIN",
        dest="slurm_timeout",
    ),
    Flag(
        ("--slurm-folder",),
        "SweepSettings.fleet.slurm_folder",
        "--cluster slurm: the folder submitit writes its job files and logs into ({default})",
        types.output_folder,
        metavar="DIR",
    ),
)
