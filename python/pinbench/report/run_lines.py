"""A run's console lines, what a person reads on stdout: the original's lines, then pinbench's
own, then what a search tried (``search_lines``). An A/B's and a sweep's lines are in
``ab_lines`` and ``sweep_lines``. Logs and the progress line go to stderr (``base.logs``,
``progress``).

Example::

    >>> r = pinbench.benchmark("squeezenet", time=0.5, warmup_time=0.2)  # doctest: +SKIP
    >>> print("\\n".join(result_lines(r)))  # doctest: +SKIP
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, TextIO

from ..result.server import MIN_QUERIES_FOR_RATE
from .hardware import hardware_lines
from .numbers import interval, number
from .roofline import roofline_lines
from .search_lines import auto_streams_lines, find_qps_lines
from .tables import table_lines

# The percentiles the console prints (the JSON has them all).
CONSOLE_PERCENTILES = (90.0, 99.0)

if TYPE_CHECKING:
    from ..result.config import InstancePlan
    from ..result.generation import GenerationFigures
    from ..result.measurement import Warmup
    from ..result.memory import Memory
    from ..result.profile import Profile
    from ..result.record import Result
    from ..result.repetitions import Repetitions
    from ..result.server import ServerFigures
    from ..result.startup import Startup


def result_lines(result: Result) -> list[str]:
    """Every console line of a run: the original's, the server's, pinbench's and the searches'."""
    out = original_lines(result)
    if result.server is not None:
        out += server_lines(result.server)
    if result.generation is not None:
        out += generation_lines(result.generation)
    out += extra_lines(result)
    if result.roofline is not None:
        out += roofline_lines(result.roofline)
    if result.profile is not None:
        out += profile_lines(result.profile)
    if result.repetitions is not None:
        out += repetitions_lines(result.repetitions)
    c = result.config
    if c.auto_streams is not None:
        out += auto_streams_lines(c.auto_streams)
    if c.find_qps is not None:
        out += find_qps_lines(c.find_qps)
    return out


def original_lines(result: Result) -> list[str]:
    """The original's console lines, same labels and four decimals, plus tail and extremes."""
    c, lat = result.config, result.latency
    lines = [
        f"Original Model Path: {c.orig_model_path}",
        f"Batch Size: {c.batch_size}",
        f"Scenario: {c.scenario}",
        f"Throughput (items/sec): {result.items_per_sec:.4f}",
        f"Latency Mean (ms/batch): {lat.mean:.4f}",
        f"Latency Median (ms/batch): {lat.median:.4f}",
        f"Latency Std (ms/batch): {lat.std:.4f}",
        f"Latency p90 (ms/batch): {lat.percentiles[90.0]:.4f}",
        f"Latency p99 (ms/batch): {lat.percentiles[99.0]:.4f}",
        f"Latency Min (ms/batch): {lat.min:.4f}",
        f"Latency Max (ms/batch): {lat.max:.4f}",
        f"Iterations: {result.iterations}",
    ]
    if result.interrupted:
        phase = result.measurement.phase_reached
        lines.append(
            f"Interrupted: yes, after {result.seconds_ran:.3f} s of measurement"
            if phase == "measure"
            else f"Interrupted: yes, {_BEFORE[phase]}, before any measured iteration"
        )
    return lines


_BEFORE = {"start": "while the streams were starting", "warmup": "during the warmup"}


def generation_lines(g: GenerationFigures) -> list[str]:
    """-s generate's lines, after the original's (whose items are forward passes x batch)."""
    mode = f"batch {g.batch_size}, {g.tokens} tokens"
    depth = f", depth {g.depth}" if g.depth else ""
    sampled = " (a sample of whole requests)" if g.sampled else ""
    out = [
        f"Generation Requests: {g.requests} of {g.prompt_tokens} prompt + {g.new_tokens} new "
        f"tokens ({g.calls_per_request} calls each, {mode}{depth}){sampled}"
    ]
    for label, spread in (
        ("Time To First Token (ms)", g.ttft_ms),
        ("Time Per Output Token (ms)", g.tpot_ms),
        ("Request Latency (ms)", g.request_latency_ms),
        ("Queueing (ms)", g.queueing_ms),
    ):
        if spread is not None:
            out.append(
                f"{label}: mean {spread.mean:.4f}, median {spread.median:.4f}, "
                f"p90 {spread.p90:.4f}, p99 {spread.p99:.4f}"
            )
    rates = [
        f"{name} {value:.2f}"
        for name, value in (
            ("prefill", g.prefill_tokens_per_sec),
            ("decode", g.decode_tokens_per_sec),
        )
        if value is not None
    ]
    rates.append(f"output {g.output_tokens_per_sec:.2f} (end to end)")
    out.append(f"Tokens/sec: {', '.join(rates)}")
    if g.kv_cache_bytes_per_stream is not None:
        out.append(
            f"KV Cache (MiB): {g.kv_cache_bytes_per_stream / 2**20:.3f} per stream at the end "
            "of a request"
        )
    return out


def server_lines(f: ServerFigures) -> list[str]:
    """A server run's lines, after the original's."""
    late = f.lateness
    caveat = (
        ""
        if f.rate_reliable
        else f" (unreliable: {f.arrivals_served} queries served, fewer than "
        f"{MIN_QUERIES_FOR_RATE}; run longer with -t)"
    )
    out = [
        f"Server Requested Rate (queries/sec): {f.qps_requested:.4f}",
        f"Server Achieved Rate (queries/sec): {f.qps_achieved:.4f}{caveat}",
        f"Server Arrivals: {f.arrivals} (seed {f.arrivals_seed}), {f.arrivals_scheduled} "
        f"scheduled, {f.arrivals_served} served, {f.arrivals_dropped} dropped",
    ]
    if late.count:
        out += [
            f"Server Late Queries: {late.late} of {late.count} ({late.late_fraction:.2%}) "
            f"started more than {late.threshold_ms:g} ms after arrival",
            f"Server Lateness Mean / p50 / p99 / Max (ms): {late.mean_ms:.4f} / "
            f"{late.median_ms:.4f} / {late.p99_ms:.4f} / {late.max_ms:.4f}",
        ]
    return out


def extra_lines(result: Result) -> list[str]:
    """pinbench's lines after the original's: intervals, variation, cold start and the verdict."""
    lat, validity = result.latency, result.validity
    firsts = [s.first_iteration_ms for s in result.streams]
    firsts = [v for v in firsts if math.isfinite(v)]
    lines = [
        f"Throughput 95% CI (items/sec): {interval(result.items_per_sec_ci)}",
        f"Throughput CV over slices: {number(result.throughput_cv)}",
        f"Latency Median 95% CI (ms/batch): {interval(lat.median_ci)}",
        f"Latency CV (std/mean): {lat.cv:.4f}",
    ]
    if firsts:
        lines.append(f"Latency First Iteration (ms/batch): {_firsts(firsts)}")
    shown = [p for p in CONSOLE_PERCENTILES if validity.unreliable_at(p)]
    if shown:
        lines.append(f"Percentiles Unreliable: {_unreliable(result, shown)}")
    lines.append(f"Interference (other work on the streams' CPUs): {_interference(result)}")
    lines.append(f"CPU Frequency (MHz): {_frequency(result)}")
    lines.extend(hardware_lines(result))
    if result.config.instances is not None:
        lines.append(instances_line(result.config.instances))
    if result.memory is not None:
        lines.append(memory_line(result.memory, len(result.streams)))
    if result.startup is not None:
        lines.append(startup_line(result.startup))
        if result.startup.instances:
            lines.append(creation_line(result.startup))
    if result.config.isolation == "process":
        lines.append("Isolation: process (each stream in a worker process of its own)")
    warmup = result.measurement.warmup
    if warmup is not None and warmup.mode == "auto":
        lines.append(warmup_line(warmup))
    reasons = len(validity.reasons)
    lines.append(
        "Verdict: valid"
        if validity.valid
        else f"Verdict: invalid ({reasons} reason{'s' if reasons > 1 else ''})"
    )
    lines.extend(f"Reason: {r.message}" for r in validity.reasons)
    lines.extend(f"Note: {r.message}" for r in validity.notes)
    return lines


def warmup_line(w: Warmup) -> str:
    """-w auto: "Warmup: auto, 1.75 s, 2,345 iterations, settled after 7 slices"."""
    slices = len(w.slices)
    how = (
        f"settled after {slices} slice{'s' if slices != 1 else ''}"
        if w.settled
        else f"not settled within its bound of {w.bound_s:g} s ({slices} slices)"
    )
    return f"Warmup: auto, {w.seconds:.2f} s, {w.iterations:,} iterations, {how}"


def _unreliable(result: Result, percentiles: list[float]) -> str:
    needed = {u.percentile: u.needed for u in result.validity.unreliable}
    named = ", ".join(f"p{p:g} (needs {needed[p]})" for p in percentiles)
    return f"{named}: {result.iterations} iterations leave fewer than 10 samples beyond them"


def _frequency(result: Result) -> str:
    freq = result.frequency
    if freq is None:
        return "unknown (no cpufreq)"
    lows = min(c.min_mhz for c in freq.cpus)
    mean = sum(c.mean_mhz for c in freq.cpus) / len(freq.cpus)
    highs = max(c.max_mhz for c in freq.cpus)
    cpus = f"{len(freq.cpus)} CPU{'s' if len(freq.cpus) > 1 else ''}"
    return f"min {lows:.0f} / mean {mean:.0f} / max {highs:.0f} over {cpus} ({freq.source})"


def _interference(result: Result) -> str:
    load = result.interference
    if load is None or not load.groups:
        return "unknown"
    worst = load.worst
    assert worst is not None
    if len(load.groups) == 1:
        return f"{worst.other_share:.1%}"
    streams = ", ".join(map(str, worst.streams))
    return (
        f"{worst.other_share:.1%} at most (stream{'s' if len(worst.streams) > 1 else ''} {streams})"
    )


def repetitions_lines(reps: Repetitions) -> list[str]:
    """The spread across repetitions, and one row per repetition."""
    thr, med = reps.items_per_sec, reps.median_ms
    rows = [
        (
            "*" if r.index == reps.representative else "",
            str(r.index + 1),
            f"{r.items_per_sec:.4f}",
            f"{r.median_ms:.4f}",
            f"{r.p99_ms:.4f}",
            str(r.iterations),
            "valid" if r.valid else f"invalid ({', '.join(r.reasons)})",
        )
        for r in reps.runs
    ]
    header = ("", "repetition", "items/sec", "median ms", "p99 ms", "iterations", "verdict")
    return [
        f"Repetitions: {len(reps.runs)} (the figures above are repetition "
        f"{reps.representative + 1}, the median by throughput; * marks it)",
        f"Repetitions Throughput (items/sec): median {thr.median:.4f}, mean 95% CI "
        f"{interval(thr.ci95)}, min {thr.min:.4f}, max {thr.max:.4f}, cv {thr.cv:.4f}",
        f"Repetitions Latency Median (ms/batch): median {med.median:.4f}, mean 95% CI "
        f"{interval(med.ci95)}, min {med.min:.4f}, max {med.max:.4f}",
        *table_lines(header, rows),
    ]


_KIND_WORDS = {"node": "per NUMA node", "stream": "per stream", "shared": "shared by all"}


def instances_line(plan: InstancePlan) -> str:
    """``Engine Instances: 2 for 8 streams (2 per NUMA node)``."""
    streams = len(plan.of_stream)
    kinds = ", ".join(f"{n} {_KIND_WORDS.get(k, k)}" for k, n in plan.kinds.items())
    s = "s" if streams != 1 else ""
    return f"Engine Instances: {len(plan.instances)} for {streams} stream{s} ({kinds})"


def startup_line(s: Startup) -> str:
    """``Start-up: 1.234 s to the first measured iteration (model 0.010 s, ...)``."""
    parts = ", ".join(
        [f"{name} unknown" for name in s.unknown_parts]
        + [f"{name} {seconds:.3f} s" for name, seconds in s.parts]
    )
    return (
        f"Start-up: {s.seconds_to_first_iteration:.3f} s from the {s.origin} to the first "
        f"measured iteration ({parts})"
    )


MIB = 1024 * 1024
CONSOLE_OPERATORS = 10  # rows of the profile table (the JSON has every operator type)


def _mib(n: int | None) -> str:
    return f"{n / MIB:.1f}" if n is not None else "unknown"


def memory_line(mem: Memory, streams: int) -> str:
    """``Memory (RSS, MiB): 61.2 before the instances, 80.4 after (+19.2 for 1 instance and 2
    streams; instance 0 built +15.1), peak 82.0``."""
    n = len(mem.instances)
    growth = mem.instances_growth_bytes
    what = f"{n} instance{'s' if n != 1 else ''} and {streams} stream{'s' if streams != 1 else ''}"
    detail = f"+{_mib(growth)} for {what}" if growth is not None else what
    grown = [i.growth_bytes for i in mem.instances if i.growth_bytes is not None]
    if grown and n <= 4:
        each = ", ".join(f"instance {i.index} built +{_mib(i.growth_bytes)}" for i in mem.instances)
        detail += f"; {each}"
    elif grown:
        mean = sum(grown) / len(grown)
        detail += f"; instances built: mean +{mean / MIB:.1f}, max +{max(grown) / MIB:.1f}"
    if any(i.overlapped for i in mem.instances):
        detail += " (builds overlapped other streams' work)"
    line = (
        f"Memory (RSS, MiB): {_mib(mem.rss_before_instances_bytes)} before the instances, "
        f"{_mib(mem.rss_after_instances_bytes)} after ({detail}), "
        f"peak {_mib(mem.peak_rss_bytes)}"
    )
    if not mem.workers:
        return line
    each = " + ".join(_mib(w.pss_bytes) for w in mem.workers)
    return (
        f"{line}; the supervisor's. Workers (PSS, MiB): {each} = "
        f"{_mib(mem.workers_pss_bytes)} for {len(mem.workers)} stream(s)"
    )


def creation_line(s: Startup) -> str:
    """``Instance Creation: 0.052 s (1 instance); First Inference (ms): 14.2000 (cold)``."""
    secs = [i.seconds for i in s.instances]
    if len(secs) == 1:
        made = f"{secs[0]:.3f} s (1 instance)"
    else:
        made = (
            f"max {max(secs):.3f} s, mean {sum(secs) / len(secs):.3f} s ({len(secs)} "
            "instances, each on its stream's thread)"
        )
    firsts = [st.first_inferences_ms[0] for st in s.streams if st.first_inferences_ms]
    cold = _firsts(firsts) if firsts else "not timed by the engine"
    return f"Instance Creation: {made}; First Inference (ms): {cold}"


def profile_lines(p: Profile) -> list[str]:
    """The profiled pass: what ran, and its top operators."""
    if not p.available:
        return [f"Profile: none ({p.reason})"]
    files = f"; {len(p.files)} file(s) in {p.directory}" if p.files else ""
    out = [
        f"Profile: {p.profiler}, {p.iterations_per_stream} iterations x {p.streams} "
        f"stream(s) ({p.inferences} inferences), {number(p.inference_ms)} ms per inference "
        f"(latency {number(p.profiled_latency_ms)} ms with the profiler on){files}"
        + (" (interrupted)" if p.interrupt is not None else "")
    ]
    rows = [
        (
            r.op_type,
            str(r.count),
            f"{r.total_ms:.3f}",
            f"{r.ms_per_inference:.4f}",
            f"{r.share:.1%}" if math.isfinite(r.share) else "n/a",
        )
        for r in p.operators[:CONSOLE_OPERATORS]
    ]
    rest = p.operators[CONSOLE_OPERATORS:]
    if rest:
        total = sum(r.total_ms for r in rest)
        share = sum(r.share for r in rest)
        rows.append(
            (
                f"({len(rest)} more)",
                str(sum(r.count for r in rest)),
                f"{total:.3f}",
                f"{sum(r.ms_per_inference for r in rest):.4f}",
                f"{share:.1%}" if math.isfinite(share) else "n/a",
            )
        )
    header = ("operator", "count", "total ms", "ms/inference", "share")
    return [*out, *table_lines(header, rows)]


def _firsts(firsts: list[float]) -> str:
    """Every stream's first measured iteration, or their mean and max when there are many."""
    if len(firsts) <= 4:
        return ", ".join(f"{v:.4f}" for v in firsts) + (" (per stream)" if len(firsts) > 1 else "")
    worst = max(range(len(firsts)), key=firsts.__getitem__)
    mean = sum(firsts) / len(firsts)
    return f"mean {mean:.4f}, max {firsts[worst]:.4f} (stream {worst})"


def print_result(result: Result, out: TextIO | None = None) -> None:
    """Prints ``result_lines(result)`` to ``out`` (stdout by default)."""
    print("\n".join(result_lines(result)), file=out or sys.stdout)
