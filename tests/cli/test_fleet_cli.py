"""pinbench sweep's fleet flags without a cluster: the flags checked before anything runs, one line
naming the extra to install when Ray or submitit is missing, and neither imported by a command
without --cluster. The sweeps on a real cluster are tests/test_fleet.py (``-m fleet``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from onnx import TensorProto

from pinbench.base.errors import UsageError
from pinbench.settings import FleetSettings

from onnx_factory import make_identity_model
from subproc import run_pinbench


@pytest.fixture
def model(tmp_path: Path) -> str:
    return str(make_identity_model(tmp_path, [("x", TensorProto.FLOAT, [1, 4])], name="m.onnx"))


def python(
    code: str, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, check=False,
        cwd=cwd,
    )  # fmt: skip


def pinbench_without(
    module: str, *argv: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``pinbench *argv`` in a process where ``import module`` fails as when it is not
    installed (``sys.modules[name] = None`` makes the import raise ImportError)."""
    return python(
        f"import sys; sys.modules[{module!r}] = None; sys.argv = ['pinbench', *{list(argv)!r}]\n"
        "from pinbench.cli import run; run()",
        cwd=cwd,
    )


def one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(
    ("module", "cluster", "extra"),
    [("ray", "ray", "pinbench[ray]"), ("submitit", "slurm:local", "pinbench[slurm]")],
)
def test_a_missing_extra_is_one_line_naming_it(
    model: str, module: str, cluster: str, extra: str, tmp_path: Path
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    r = pinbench_without(module, "sweep", model, "--cluster", cluster, "-t", "0.2", cwd=work)
    assert r.returncode == 2, r.stderr
    assert f"pip install '{extra}'" in one_line(r.stderr)
    assert not list(work.iterdir())  # no job folder left behind by a run that never started


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--every-host"], "need --cluster"),
        (["--slurm-hosts", "2"], "need --cluster"),
        # pinbench's own message whole: "HOST:PORT" and "slurm:local" are not read as clauses
        (
            ["--cluster", "nowhere"],
            "--cluster 'nowhere': expected ray, ray://HOST:PORT, HOST:PORT, slurm or slurm:local",
        ),
        (["--cluster", "slurm:local", "--slurm-hosts", "0"], "--slurm-hosts 0"),
        (["--cluster", "ray", "--spread", "--every-host"], "not allowed with argument"),
    ],
)
def test_fleet_flags_are_checked_before_anything_runs(
    model: str, argv: list[str], message: str
) -> None:
    r = run_pinbench("sweep", model, "-t", "0.2", *argv)
    assert r.returncode == 2, r.stderr
    assert message in one_line(r.stderr)


def test_help_and_a_local_sweep_import_neither_ray_nor_submitit(model: str) -> None:
    r = python(
        "import sys\n"
        "from pinbench.cli import main\n"
        "try:\n"
        "    main(['sweep', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"code = main(['sweep', {model!r}, '-s', 'sync', '--cores', '1', '-t', '0.2', '-w', '0',"
        " '-q'])\n"
        "print('exit', code, 'imported', sorted({'ray', 'submitit'} & set(sys.modules)))\n"
    )
    assert r.returncode == 0, r.stderr
    assert "--cluster WHERE" in r.stdout and "--every-host" in r.stdout
    assert r.stdout.strip().splitlines()[-1] == "exit 0 imported []"


@pytest.mark.parametrize(
    ("cluster", "backend", "address"),
    [
        ("ray", "ray", "auto"),
        ("ray://head:10001", "ray", "ray://head:10001"),
        ("10.0.0.5:6379", "ray", "10.0.0.5:6379"),
        ("slurm", "slurm", "slurm"),
    ],
)
def test_cluster_names(cluster: str, backend: str, address: str) -> None:
    f = FleetSettings(cluster).validate()
    assert f.backend == backend
    if backend == "ray":
        assert f.ray_address == address


def test_a_mode_of_no_kind_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="fleet mode 'each'"):
        FleetSettings("ray", mode="each").validate()
