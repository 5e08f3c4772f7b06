"""Measuring the memory bandwidth on a set of CPUs (``pinbench machine``, ``--roofline``), and a
``-s generate`` run's decode steps against it (``pinbench.result.roofline``).

Example::

    >>> topo = pinbench.run.topology.topology()  # doctest: +SKIP
    >>> bandwidth_on(topo, [c.cpus[0] for c in topo.cores]).read_gbps  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from .. import _core
from ..base.errors import RunError, UsageError
from ..base.logs import log
from ..base.system import available_memory
from ..result.roofline import BandwidthRecord, Roofline, decode_roofline, mean_decode_past
from ..settings import BANDWIDTH_REPETITIONS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._core import Topology
    from ..model.spec import LoadedModel
    from ..result.generation import GenerationFigures
    from ..result.record import Result
    from ..settings import MeasureSettings
    from .layout import Layout

# STREAM's best-of-N (settings.commands); each repetition moves 4 arrays' bytes a thread
REPETITIONS = BANDWIDTH_REPETITIONS
ARRAYS = 3  # a, b and c of each thread
# The arrays of every thread together may take this share of the memory still available.
MEMORY_SHARE = 0.5


def array_bytes(
    llc: _core.LastLevelCache, threads: int, total_mib: int | None, available: int | None
) -> tuple[int, str]:
    """(bytes of each array of each thread, how they were chosen): ``total_mib`` over all
    threads when given, else 4x every last-level cache the CPUs use, at least 64 MiB; capped to
    ``MEMORY_SHARE`` of the ``available`` bytes (None: unknown, not capped)."""
    if total_mib is not None:
        page = 4096
        each = (total_mib * 2**20 + threads - 1) // threads
        each, why = (each + page - 1) // page * page, f"{total_mib} MiB an array, as asked"
    else:
        each = _core.suggested_array_bytes_per_thread(llc, threads)
        why = (
            f"4x the {llc.total_bytes / 2**20:g} MiB of last-level cache (L{llc.level} x "
            f"{llc.instances}), at least 64 MiB, an array"
            if llc.level
            else "64 MiB an array (no cache sizes in sysfs)"
        )
    if available is not None and each * threads * ARRAYS > available * MEMORY_SHARE:
        each = int(available * MEMORY_SHARE) // (threads * ARRAYS) // 4096 * 4096
        why += f"; capped to {MEMORY_SHARE:.0%} of the memory available"
    if each < 2**20:
        raise UsageError("not enough memory available to measure the bandwidth")
    return each, why


def bandwidth_on(
    topo: Topology,
    cpus: Sequence[int],
    *,
    total_mib: int | None = None,
    repetitions: int = REPETITIONS,
) -> BandwidthRecord:
    """The bandwidth on ``cpus`` (one pinned thread each), arrays sized by ``array_bytes``
    from the last-level cache that ``topo``'s sysfs root lists for them. Blocks for seconds."""
    cpus = sorted(set(cpus))
    if not cpus:
        raise UsageError("no CPUs to measure the bandwidth on")
    llc = _core.read_last_level_cache(topo.root, cpus)
    each, why = array_bytes(llc, len(cpus), total_mib, available_memory())
    log.info("bandwidth: %d thread(s) on CPUs %s, %s", len(cpus), _core.format_cpu_list(cpus), why)
    try:
        b = _core.measure_bandwidth(cpus, each, repetitions)
    except RuntimeError as e:
        raise RunError(str(e)) from e
    return BandwidthRecord(
        cpus=tuple(b.cpus),
        affinity=tuple(tuple(a) for a in b.affinity),
        threads=len(b.cpus),
        array_bytes_per_thread=b.array_bytes_per_thread,
        arrays=b.arrays,
        repetitions=b.repetitions,
        read_gbps=b.read_gbps,
        triad_gbps=b.triad_gbps,
        llc_level=llc.level,
        llc_bytes=llc.total_bytes,
        llc_instances=llc.instances,
        sizing=why,
    )


def roofline_of(
    bandwidth: BandwidthRecord,
    model: LoadedModel,
    generation: GenerationFigures | None,
) -> Roofline:
    """The roofline of a run: the bandwidth, and for -s generate with decode calls the decode
    steps against it."""
    decoder = model.decoder
    if generation is None or decoder is None or not generation.decode_tokens_per_sec:
        return Roofline(bandwidth)
    past = mean_decode_past(generation.prompt_tokens, generation.new_tokens, generation.depth)
    if past is None:
        return Roofline(bandwidth)
    decode = decode_roofline(
        bandwidth,
        weight_bytes=model.weight_bytes,
        gathered_bytes=model.gathered_bytes,
        cache_bytes_per_token=decoder.cache_bytes(1, 1),
        mean_past_tokens=past,
        batch_size=generation.batch_size,
        decode_tokens_per_sec=generation.decode_tokens_per_sec,
    )
    return Roofline(bandwidth, decode)


def run_bandwidth(
    topo: Topology, layout: Layout, measure: MeasureSettings
) -> BandwidthRecord | None:
    """``--roofline``: the bandwidth on the CPUs of ``layout``'s streams, or every allowed CPU
    when they are not pinned (None without --roofline). A run measures it once
    its checks have passed (a usage error comes first) and before its own start: its load
    average, its clock marks and its progress display."""
    if not measure.roofline:
        return None
    cpus = sorted({c for s in layout.streams for c in s.cpus}) or list(topo.allowed)
    return bandwidth_on(topo, cpus, total_mib=measure.bandwidth_mib)


def with_roofline(result: Result, bandwidth: BandwidthRecord | None, model: LoadedModel) -> Result:
    """``result`` with its roofline, when the bandwidth was measured."""
    if bandwidth is None:
        return result
    return dataclasses.replace(result, roofline=roofline_of(bandwidth, model, result.generation))
