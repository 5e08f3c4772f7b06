"""A fleet sweep's sections, for the console and ``pinbench report``: the hosts, each model's best
point on each kind of host (items/s and items/s per core), with ``--every-host`` the kinds side by
side, and the retries. Reads ``result.fleet`` records only; the table's look is the caller's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .rows import number

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..result.fleet import Fleet

    Rows = tuple[tuple[str, ...], list[tuple[str, ...]]]
    Table = Callable[[Sequence[str], Sequence[Sequence[str]]], list[str]]


def fleet_lines(fleet: Fleet, table: Table, title: Callable[[str], str] = str) -> list[str]:
    """Every section of ``fleet``, each a title line and a table drawn by ``table``."""
    head = f"Fleet: {fleet.backend} ({fleet.cluster}), --{fleet.mode}, {len(fleet.hosts)} host(s)"
    out = [title(head), *table(*hosts_rows(fleet))]
    out += ["", title("Best point per kind of host"), *table(*best_rows(fleet))]
    if fleet.mode == "every-host" and len(fleet.kinds) > 0:
        out += ["", title("Kinds of host side by side (items/s; per core)")]
        out += table(*side_by_side_rows(fleet))
    if fleet.retries:
        out += ["", title("Retries"), *table(*retry_rows(fleet))]
    return out


def hosts_rows(fleet: Fleet) -> Rows:
    header: tuple[str, ...] = (
        "host",
        "kind",
        "CPUs",
        "CPU model",
        "cores",
        "NUMA",
        "kernel",
        "pinbench",
    )
    rows: list[tuple[str, ...]] = []
    for h in fleet.hosts:
        e = h.environment
        rows.append(
            (
                h.name,
                h.kind,
                str(h.cpus),
                str(e.get("cpu_model", "unknown")),
                str(e.get("physical_cores", "?")),
                str(e.get("numa_nodes", "?")),
                str(e.get("kernel", "?")),
                str(e.get("pinbench_version", "?")),
            )
        )
    return header, rows


def best_rows(fleet: Fleet) -> Rows:
    header: tuple[str, ...] = ("model", "kind", "CPU model", "point", "items/s", "items/s per core")
    rows: list[tuple[str, ...]] = [
        (
            b.model,
            b.kind,
            b.cpu_model,
            "none" if b.point is None else f"#{b.point}",
            number(b.items_per_sec),
            number(b.items_per_sec_per_core),
        )
        for b in fleet.best_by_kind
    ]
    return header, rows


def side_by_side_rows(fleet: Fleet) -> Rows:
    kinds = fleet.kinds
    best = {(b.model, b.kind): b for b in fleet.best_by_kind}
    models = list(dict.fromkeys(b.model for b in fleet.best_by_kind))
    rows = []
    for m in models:
        cells = []
        for k in kinds:
            b = best.get((m, k))
            cells.append(
                "n/a"
                if b is None or b.point is None
                else f"{number(b.items_per_sec)}; {number(b.items_per_sec_per_core)}"
            )
        rows.append((m, *cells))
    return ("model", *kinds), rows


def retry_rows(fleet: Fleet) -> Rows:
    header: tuple[str, ...] = ("point", "failed on", "error", "retried on")
    rows: list[tuple[str, ...]] = [
        (r.point, r.failed_host, r.error, r.retried_on or "none left") for r in fleet.retries
    ]
    return header, rows
