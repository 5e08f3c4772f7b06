"""Engine instances per NUMA node: the plan on fixture machines, and real shared sessions."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import onnxruntime as ort
import pytest

import pinbench
from pinbench import UsageError
from pinbench.engines.base import EngineOptions
from pinbench.engines.onnxruntime import OnnxRuntimeEngine
from pinbench.model.inputs import generate_inputs
from pinbench.model.load import load_model
from pinbench.run.instances import step_factory
from pinbench.run.layout import Layout, plan_layout
from pinbench.settings import RunSettings

import onnx_factory as factory
from conftest import SysfsTree

NCORES = len(os.sched_getaffinity(0))


def plan(tree: str, streams: int | None, **kwargs: Any) -> Layout:
    kwargs.setdefault("pinning", "core")
    kwargs.setdefault("inline_sharing", True)
    scenario = kwargs.pop("scenario", "async")
    topo = pinbench.topology(tree)
    return plan_layout(scenario, topo, num_cores=kwargs.pop("cores", None), num_streams=streams,
                       **kwargs)  # fmt: skip


def node_of_cpus(tree: str) -> dict[int, int]:
    return {c.id: c.node for c in pinbench.topology(tree).cpus}


def assert_consistent(layout: Layout, tree: str) -> None:
    """Every stream is in exactly its instance's streams; a node instance's streams all sit on
    that node and have one core each."""
    p, nodes = layout.instances, node_of_cpus(tree)
    assert len(p.of_stream) == layout.num_streams
    for i, k in enumerate(p.of_stream):
        assert i in p.instances[k].streams
    assert sorted(s for inst in p.instances for s in inst.streams) == list(range(len(p.of_stream)))
    for inst in p.instances:
        assert inst.cpus == tuple(sorted({c for s in inst.streams for c in layout.streams[s].cpus}))
        if inst.kind == "node":
            assert all(layout.streams[s].threads == 1 for s in inst.streams)
            assert {nodes[c] for c in inst.cpus} == {inst.node}


# ---------------------------------------------------------------------------------------------
# The plan, on the fixture machines


def test_two_sockets_one_instance_per_node(sysfs: SysfsTree) -> None:
    layout = plan(sysfs("2s_8c_2t"), None)  # async default: one one-core stream per physical core
    assert layout.num_streams == 16
    p = layout.instances
    assert [(i.kind, i.node, len(i.streams)) for i in p.instances] == [
        ("node", 0, 8),
        ("node", 1, 8),
    ]
    assert "NUMA node 0" in p.instances[0].reason and "runs inline" in p.instances[0].reason
    assert_consistent(layout, sysfs("2s_8c_2t"))
    assert p.instances[0].cpus == tuple(range(8))  # one hardware thread per core


def test_two_sockets_smt_streams_still_share_per_node(sysfs: SysfsTree) -> None:
    layout = plan(sysfs("2s_8c_2t"), 16, smt=True)
    assert layout.streams[0].cpus == (0, 16) and layout.streams[0].threads == 1
    assert layout.instances.kinds == {"node": 2}
    assert_consistent(layout, sysfs("2s_8c_2t"))


def test_engine_that_cannot_run_inline_keeps_one_per_stream(sysfs: SysfsTree) -> None:
    layout = plan(sysfs("2s_8c_2t"), None, inline_sharing=False, engine="openvino")
    assert layout.instances.kinds == {"stream": 16}
    assert "openvino does not run inline" in layout.instances.instances[0].reason
    forced = plan(sysfs("2s_8c_2t"), None, inline_sharing=False, instances="node")
    assert forced.instances.kinds == {"node": 2}
    assert "--instances node" in forced.instances.instances[0].reason


def test_instances_stream_gives_each_its_own(sysfs: SysfsTree) -> None:
    layout = plan(sysfs("2s_8c_2t"), 16, instances="stream")
    assert layout.instances.kinds == {"stream": 16}
    assert layout.instances.of_stream == tuple(range(16))
    assert layout.instances.instances[3].reason == "--instances stream"


def test_core_groups_keep_an_instance_each_even_when_node_is_asked(sysfs: SysfsTree) -> None:
    layout = plan(sysfs("2s_8c_2t"), 4, instances="node")
    assert layout.instances.kinds == {"stream": 4}
    assert "a group of 4 cores" in layout.instances.instances[0].reason
    assert_consistent(layout, sysfs("2s_8c_2t"))


def test_numa_pinning_many_streams_share_their_node(sysfs: SysfsTree) -> None:
    layout = plan(sysfs("2s_8c_2t"), 16, pinning="numa")
    assert {s.threads for s in layout.streams} == {1}
    assert layout.instances.kinds == {"node": 2}
    assert_consistent(layout, sysfs("2s_8c_2t"))
    two = plan(sysfs("2s_8c_2t"), 2, pinning="numa")  # a whole node each: core groups
    assert two.instances.kinds == {"stream": 2}


@pytest.mark.parametrize(
    ("scenario", "kwargs", "kind"),
    [
        ("elastic", {}, "shared"),
        ("sync", {}, "stream"),
        ("async", {"shared": True, "engine": "deepsparse"}, "shared"),
        ("server", {"shared": True}, "shared"),
    ],
)
def test_one_instance_for_every_stream(
    scenario: str, kwargs: dict[str, Any], kind: str, sysfs: SysfsTree
) -> None:
    layout = plan(sysfs("2s_8c_2t"), None if scenario == "sync" else 8, scenario=scenario, **kwargs)
    p = layout.instances
    assert len(p.instances) == 1 and p.instances[0].kind == kind
    assert p.of_stream == (0,) * layout.num_streams
    assert p.instances[0].node is None  # all selected cores: both nodes


def test_96_cores_4_nodes(sysfs: SysfsTree) -> None:
    machine = sysfs("2s_96c_4n")
    layout = plan(machine, None)
    assert layout.num_streams == 96
    p = layout.instances
    assert [(i.node, len(i.streams)) for i in p.instances] == [(n, 24) for n in range(4)]
    assert_consistent(layout, machine)
    # Two cores a stream: 48 instances of their own.
    halves = plan(machine, 48)
    assert halves.instances.kinds == {"stream": 48}
    # 60 streams on 96 cores: 36 of two cores keep their own, the 24 of one core share per node.
    mixed = plan(machine, 60)
    assert mixed.instances.kinds == {"stream": 36, "node": 4}
    assert_consistent(mixed, machine)
    # 30 cores: nodes fill in order, 24 streams on node 0 and 6 on node 1.
    part = plan(machine, 30, cores=30)
    assert [(i.node, len(i.streams)) for i in part.instances.instances] == [(0, 24), (1, 6)]


def test_cgroup_restricted_machine(sysfs: SysfsTree) -> None:
    layout = plan(sysfs("cgroup_2s"), None)
    assert layout.num_streams == 8  # cores 4-11: 4 on each socket
    assert [(i.node, len(i.streams)) for i in layout.instances.instances] == [(0, 4), (1, 4)]
    assert_consistent(layout, sysfs("cgroup_2s"))


def test_unpinned_one_core_streams_share_one_instance(sysfs: SysfsTree) -> None:
    layout = plan(sysfs("vm_2core"), 2, pinning="none")
    assert [(i.kind, i.node) for i in layout.instances.instances] == [("node", None)]
    assert "no node (not pinned)" in layout.instances.instances[0].reason


def test_bad_instances_value_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--instances"):
        RunSettings.from_kwargs("squeezenet", instances="socket").validate()
    s = RunSettings.from_kwargs("squeezenet", instances=" NODE ").validate()
    assert s.layout.instances == "node"
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", "squeezenet", "--instances", "socket"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == 2 and "--instances" in r.stderr


# ---------------------------------------------------------------------------------------------
# Shared sessions, for real


def run_layout(
    layout: Layout, model_path: str, steps: int = 20
) -> tuple[OnnxRuntimeEngine, dict[int, dict[str, Any]], Any]:
    """Steps ``layout`` on ONNX Runtime for ``steps`` iterations per stream; returns the engine,
    what each stream saw inside its step (thread, CPUs, threads created while building), and the
    inputs of stream 0."""
    seen: dict[int, dict[str, Any]] = {}
    with load_model(model_path) as model:
        engine = OnnxRuntimeEngine(model, EngineOptions())
        shapes = {s.name: [int(d) for d in s.shape] for s in model.inputs if s.is_static}
        engine.prepare(layout, batch_size=1, input_shapes=shapes)
        make_step = step_factory(engine, layout, lambda i: generate_inputs(model), spinning=False)

        def traced(i: int) -> Callable[[], object]:
            before = set(os.listdir("/proc/self/task"))
            step = make_step(i)
            info: dict[str, Any] = {"new_threads": set(os.listdir("/proc/self/task")) - before}
            info["binding"] = step.args[0]  # type: ignore[attr-defined]
            seen[i] = info

            def run() -> object:
                info["thread"] = threading.get_native_id()
                info["cpus"] = os.sched_getaffinity(0)
                return step()

            return run

        m = pinbench.measure(
            traced,
            streams=layout.num_streams,
            cpus=[list(s.cpus) for s in layout.streams],
            warmup=0,
            duration=None,
            iterations=steps,
        )
        for s in m.streams:
            seen[s.index]["runner_thread"] = s.thread_id
            seen[s.index]["read_back"] = set(s.cpus)
        return engine, seen, generate_inputs(model)


def test_each_stream_runs_the_shared_session_on_its_own_cpus() -> None:
    topo = pinbench.topology()
    layout = plan_layout("async", topo, num_cores=None, num_streams=NCORES, pinning="core",
                         instances="node", inline_sharing=True)  # fmt: skip
    engine, seen, _ = run_layout(layout, "squeezenet")
    assert engine.instances_created == len(topo.nodes)
    for i, slot in enumerate(layout.streams):
        info = seen[i]
        # Inside the step: the stream's own thread, on the stream's own CPU set.
        assert info["thread"] == info["runner_thread"]
        assert info["cpus"] == set(slot.cpus) == info["read_back"]
        # One intra-op thread: the session has no pool, it runs on the calling thread.
        assert info["new_threads"] == set()
    assert len({seen[i]["cpus"].__repr__() for i in seen}) == NCORES  # disjoint CPU sets


def test_node_and_stream_instances_give_the_reference_outputs(tmp_path: Path) -> None:
    path = str(factory.make_transformer_model(tmp_path, batch=1, sequence=16))
    topo = pinbench.topology()
    outputs: dict[str, list[list[np.ndarray]]] = {}
    for mode in ("node", "stream"):
        layout = plan_layout("async", topo, num_cores=None, num_streams=NCORES, pinning="core",
                             instances=mode, inline_sharing=True)  # fmt: skip
        engine, seen, inputs = run_layout(layout, path, steps=5)
        assert engine.instances_created == (len(topo.nodes) if mode == "node" else NCORES)
        outputs[mode] = [seen[i]["binding"].copy_outputs_to_cpu() for i in range(NCORES)]
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    reference = session.run(None, inputs)
    for mode, per_stream in outputs.items():
        for got in per_stream:
            for a, b in zip(got, reference):
                np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=mode)


def test_cli_shared_instances_leave_the_model_alone_and_say_so(tmp_path: Path) -> None:
    model = factory.make_conv_model(tmp_path, batch="N")
    before = hashlib.sha256(model.read_bytes()).hexdigest(), model.stat().st_mtime_ns
    out = tmp_path / "r.json"
    r = subprocess.run(
        [sys.executable, "-m", "pinbench", str(model), "-b", "2", "-nstreams", str(NCORES),
         "-t", "0.2", "-w", "0.05", "-x", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (hashlib.sha256(model.read_bytes()).hexdigest(), model.stat().st_mtime_ns) == before
    d = json.loads(out.read_text())
    inst = d["pinbench"]["config"]["instances"]
    nodes = len(pinbench.topology().nodes)
    assert inst["requested"] == "auto" and inst["count"] == nodes == len(inst["instances"])
    assert inst["kinds"] == {"node": nodes}
    assert [s["instance"] for s in d["pinbench"]["streams"]] == inst["of_stream"]
    assert d["pinbench"]["config"]["engine"]["instances"] == nodes
    assert f"Engine Instances: {nodes} for {NCORES} streams" in r.stdout


class _Counting(OnnxRuntimeEngine):
    """ONNX Runtime, recording when instances_built ran against the steps."""

    events: ClassVar[list[str]] = []
    shares_inline_instances = False  # as a user engine that does not say

    def instances_built(self) -> None:
        self.events.append("built")

    def bind(self, instance: Any, inputs: dict[str, np.ndarray]) -> Any:
        step = super().bind(instance, inputs)
        self.events.append("bound")

        def run() -> object:
            if self.events[-1] != "step":
                self.events.append("step")
            return step()

        return run


def test_instances_built_runs_once_after_every_bind_and_before_the_clock() -> None:
    _Counting.events = []
    r = pinbench.benchmark(
        "squeezenet", engine=_Counting, num_streams=NCORES, time=0.2, warmup_time=0.05
    )
    assert _Counting.events[: NCORES + 1] == ["bound"] * NCORES + ["built"]
    assert _Counting.events.count("built") == 1
    # An engine that does not declare inline sharing keeps an instance per stream under auto.
    assert r.config.engine_instances == NCORES
    assert r.config.instances is not None and r.config.instances.kinds == {"stream": NCORES}
