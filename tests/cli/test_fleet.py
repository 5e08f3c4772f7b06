"""pinbench sweep --cluster on a real Ray cluster and on submitit's local executor: the grid spread
over hosts, every kind of host running the whole grid, a host killed mid-sweep (its point retried
on another host of its kind, and recorded), the version check before anything runs, Ctrl-C (a
real SIGINT to a pinbench process), the merged document and ``pinbench report``.

One Ray cluster serves the module (Ray takes seconds to start): ``ray.cluster_utils.Cluster``
with logical nodes on this one machine, each named and typed by its custom resources
(``pinbench-host:NAME``, ``pinbench-kind:NAME``). On one machine the hosts' CPU sets overlap:
two points "on two hosts" share the same cores, so only what ran where is checked here, never
a figure. Needs ``pip install 'pinbench[ray,slurm]'``; left out of the default run (``-m fleet``).
"""

from __future__ import annotations

import dataclasses
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from onnx import TensorProto

from pinbench.api import sweep as run_sweep
from pinbench.base.errors import UsageError
from pinbench.base.version import pinbench_version
from pinbench.result.schema import load_document
from pinbench.result.sweep_record import Sweep
from pinbench.search.fleet import check_hosts, connect
from pinbench.search.fleet_slurm import job_parameters
from pinbench.settings import FleetSettings, RunSettings, SweepSettings

from onnx_factory import make_identity_model

ray = pytest.importorskip("ray")
pytest.importorskip("submitit")
from ray.cluster_utils import Cluster  # noqa: E402

pytestmark = [pytest.mark.fleet, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

# Two interchangeable hosts (a, b) and one of another kind (c).
NODES = {"a": "small", "b": "small", "c": "big"}

# An engine whose instance marks a file when it is built on a host (the point has started
# there), then sleeps per call: a point of known length that costs no CPU.
MARKING_ENGINE = """
import os, time
from pathlib import Path

class Marking:
    def __init__(self, model_path, batch_size, num_cores):
        Path({folder!r}, f"started-{{os.getpid()}}").touch()

    def run(self, inputs):
        time.sleep(0.002)
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Cluster, dict[str, Any]]]:
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    nodes = {
        name: c.add_node(
            num_cpus=1 if kind == "small" else 2,
            resources={f"pinbench-host:{name}": 1, f"pinbench-kind:{kind}": 1},
        )
        for name, kind in NODES.items()
    }
    c.wait_for_nodes()
    ray.init(address=c.address, log_to_driver=False, logging_level="ERROR")
    try:
        yield c, nodes
    finally:
        ray.shutdown()
        c.shutdown()


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fleet-model")
    return make_identity_model(folder, [("x", TensorProto.FLOAT, [1, 4])], name="tiny.onnx")


def grid(model: Path | str, fleet: FleetSettings, **kw: Any) -> SweepSettings:
    base = RunSettings.from_kwargs(str(model), time=kw.pop("time", 0.2), warmup_time=0.0)
    axes: dict[str, Any] = {"batch_sizes": (1, 2), "streams": (1,), "cores": (1,)}
    axes.update(kw)
    return SweepSettings(base, scenarios=("sync", "async"), fleet=fleet, **axes)


def test_spread_divides_the_grid_among_hosts_of_one_kind(
    cluster: tuple[Cluster, dict[str, Any]], model: Path, tmp_path: Path
) -> None:
    c, _ = cluster
    out = tmp_path / "spread.json"
    s = run_sweep(grid(model, FleetSettings(c.address)), export_path=str(out))
    assert len(s.points) == s.planned == 4 and not s.failed and not s.interrupted
    # The kind most hosts have runs the grid (c, alone of its kind, stays idle); the first two
    # points start at once, one on each free host.
    assert {p.host for p in s.points} == {"a", "b"}
    assert s.fleet is not None and s.fleet.mode == "spread"
    doc = json.loads(out.read_text())
    hosts = {h["name"]: h for h in doc["fleet"]["hosts"]}
    assert set(hosts) == {"a", "b", "c"}
    assert hosts["a"]["kind"] == "small" and hosts["c"]["kind"] == "big"
    assert hosts["a"]["environment"]["pinbench_version"] == pinbench_version()
    assert hosts["a"]["environment"]["cpu_model"]
    assert [p["host"] for p in doc["points"]] == [p.host for p in s.points]
    # Each point's full result was measured on its host, environment included.
    assert all(r["pinbench"]["environment"]["kernel"] for r in doc["results"])
    best = [b for b in doc["fleet"]["best_by_kind"] if b["kind"] == "small"]
    assert best[0]["point"] is not None and best[0]["items_per_sec_per_core"] > 0


def test_every_host_runs_the_grid_on_each_kind_and_the_report_sets_them_side_by_side(
    cluster: tuple[Cluster, dict[str, Any]], model: Path, tmp_path: Path
) -> None:
    c, _ = cluster
    out = tmp_path / "every.json"
    fleet = FleetSettings(c.address, mode="every-host")
    s = run_sweep(grid(model, fleet), export_path=str(out))
    assert len(s.points) == s.planned == 8 and not s.failed
    kinds = [p.host_kind for p in s.points]
    assert kinds.count("small") == kinds.count("big") == 4
    assert all(p.host == "c" for p in s.points if p.host_kind == "big")
    doc = load_document(str(out))
    assert isinstance(doc, Sweep) and doc.fleet is not None
    assert {b.kind for b in doc.fleet.best_by_kind} == {"small", "big"}
    report = subprocess.run(
        [sys.executable, "-m", "pinbench", "report", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert "Kinds of host side by side" in report.stdout
    side = report.stdout.split("Kinds of host side by side", 1)[1]
    assert "small" in side and "big" in side and "tiny.onnx" in side


def test_the_version_of_every_host_is_checked_before_anything_runs(
    cluster: tuple[Cluster, dict[str, Any]], model: Path
) -> None:
    c, _ = cluster
    s = grid(model, FleetSettings(c.address)).validate()
    slots = connect(s).probe(s)
    check_hosts(slots, pinbench_version())  # the same pinbench everywhere: no error
    with pytest.raises(
        UsageError, match=r"host [abc] runs pinbench .*, this machine 0\.0\.0-other"
    ):
        check_hosts(slots, "0.0.0-other")


def test_a_grid_that_cannot_run_on_a_host_is_a_usage_error_naming_it(
    cluster: tuple[Cluster, dict[str, Any]], model: Path
) -> None:
    c, _ = cluster
    with pytest.raises(UsageError, match=r"host [abc]: .*cores"):
        run_sweep(grid(model, FleetSettings(c.address), cores=(4096,)))


@pytest.mark.parametrize(
    ("signum", "code", "name"),
    [(signal.SIGINT, 130, "KeyboardInterrupt"), (signal.SIGTERM, 143, "Terminated")],
)
def test_ctrl_c_cancels_the_tasks_and_writes_what_arrived(
    cluster: tuple[Cluster, dict[str, Any]],
    model: Path,
    tmp_path: Path,
    signum: int,
    code: int,
    name: str,
) -> None:
    """SIGTERM too: ray.init installs a native SIGTERM handler in the driver (a stack, then an
    exit) that pinbench replaces with its own again."""
    c, _ = cluster
    out = tmp_path / "cut.json"
    # Started from Python with the default SIGINT handler (a shell's background job ignores it).
    proc = subprocess.Popen(
        [sys.executable, "-m", "pinbench", "sweep", str(model), "--cluster", c.address,
         "-s", "sync,async", "--batch", "1,2,4,8", "--streams", "1", "--cores", "1",
         "-t", "1", "-w", "0", "-x", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)  # the first point has arrived once the document exists
        assert out.exists(), proc.stderr.read() if proc.poll() is not None else "no point"
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == code, stderr
    doc = json.loads(out.read_text())
    assert doc["interrupted"] is True and doc["interrupt"] == name
    assert 1 <= len(doc["points"]) < doc["points_planned"] == 8
    assert all(p["host"] in ("a", "b") for p in doc["points"])
    assert "Traceback" not in stderr


def test_a_host_killed_mid_sweep_has_its_point_retried_on_another_of_its_kind(
    cluster: tuple[Cluster, dict[str, Any]], tmp_path: Path, model: Path
) -> None:
    """Last in the module: hosts a and b are gone afterwards."""
    c, nodes = cluster
    marks = tmp_path / "marks"
    marks.mkdir()
    engine = tmp_path / "marking.py"
    engine.write_text(MARKING_ENGINE.format(folder=str(marks)))
    s = grid(model, FleetSettings(c.address), time=3.0, batch_sizes=(1,),
             engines=(f"{engine}:Marking",))  # fmt: skip

    def kill_once_started(host: str, points: int) -> threading.Thread:
        def kill() -> None:
            deadline = time.monotonic() + 120
            while len(list(marks.iterdir())) < points and time.monotonic() < deadline:
                time.sleep(0.05)  # the points have built their engines on their hosts
            c.remove_node(nodes[host])

        killer = threading.Thread(target=kill)
        killer.start()
        return killer

    killer = kill_once_started("b", 2)  # one point on a, one on b
    result = run_sweep(s)
    killer.join()
    assert len(result.points) == 2 and not result.failed, [p.error for p in result.points]
    assert {p.host for p in result.points} == {"a"}  # b's point ran again on a
    retried = [p for p in result.points if p.retried_from is not None]
    assert len(retried) == 1 and "host b" in (retried[0].retried_from or "")
    assert result.fleet is not None
    (r,) = result.fleet.retries
    assert (r.failed_host, r.retried_on) == ("b", "a")

    # The last host of its kind killed: its point fails, naming it, with no host to retry on.
    for f in marks.iterdir():
        f.unlink()
    every = FleetSettings(c.address, mode="every-host")  # a alone of its kind, c of its own
    killer = kill_once_started("a", 2)
    alone = run_sweep(dataclasses.replace(s, scenarios=("sync",), fleet=every))
    killer.join()
    failed = {p.host: p.error for p in alone.points}
    assert set(failed) == {"a", "c"} and failed["c"] is None
    assert "host a" in (failed["a"] or "") and "no other host of kind small" in (failed["a"] or "")
    assert alone.fleet is not None
    assert [(r.failed_host, r.retried_on) for r in alone.fleet.retries] == [("a", None)]


# --- Slurm, through submitit's local executor ------------------------------------------------


def test_slurm_local_runs_each_point_as_a_job_and_records_its_node(
    model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "slurm.json"
    fleet = FleetSettings(
        "slurm:local", mode="every-host", slurm_folder=str(tmp_path / "jobs"),
        slurm_partitions=("p1", "p2"), slurm_hosts=2,
    )  # fmt: skip
    s = run_sweep(dataclasses.replace(grid(model, fleet), batch_sizes=(1,)), export_path=str(out))
    assert len(s.points) == s.planned == 4 and not s.failed
    assert {p.host for p in s.points} == {socket.gethostname()}
    doc = json.loads(out.read_text())
    assert doc["fleet"]["backend"] == "slurm"
    # Each partition is a kind of host and ran the whole grid (here both on this machine).
    assert [p["host_kind"].split(":")[0] for p in doc["points"]] == ["p1"] * 2 + ["p2"] * 2
    assert [k.split(":")[0] for k in doc["fleet"]["kinds"]] == ["p1", "p2"]
    assert list((tmp_path / "jobs").iterdir())  # submitit's job files, in the folder named


def test_a_slurm_job_asks_for_one_exclusive_node(tmp_path: Path) -> None:
    """The batch script submitit writes for a point's parameters (no Slurm needed to write it)."""
    from submitit.slurm.slurm import _make_sbatch_string

    fleet = FleetSettings("slurm", slurm_timeout_min=30)
    params = job_parameters(fleet, "c7i", "pinbench-point")
    generic = {"timeout_min": "time", "nodes": "nodes", "tasks_per_node": "ntasks_per_node",
               "name": "job_name"}  # fmt: skip
    args = {generic.get(k, k.removeprefix("slurm_")): v for k, v in params.items()}
    script = _make_sbatch_string(command="python -m x", folder=tmp_path, **args)
    for line in ("--exclusive", "--nodes=1", "--ntasks-per-node=1", "--partition=c7i",
                 "--time=30"):  # fmt: skip
        assert f"#SBATCH {line}" in script.splitlines(), line
