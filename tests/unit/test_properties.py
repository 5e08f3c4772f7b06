"""Properties on generated inputs: the planner on generated machines, -shapes parsing, and the
CLI on random argument lists."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import pinbench
from pinbench import UsageError
from pinbench.base.shapes import parse_input_shapes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from make_sysfs import Machine, write


@st.composite
def machines(draw: st.DrawFn) -> Machine:
    sockets = draw(st.integers(1, 4))
    nodes = draw(st.sampled_from([n for n in (0, 1, 2, 4) if n == 0 or sockets % n == 0]))
    m = Machine(
        sockets=sockets,
        cores_per_socket=draw(st.integers(1, 6)),
        threads_per_core=draw(st.integers(1, 2)),
        nodes=nodes,
    )
    cpus = list(range(m.logical()))
    offline = (
        draw(st.sets(st.sampled_from(cpus[1:]), max_size=len(cpus) // 2)) if cpus[1:] else set()
    )
    online = [c for c in cpus if c not in offline]
    allowed = draw(st.sets(st.sampled_from(online), min_size=1))
    cgroup = ",".join(map(str, sorted(allowed)))
    return Machine(
        m.sockets,
        m.cores_per_socket,
        m.threads_per_core,
        m.nodes,
        offline=tuple(sorted(offline)),
        cgroup=cgroup,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    machine=machines(),
    streams=st.integers(1, 12),
    cores=st.one_of(st.none(), st.integers(1, 30)),
    mode=st.sampled_from(["core", "numa", "none"]),
    smt=st.booleans(),
)
def test_plans_are_disjoint_inside_the_allowed_cpus_and_balanced(
    machine: Machine, streams: int, cores: int | None, mode: str, smt: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp), machine)
        topo = pinbench.topology(tmp)
    allowed = set(topo.allowed)
    assert allowed == set(map(int, (machine.cgroup or "").split(","))) - set(machine.offline)
    selected = len(topo.cores) if cores is None else cores
    impossible = selected > len(topo.cores) or (mode == "core" and streams > selected)
    if impossible:
        with pytest.raises(UsageError):
            pinbench.plan_streams(topo, streams, cores=cores, pinning=mode, smt=smt)
        return
    plans = pinbench.plan_streams(topo, streams, cores=cores, pinning=mode, smt=smt)
    assert len(plans) == streams
    for p in plans:
        assert set(p.cpus) <= allowed
        assert p.cores and set(p.cores) <= set(range(selected))  # only the selected cores
        if mode == "none":
            continue
        if smt:
            assert set(p.cpus) == {c for i in p.cores for c in topo.cores[i].cpus}
        else:
            assert len(p.cpus) == len(p.cores)  # one hardware thread per core
    if mode == "core":
        used = [c for p in plans for c in p.cores]
        assert len(used) == len(set(used)) == selected  # disjoint and complete
        sizes = [len(p.cores) for p in plans]
        assert max(sizes) - min(sizes) <= 1  # balanced
        cpus = [c for p in plans for c in p.cpus]
        assert len(cpus) == len(set(cpus))
    elif mode == "numa":
        for p in plans:
            assert len({topo.cores[i].node for i in p.cores}) == 1
    else:
        assert all(p.cpus == [] for p in plans)


shapes = st.lists(st.lists(st.integers(1, 4096), min_size=0, max_size=6), min_size=1, max_size=5)


@given(shapes)
def test_shapes_round_trip_in_order(value: list[list[int]]) -> None:
    assume(any(value))  # "[]" alone is a scalar shape; tested in test_shapes.py
    text = ",".join("[" + ",".join(map(str, s)) + "]" for s in value)
    assert parse_input_shapes(text) == value


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_./]{0,12}", fullmatch=True)


@given(st.dictionaries(names, st.lists(st.integers(1, 512), min_size=1, max_size=5), min_size=1))
def test_shapes_round_trip_by_name(value: dict[str, list[int]]) -> None:
    text = ",".join(f"{k}:[{','.join(map(str, v))}]" for k, v in value.items())
    assert parse_input_shapes(text) == value


@given(st.text(max_size=40))
def test_any_shapes_text_parses_or_is_a_usage_error(text: str) -> None:
    try:
        parse_input_shapes(text)
    except UsageError as e:
        assert "\n" not in str(e)


FLAGS = {
    "-b": st.sampled_from(["1", "2", "0", "-1", "x", "1.5"]),
    "-shapes": st.sampled_from(["[1,3,224,224]", "[1,3", "data_0:[1,3,224,224]", "x:[1]", ""]),
    "-ncores": st.sampled_from(["1", "2", "0", "999", "-3"]),
    "-nstreams": st.sampled_from(["1", "2", "0", "999", "many"]),
    "-s": st.sampled_from(["sync", "async", "elastic", "offline", "SYNC"]),
    "-pin": st.sampled_from(["core", "numa", "none", "socket"]),
    "-e": st.sampled_from(["onnxruntime", "tensorflow", "x.py:Nope"]),
    "-x": st.sampled_from(["/nonexistent-dir/r.json", "/proc/r.json"]),
    "--seed": st.sampled_from(["0", "7", "-1", "seed"]),
    "--data": st.sampled_from(["/nonexistent.npz", "/etc/hostname"]),
    "--providers": st.sampled_from(["CPUExecutionProvider", "NoSuchProvider"]),
    "--iteration-timeout": st.sampled_from(["5", "0", "-1"]),
    "--max-samples": st.sampled_from(["10", "0"]),
}


@st.composite
def argv(draw: st.DrawFn) -> list[str]:
    model = draw(
        st.sampled_from(["squeezenet", "missing.onnx", "/etc/hostname", "/", "hf:", "zoo:x"])
    )
    flags = draw(st.lists(st.sampled_from(sorted(FLAGS)), max_size=4, unique=True))
    args = [model, "-t", "0.05", "-w", "0", "-q"]
    for f in flags:
        args += [f, draw(FLAGS[f])]
    if draw(st.booleans()):
        args.append(draw(st.sampled_from(["--bogus", "-zz", "--", "extra"])))
    return args


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(args=argv())
def test_random_argument_lists_never_give_a_traceback(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from pinbench.cli import main

    try:
        code = main(args)
    except SystemExit as e:  # argparse's own usage errors
        code = e.code if isinstance(e.code, int) else 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code in (0, 1, 2), err
    if code:
        lines = err.strip().splitlines()
        assert lines and lines[-1].startswith("pinbench: error: "), err
