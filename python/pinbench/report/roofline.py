"""The roofline's console lines and JSON (``pinbench.roofline``; definitions in
``pinbench.result.roofline``), for runs and for ``pinbench machine``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._core import Topology
    from ..result.roofline import BandwidthRecord, DecodeRoofline, Roofline


def bandwidth_line(b: BandwidthRecord) -> str:
    return (
        f"Memory Bandwidth (GB/s): read {b.read_gbps:.1f}, triad {b.triad_gbps:.1f} "
        f"({b.threads} thread(s), {b.array_bytes_per_thread / 2**20:g} MiB x {b.arrays} arrays "
        f"each, best of {b.repetitions})"
    )


def llc_text(b: BandwidthRecord) -> str:
    if not b.llc_level:
        return "no last-level cache listed"
    return f"{b.llc_bytes / 2**20:g} MiB last-level cache (L{b.llc_level} x {b.llc_instances})"


def decode_line(d: DecodeRoofline, b: BandwidthRecord) -> str:
    reads = f"Roofline: decode reads {_size(d.bytes_per_token)} a token"
    achieved = f"{d.achieved_bytes_per_sec / 1e9:.1f} GB/s achieved"
    llc = f"the {b.llc_bytes / 2**20:g} MiB last-level cache"
    bound = "the bound is compute or cache, not memory"
    if d.share is None:
        where = f"it fits in {llc}" if d.fits_in_cache else "part of it stays in cache"
        return f"{reads}; {achieved}, above the {b.read_gbps:.1f} GB/s measured: {where}: {bound}"
    line = f"{reads}; {achieved} of {b.read_gbps:.1f} GB/s measured ({d.share:.0%})"
    return f"{line}; fits in {llc}: {bound}" if d.fits_in_cache else line


def _size(n: float) -> str:
    """Decimal units, as bandwidth is counted: 33.6 MB, 15.2 kB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


def roofline_lines(r: Roofline) -> list[str]:
    """A run's roofline lines, after its figures."""
    out = [bandwidth_line(r.bandwidth)]
    if r.decode is not None:
        out.append(decode_line(r.decode, r.bandwidth))
    return out


MACHINE_SCHEMA_VERSION = 1


def format_cpu_list(cpus: list[int]) -> str:
    """[0, 1, 2, 5] -> '0-2,5', as Linux writes CPU lists."""
    spans: list[list[int]] = []
    for cpu in sorted(cpus):
        if spans and cpu == spans[-1][1] + 1:
            spans[-1][1] = cpu
        else:
            spans.append([cpu, cpu])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def topology_dict(topo: Topology) -> dict[str, Any]:
    return {
        "allowed_cpus": list(topo.allowed),
        "cores": [list(c.cpus) for c in topo.cores],
        "sockets": list(topo.sockets),
        "nodes": list(topo.nodes),
        "smt": topo.smt,
        "hybrid": topo.hybrid,
    }


def topology_line(topo: Topology) -> str:
    smt = ", SMT" if topo.smt else ""
    hybrid = ", hybrid" if topo.hybrid else ""
    return (
        f"CPUs: {format_cpu_list(list(topo.allowed))} allowed: {len(topo.cores)} physical "
        f"core(s), {len(topo.sockets)} socket(s), {len(topo.nodes)} NUMA node(s){smt}{hybrid}"
    )


def machine_lines(topo: Topology, b: BandwidthRecord) -> list[str]:
    """``pinbench machine``'s console lines."""
    return [
        topology_line(topo),
        f"Last-Level Cache: {llc_text(b)}",
        bandwidth_line(b),
        f"Bandwidth CPUs: {format_cpu_list(list(b.cpus))}; arrays: {b.sizing}",
    ]


def machine_document(topo: Topology, b: BandwidthRecord, version: str) -> dict[str, Any]:
    """``pinbench machine -x``: the topology and the bandwidth, under ``"pinbench"``."""
    return {
        "pinbench": {
            "document": "machine",
            "schema_version": MACHINE_SCHEMA_VERSION,
            "version": version,
            "topology": topology_dict(topo),
            "bandwidth": b.to_dict(),
        }
    }
