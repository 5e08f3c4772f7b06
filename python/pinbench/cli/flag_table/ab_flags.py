"""The entries of ``pinbench ab``'s own flags: the sides, the comparison (``AbSettings``) and its
outputs (see ``cli.flag_table``); the sides' flags are pinbench's."""

from __future__ import annotations

from ...settings import AB_METRICS
from .. import types
from ..flags import Flag

AB_FLAGS: tuple[Flag, ...] = (
    Flag(("--a",), help="side A's own flags, quoted", metavar="FLAGS", own="ab.a"),
    Flag(("--b",), help="side B's own flags, quoted", metavar="FLAGS", own="ab.b"),
    Flag(
        ("-r", "--rounds"),
        "AbSettings.rounds",
        "rounds, each one run of A and one of B ({default})",
        types.positive_int,
    ),
    Flag(
        ("--metric",),
        "AbSettings.metric",
        "what is compared: items_per_sec (default), median or mean latency; with -s "
        "generate also ttft, tpot (mean ms), ttft_p99, tpot_p99, prefill_tokens_per_sec, "
        "decode_tokens_per_sec, output_tokens_per_sec; with counters ipc, cpu_ms_per_inference, "
        "joules_per_inference (where the PMU and RAPL allow)",
        choices=AB_METRICS,
    ),
    Flag(("--alpha",), "AbSettings.alpha", "significance level ({default})", types.level),
    Flag(
        ("--fail-if-slower",),
        help="exit 1 when B is worse than A by PCT%% or more and significantly",
        parse=types.percent,
        metavar="PCT",
        own="ab.fail_if_slower",
    ),
    Flag(
        ("-x", "--export_path"),
        help="write both sides' runs as JSON",
        parse=types.output_file,
        own="ab.export_path",
    ),
)
