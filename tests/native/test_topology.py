"""Topology reading and the affinity planner, on sysfs fixture trees of bigger machines."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pinbench
from pinbench import UsageError, _core

from conftest import SysfsTree


def cpus_of(plans: list[_core.StreamPlan]) -> list[list[int]]:
    return [list(p.cpus) for p in plans]


def test_real_machine_matches_affinity(allowed_cpus: list[int]) -> None:
    topo = pinbench.topology()
    assert topo.allowed == allowed_cpus
    assert sorted(c for core in topo.cores for c in core.cpus) == allowed_cpus


def test_vm_2core(sysfs: SysfsTree) -> None:
    topo = pinbench.topology(sysfs("vm_2core"))
    assert topo.allowed == [0, 1]
    assert [c.cpus for c in topo.cores] == [[0], [1]]
    assert topo.nodes == [0] and topo.sockets == [0] and not topo.smt
    assert cpus_of(pinbench.plan_streams(topo, 1)) == [[0, 1]]
    assert cpus_of(pinbench.plan_streams(topo, 2)) == [[0], [1]]


def test_two_sockets_smt_numa(sysfs: SysfsTree) -> None:
    topo = pinbench.topology(sysfs("2s_8c_2t"))
    assert len(topo.allowed) == 32 and len(topo.cores) == 16
    assert topo.sockets == [0, 1] and topo.nodes == [0, 1] and topo.smt
    assert topo.cores[0].cpus == [0, 16]
    assert topo.cores_of_node(1) == list(range(8, 16))
    cpu5 = next(c for c in topo.cpus if c.id == 5)
    cpu24 = next(c for c in topo.cpus if c.id == 24)
    assert (cpu5.socket, cpu5.node) == (0, 0)
    assert (cpu24.socket, cpu24.node) == (1, 1)
    assert topo.cores[cpu24.core].cpus == [8, 24]


def test_core_plan_one_thread_per_core_inside_nodes(sysfs: SysfsTree) -> None:
    topo = pinbench.topology(sysfs("2s_8c_2t"))
    assert cpus_of(pinbench.plan_streams(topo, 2)) == [list(range(8)), list(range(8, 16))]
    four = cpus_of(pinbench.plan_streams(topo, 4))
    assert sorted(map(tuple, four)) == [
        (0, 1, 2, 3),
        (4, 5, 6, 7),
        (8, 9, 10, 11),
        (12, 13, 14, 15),
    ]


def test_core_plan_smt_gives_siblings(sysfs: SysfsTree) -> None:
    topo = pinbench.topology(sysfs("2s_8c_2t"))
    plans = cpus_of(pinbench.plan_streams(topo, 2, smt=True))
    assert plans[0] == [*range(8), *range(16, 24)]
    assert plans[1] == [*range(8, 16), *range(24, 32)]


def test_core_plan_uneven_groups_are_balanced_and_span_nodes_only_when_forced(
    sysfs: SysfsTree,
) -> None:
    topo = pinbench.topology(sysfs("2s_8c_2t"))
    plans = pinbench.plan_streams(topo, 3)
    sizes = sorted(len(p.cores) for p in plans)
    assert sizes == [5, 5, 6]
    nodes = [{topo.cores[c].node for c in p.cores} for p in plans]
    assert nodes[0] == {0} and nodes[1] == {1}  # two of three groups fit one node each
    assert cpus_of(plans)[2] == [6, 7, 13, 14, 15]


def test_core_plan_subset_of_cores_fills_first_node(sysfs: SysfsTree) -> None:
    topo = pinbench.topology(sysfs("2s_8c_2t"))
    assert cpus_of(pinbench.plan_streams(topo, 2, cores=4)) == [[0, 1], [2, 3]]
    assert cpus_of(pinbench.plan_streams(topo, 1, cores=10)) == [list(range(10))]


def test_numa_plan_binds_whole_nodes_round_robin(sysfs: SysfsTree) -> None:
    topo = pinbench.topology(sysfs("2s_8c_2t"))
    plans = cpus_of(pinbench.plan_streams(topo, 3, pinning="numa"))
    assert plans == [list(range(8)), list(range(8, 16)), list(range(8))]
    smt = cpus_of(pinbench.plan_streams(topo, 1, pinning="numa", smt=True))
    assert smt == [[*range(8), *range(16, 24)]]


def test_none_plan_pins_nothing_but_splits_cores(sysfs: SysfsTree) -> None:
    topo = pinbench.topology(sysfs("2s_8c_2t"))
    plans = pinbench.plan_streams(topo, 4, pinning="none")
    assert cpus_of(plans) == [[], [], [], []]
    assert [len(p.cores) for p in plans] == [4, 4, 4, 4]


def test_offline_cpus_are_skipped(sysfs: SysfsTree) -> None:
    topo = pinbench.topology(sysfs("offline_cpus"))
    assert topo.online == [0, 1, 2, 4, 5, 6, 7]
    assert [c.cpus for c in topo.cores] == [[0, 4], [1, 5], [2, 6], [7]]
    assert cpus_of(pinbench.plan_streams(topo, 4)) == [[0], [1], [2], [7]]
    assert cpus_of(pinbench.plan_streams(topo, 4, smt=True)) == [[0, 4], [1, 5], [2, 6], [7]]


def test_cgroup_restriction_limits_every_plan(sysfs: SysfsTree) -> None:
    topo = pinbench.topology(sysfs("cgroup_2s"))
    assert topo.allowed == [*range(4, 12), *range(20, 28)]
    assert len(topo.cores) == 8
    assert cpus_of(pinbench.plan_streams(topo, 2)) == [[4, 5, 6, 7], [8, 9, 10, 11]]
    for mode in ("core", "numa"):
        for p in pinbench.plan_streams(topo, 2, pinning=mode, smt=True):
            assert set(p.cpus) <= set(topo.allowed)
    with pytest.raises(UsageError, match="only 8 physical cores"):
        pinbench.plan_streams(topo, 1, cores=9)


def test_taskset_style_mask(sysfs: SysfsTree) -> None:
    topo = pinbench.topology(sysfs("2s_8c_2t"), allowed=[0, 16, 1, 9])
    assert [c.cpus for c in topo.cores] == [[0, 16], [1], [9]]
    assert topo.nodes == [0, 1]
    assert cpus_of(pinbench.plan_streams(topo, 3)) == [[0], [1], [9]]


def test_no_numa_directory_means_one_node(sysfs: SysfsTree) -> None:
    topo = pinbench.topology(sysfs("no_numa_4core"))
    assert topo.nodes == [0] and len(topo.cores) == 4
    assert cpus_of(pinbench.plan_streams(topo, 2, pinning="numa")) == [[0, 1, 2, 3]] * 2


@pytest.mark.parametrize(
    ("streams", "cores", "mode", "message"),
    [
        (3, None, "core", "3 streams pinned by core need at least 3 cores"),
        (1, 3, "core", "requested 3 cores but only 2"),
        (1, 999, "numa", "requested 999 cores"),
        (0, None, "core", "at least 1"),
        (-1, None, "none", "at least 1"),
        (1, 0, "core", "at least 1"),
        (1, -1, "core", "at least 1"),
        (1, None, "socket", "unknown pinning"),
    ],
)
def test_impossible_requests_are_errors(
    streams: int, cores: int | None, mode: str, message: str, sysfs: SysfsTree
) -> None:
    topo = pinbench.topology(sysfs("vm_2core"))
    with pytest.raises(UsageError, match=message):
        pinbench.plan_streams(topo, streams, cores=cores, pinning=mode)


def test_siblings_from_core_cpus_list_without_core_id(tmp_path: Path) -> None:
    """Kernels since 5.x name a core's threads core_cpus_list (thread_siblings_list is the old
    name); without core_id the sibling set alone names the core."""
    cpu_dir = tmp_path / "devices" / "system" / "cpu"
    cpu_dir.mkdir(parents=True)
    (cpu_dir / "online").write_text("0-3\n")
    for cpu in range(4):
        topology = cpu_dir / f"cpu{cpu}" / "topology"
        topology.mkdir(parents=True)
        (topology / "core_cpus_list").write_text(f"{cpu % 2},{cpu % 2 + 2}\n")
    topo = pinbench.topology(str(tmp_path))
    assert [c.cpus for c in topo.cores] == [[0, 2], [1, 3]] and topo.smt


def test_unreadable_tree_is_a_clear_error(tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        pinbench.topology(str(tmp_path))


def test_cpu_list_round_trip() -> None:
    assert _core.parse_cpu_list("0-2,5,7-8\n") == [0, 1, 2, 5, 7, 8]
    assert _core.format_cpu_list([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8"
    with pytest.raises(ValueError, match="malformed"):
        _core.parse_cpu_list("3-1")


def test_two_sockets_four_nodes_96_cores(sysfs: SysfsTree) -> None:
    # Sub-NUMA clustering: each socket of 48 cores (96 hardware threads) is two nodes.
    topo = pinbench.topology(sysfs("2s_96c_4n"))
    assert len(topo.allowed) == 192 and len(topo.cores) == 96 and topo.smt
    assert topo.sockets == [0, 1] and topo.nodes == [0, 1, 2, 3]
    assert [len(topo.cores_of_node(n)) for n in topo.nodes] == [24] * 4
    assert topo.cores[30].cpus == [30, 126]
    assert {c.node for c in topo.cpus if c.id in (30, 126)} == {1}
    plans = cpus_of(pinbench.plan_streams(topo, 4))
    assert plans == [list(range(24 * n, 24 * n + 24)) for n in range(4)]  # one node each
    numa = cpus_of(pinbench.plan_streams(topo, 8, pinning="numa"))
    assert numa[1] == numa[5] == list(range(24, 48))  # stream i on node i mod 4


def test_hybrid_core_types_and_performance_cores_first(sysfs: SysfsTree) -> None:
    # A laptop part: 4 performance cores with SMT (CPUs 0-7), 8 efficiency cores (CPUs 8-15).
    topo = pinbench.topology(sysfs("hybrid_4p8e"))
    assert topo.hybrid and topo.smt and len(topo.cores) == 12
    assert [c.core_type for c in topo.cores] == ["performance"] * 4 + ["efficiency"] * 8
    assert topo.cores[0].cpus == [0, 1] and topo.cores[4].cpus == [8]
    assert {c.id: c.core_type for c in topo.cpus if c.id in (1, 9)} == {
        1: "performance",
        9: "efficiency",
    }
    # Numbered the other way round, the performance cores still come first.
    flipped = pinbench.topology(sysfs("hybrid_e_first"))
    assert [c.cpus for c in flipped.cores[:2]] == [[8, 9], [10, 11]]
    assert flipped.cores[4].cpus == [0] and flipped.cores[4].core_type == "efficiency"
    assert cpus_of(pinbench.plan_streams(flipped, 1)) == [[8, 10, 12, 14]]
    # Not hybrid: every type unknown, as before.
    plain = pinbench.topology(sysfs("2s_8c_2t"))
    assert not plain.hybrid and {c.core_type for c in plain.cpus} == {""}


@pytest.mark.parametrize(
    ("streams", "plans"),
    [
        (1, [[0, 2, 4, 6]]),  # all cores, one stream: the performance cores only
        (2, [[0, 2, 4, 6], list(range(8, 16))]),
        (3, [[0, 2, 4, 6], [8, 9, 10, 11], [12, 13, 14, 15]]),
        (4, [[0, 2], [4, 6], [8, 9, 10, 11], [12, 13, 14, 15]]),
        (12, [[0], [2], [4], [6], *([c] for c in range(8, 16))]),
    ],
)
def test_hybrid_groups_never_mix_core_types(
    streams: int, plans: list[list[int]], sysfs: SysfsTree
) -> None:
    topo = pinbench.topology(sysfs("hybrid_4p8e"))
    got = pinbench.plan_streams(topo, streams)
    assert cpus_of(got) == plans
    for p in got:
        assert len({topo.cores[c].core_type for c in p.cores}) == 1


def test_hybrid_smt_numa_and_an_impossible_mix(sysfs: SysfsTree) -> None:
    topo = pinbench.topology(sysfs("hybrid_4p8e"))
    smt = cpus_of(pinbench.plan_streams(topo, 3, smt=True))
    assert smt == [list(range(8)), [8, 9, 10, 11], [12, 13, 14, 15]]
    # numa: the node's cores of one type count as one node, performance first.
    numa = cpus_of(pinbench.plan_streams(topo, 3, pinning="numa"))
    assert numa == [[0, 2, 4, 6], list(range(8, 16)), [0, 2, 4, 6]]
    assert cpus_of(pinbench.plan_streams(topo, 1, cores=3)) == [[0, 2, 4]]
    assert cpus_of(pinbench.plan_streams(topo, 2, cores=6)) == [[0, 2, 4, 6], [8, 9]]
    with pytest.raises(UsageError, match=r"would mix core types.*4 performance, 2 efficiency"):
        pinbench.plan_streams(topo, 1, cores=6)


def test_hybrid_layouts_record_each_streams_core_type(sysfs: SysfsTree) -> None:
    from pinbench.run.layout import plan_layout
    from pinbench.run.topology import core_type_of

    topo = pinbench.topology(sysfs("hybrid_4p8e"))
    sync = plan_layout("sync", topo, num_cores=None, num_streams=None, pinning="core")
    assert sync.num_cores == 4 and sync.streams[0].threads == 4
    assert core_type_of(topo, sync.streams[0].cpus) == "performance"
    two = plan_layout("async", topo, num_cores=None, num_streams=2, pinning="core")
    assert [s.threads for s in two.streams] == [4, 8] and two.num_cores == 12
    assert [core_type_of(topo, s.cpus) for s in two.streams] == ["performance", "efficiency"]
    assert core_type_of(topo, (0, 8)) == "mixed" and core_type_of(topo, ()) is None
    assert core_type_of(pinbench.topology(sysfs("vm_2core")), (0,)) is None
