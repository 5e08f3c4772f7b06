"""The sections of a run's ``pinbench`` block that only the JSON shows: start-up, memory, the
profile, the instance plan, CPU frequency, interference, the server scenario, the searches,
repetitions and the roofline (each written here; ``run.py`` places them). No report reads them
back, so they have no reader; one that needs a key reads it beside its writer here.

Example::

    >>> r = pinbench.benchmark("squeezenet", time=0.5, warmup_time=0.2)  # doctest: +SKIP
    >>> memory_dict(r.memory)["peak_rss"]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ..server import MIN_QUERIES_FOR_RATE
from ..tuning import QPS_HEADROOM

if TYPE_CHECKING:
    from ..config import InstancePlan
    from ..frequency import Frequencies
    from ..interference import Interference
    from ..memory import Memory
    from ..profile import Profile
    from ..repetitions import Across, RepetitionFigures, Repetitions
    from ..roofline import Roofline
    from ..server import ServerFigures
    from ..startup import Startup
    from ..tuning import QpsSearch, QpsTrial, StreamTuning


def startup_dict(s: Startup) -> dict[str, Any]:
    """``pinbench.startup``: seconds from the command (or call) to the first iterations."""
    return {
        "from": s.origin,
        "seconds_to_first_iteration": s.seconds_to_first_iteration,
        "seconds_to_first_warmup_iteration": s.seconds_to_first_warmup_iteration,
        "parts_seconds": dict(s.parts),
        "unknown_parts": list(s.unknown_parts),
        "instances": [
            {"index": i.index, "built_by_stream": i.built_by, "seconds": i.seconds}
            for i in s.instances
        ],
        "streams": [
            {
                "index": st.index,
                "instance": st.instance,
                "seconds": st.seconds,
                "bind_seconds": st.bind_seconds,
                "first_inferences_ms": list(st.first_inferences_ms),
            }
            for st in s.streams
        ],
    }


def memory_dict(mem: Memory) -> dict[str, Any]:
    """``pinbench.memory``: the process's RSS around the instances, and its peak, in bytes."""
    return {
        "unit": "bytes",
        "method": "VmRSS of /proc/self/status before the runner started and once every stream "
        "was bound (after malloc_trim), and around each create_instance() on its thread; the "
        "peak is getrusage's ru_maxrss (or VmHWM) at the window's end",
        "rss_before_instances": mem.rss_before_instances_bytes,
        "rss_after_instances": mem.rss_after_instances_bytes,
        "instances_growth": mem.instances_growth_bytes,
        "peak_rss": mem.peak_rss_bytes,
        "instances": [
            {
                "index": i.index,
                "built_by_stream": i.built_by,
                "rss_before": i.rss_before_bytes,
                "rss_after": i.rss_after_bytes,
                "growth": i.growth_bytes,
                "overlapped": i.overlapped,
            }
            for i in mem.instances
        ],
        # --isolation process: each worker's own, read by it at the window's end; PSS splits
        # the pages the workers share, so the total counts them once.
        "workers": [
            {
                "stream": w.stream,
                "pid": w.pid,
                "pss": w.pss_bytes,
                "rss": w.rss_bytes,
                "peak_rss": w.peak_rss_bytes,
            }
            for w in mem.workers
        ],
        "workers_pss_total": mem.workers_pss_bytes,
    }


def profile_dict(p: Profile) -> dict[str, Any]:
    """``pinbench.profile``: the profiled pass after the window and its operators."""
    return {
        "available": p.available,
        "reason": p.reason,
        "engine": p.engine,
        "profiler": p.profiler,
        "directory": p.directory,
        "method": "fresh instances built with the profiler on, after the measured window, on "
        "the same streams and CPUs; each stream's iterations_per_stream inferences after bind()'s "
        "first calls counted",
        "iterations_per_stream": p.iterations_per_stream,
        "streams": p.streams,
        "inferences": p.inferences,
        "inference_ms": p.inference_ms,
        "operators_ms_per_inference": p.operators_ms_per_inference,
        "profiled_latency_ms": p.profiled_latency_ms,
        "seconds": p.seconds,
        "interrupted": p.interrupt is not None,
        "files": list(p.files),
        "notes": list(p.notes),
        "operators": [dataclasses.asdict(r) for r in p.operators],
    }


def instances_dict(plan: InstancePlan) -> dict[str, Any]:
    """``pinbench.config.instances``: the engine instances, which stream stepped which, why."""
    return {
        "requested": plan.requested,
        "count": len(plan.instances),
        "kinds": plan.kinds,
        "of_stream": list(plan.of_stream),
        "instances": [
            {
                "index": i.index,
                "kind": i.kind,
                "streams": list(i.streams),
                "node": i.node,
                "cpus": list(i.cpus),
                "reason": i.reason,
            }
            for i in plan.instances
        ],
    }


def frequency_dict(freq: Frequencies | None) -> dict[str, Any] | None:
    if freq is None:
        return None
    return {
        "source": freq.source,
        "unit": "MHz",
        "method": "read at the window's ends and every 0.5 s between, outside the streams' threads",
        "cpus": [dataclasses.asdict(c) for c in freq.cpus],
    }


def interference_dict(load: Interference | None) -> dict[str, Any] | None:
    if load is None:
        return None
    return {
        "method": "per-CPU busy ticks (/proc/stat) less this process's threads' ticks, over the "
        "readings that bracket the window",
        "seconds": load.seconds,
        "ticks_per_second": load.ticks_per_second,
        "remasked_threads": load.remasked_threads,
        "groups": [
            {
                "cpus": list(g.cpus),
                "streams": list(g.streams),
                "busy_share": g.busy_share,
                "own_share": g.own_share,
                "other_share": g.other_share,
                "other_ticks": g.other_ticks,
            }
            for g in load.groups
        ],
    }


def server_dict(f: ServerFigures) -> dict[str, Any]:
    late = f.lateness
    return {
        "qps_requested": f.qps_requested,
        "qps_achieved": f.qps_achieved,
        "arrivals": f.arrivals,
        "arrivals_seed": f.arrivals_seed,
        "arrivals_issued": f.arrivals_served,  # schema 2's name: it counts the queries served
        "arrivals_scheduled": f.arrivals_scheduled,
        "arrivals_served": f.arrivals_served,
        "arrivals_dropped": f.arrivals_dropped,
        "qps_achieved_reliable": f.rate_reliable,
        "min_queries_for_rate": MIN_QUERIES_FOR_RATE,
        "drain_seconds": f.drain_seconds,
        "latency_from": "scheduled arrival (queueing included)",
        "lateness": {
            "queries": late.count,
            "late": late.late,
            "late_fraction": late.late_fraction,
            "threshold_ms": late.threshold_ms,
            "mean_ms": late.mean_ms,
            "median_ms": late.median_ms,
            "p99_ms": late.p99_ms,
            "max_ms": late.max_ms,
        },
    }


def auto_streams_dict(t: StreamTuning) -> dict[str, Any]:
    return {
        "method": "closed-loop probe per candidate; highest items/sec, fewer streams "
        "preferred within the tolerance",
        "probe_seconds": t.probe_seconds,
        "warmup_seconds": t.warmup_seconds,
        "tolerance": t.tolerance,
        "chosen": t.chosen,
        "runner_up": t.runner_up,
        "within_noise": t.within_noise,
        "chosen_isolation": t.chosen_isolation,
        "candidates": [
            dataclasses.asdict(p)
            | {
                "cores_per_stream": list(p.cores_per_stream),
                "items_per_sec_ci": list(p.items_per_sec_ci),
            }
            for p in t.probes
        ],
    }


def _trial_dict(t: QpsTrial) -> dict[str, Any]:
    """A trial; a generation search's TTFT and TPOT only where they were measured."""
    d = dataclasses.asdict(t)
    for key in ("ttft_ms", "tpot_ms"):
        if d[key] is None:
            del d[key]
    return d


def find_qps_dict(q: QpsSearch) -> dict[str, Any]:
    out: dict[str, Any] = {
        "method": "closed-loop capacity probe, then bisection of the server rate from "
        f"[0, {QPS_HEADROOM:g} x capacity] (widened while no trial fails); the best rate "
        "run again for -t",
        "latency_slo_ms": q.latency_slo_ms,
        "percentile": q.percentile,
        "capacity_qps": q.capacity_qps,
        "tolerance": q.tolerance,
        "max_trials": q.max_trials,
        "best_qps": q.best_qps,
        "trials": [_trial_dict(t) for t in q.trials],
    }
    if q.ttft_slo_ms is not None or q.tpot_slo_ms is not None:
        out["ttft_slo_ms"] = q.ttft_slo_ms
        out["tpot_slo_ms"] = q.tpot_slo_ms
        out["target"] = q.target
    if q.final_latency_ms is not None:
        out["final"] = {
            "qps": q.best_qps,
            "latency_ms": q.final_latency_ms,
            "meets": q.final_meets,
        }
    out["confirmations"] = [_trial_dict(t) for t in q.confirmations]
    out["confirmed"] = q.confirmed
    return out


def repetitions_dict(reps: Repetitions) -> dict[str, Any]:
    def across(a: Across) -> dict[str, Any]:
        return dataclasses.asdict(a) | {"ci95": list(a.ci95)}

    return {
        "count": len(reps.runs),
        "representative": reps.representative,
        "method": "the top-level figures are the representative repetition's: the median by "
        "items/sec (the lower middle for an even count); ci95 is Student t's interval of the "
        "mean over the repetitions",
        "instances_rebuilt": reps.instances_rebuilt,
        "runs": [_repetition(r) for r in reps.runs],
        "items_per_sec": across(reps.items_per_sec),
        "mean_ms": across(reps.mean_ms),
        "median_ms": across(reps.median_ms),
    }


def _repetition(r: RepetitionFigures) -> dict[str, Any]:
    """One repetition; the token figures only when it ran -s generate (other runs' documents
    keep their keys)."""
    out = dataclasses.asdict(r) | {"reasons": list(r.reasons)}
    for key in ("ttft_ms", "tpot_ms", "decode_tokens_per_sec"):
        if out[key] is None:
            del out[key]
    return out


def roofline_dict(r: Roofline) -> dict[str, Any]:
    """``pinbench.roofline``: the bandwidth, and the decode steps against it (None when the
    run made no decode calls)."""
    return {
        "bandwidth": r.bandwidth.to_dict(),
        "decode": dataclasses.asdict(r.decode) if r.decode is not None else None,
    }
