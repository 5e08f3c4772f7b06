"""The one output guard: every flag of every command that names an output, found by its argparse
type, is pointed at a model and must leave it alone (exit 2, one line, bytes and mtime kept)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pinbench.base.errors import UsageError
from pinbench.base.files import Output, guard_outputs, looks_like_onnx
from pinbench.cli import COMMANDS, ab, benchmark, compare, machine, report, sweep, types
from pinbench.model.resolve import resolve_model_path

from subproc import run_pinbench

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"
PARSERS = {
    "pinbench": benchmark.build_parser(),
    "ab": ab.build_parser(),
    "compare": compare.build_parser(),
    "report": report.build_parser(),
    "sweep": sweep.build_parser(),
    "machine": machine.build_parser(),
}
# Words of a flag's help that say it writes something: such a flag must be typed as an output.
WRITES = ("write", "written", "draw")


def output_flags() -> list[tuple[str, str, bool]]:
    """(command, flag, is a folder) for every output flag of every command."""
    found = []
    for command, parser in PARSERS.items():
        for action in parser._actions:
            if action.type in types.OUTPUT_TYPES:
                flag = max(action.option_strings, key=len)
                found.append((command, flag, action.type is types.output_folder))
    return found


def command_line(command: str, model: Path, result: Path) -> list[str]:
    """A command line of ``command`` that would run for a moment on ``model``."""
    fast = ["-t", "0.2", "-w", "0"]
    if command == "pinbench":
        return [str(model), *fast]
    if command == "sweep":
        return ["sweep", str(model), *fast, "--batch-sizes", "1"]
    if command == "ab":
        return ["ab", str(model), *fast, "-r", "1", "--a", "-nstreams 1", "--b", "-nstreams 1"]
    if command == "machine":
        return ["machine", "--cores", "1", "--bandwidth-mib", "64", "--repetitions", "1"]
    assert command == "report", command
    return ["report", str(result)]


def pinbench(*args: str) -> subprocess.CompletedProcess[str]:
    return run_pinbench(*args)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """A model and a result of it, in a folder of their own."""
    model = tmp_path / "model.onnx"
    shutil.copyfile(resolve_model_path("squeezenet"), model)
    result = tmp_path / "good.json"
    shutil.copyfile(FIXTURES / "schema1.json", result)
    return model, result


def test_every_command_is_walked() -> None:
    assert set(PARSERS) == {"pinbench", *COMMANDS}
    flags = {(c, f) for c, f, _ in output_flags()}
    assert {
        ("pinbench", "--export_path"),
        ("pinbench", "--export-samples"),
        ("pinbench", "--plot"),
        ("pinbench", "--profile"),
        ("ab", "--export_path"),
        ("report", "--output"),
        ("sweep", "--export_path"),
        ("sweep", "--csv"),
        ("sweep", "--csv-dir"),
        ("sweep", "--plot"),
        ("machine", "--export_path"),
    } <= flags


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_a_flag_that_writes_is_typed_as_an_output(command: str) -> None:
    """A new flag cannot forget the guard: if its help says it writes, its type must say so."""
    for action in PARSERS[command]._actions:
        if action.nargs == 0 or not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        writes = any(word in (action.help or "").lower() for word in WRITES)
        assert writes == (action.type in types.OUTPUT_TYPES), (command, action.option_strings)


@pytest.mark.parametrize(("command", "flag", "folder"), output_flags())
def test_no_output_flag_writes_onto_a_model(
    command: str, flag: str, folder: bool, files: tuple[Path, Path], tmp_path: Path
) -> None:
    model, result = files
    # The model measured, and a model under a name the flag writes (only the bytes tell).
    suffix = {"--plot": ".png", "--export-samples": ".npz", "--csv": ".csv"}.get(flag, ".json")
    disguised = tmp_path / f"disguised{suffix}"
    shutil.copyfile(model, disguised)
    for target in (model, disguised):
        before = (target.read_bytes(), target.stat().st_mtime_ns)
        # --slurm-folder is an output of a sweep on Slurm only (guarded before submitit loads)
        slurm = ["--cluster", "slurm:local"] if flag == "--slurm-folder" else []
        r = pinbench(*command_line(command, model, result), *slurm, flag, str(target))
        assert r.returncode == 2, (flag, target, r.stderr)
        assert r.stdout == "" and r.stderr.count("\n") == 1, r.stderr
        if flag != "--plot" or importlib.util.find_spec("matplotlib") is not None:
            assert "model" in r.stderr, r.stderr
        assert (target.read_bytes(), target.stat().st_mtime_ns) == before, (flag, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [model.name, result.name, disguised.name]
    )


@pytest.mark.parametrize("command", ["pinbench", "sweep"])
def test_two_outputs_of_one_command_never_share_a_file(
    command: str, files: tuple[Path, Path], tmp_path: Path
) -> None:
    model, result = files
    flags = [f for c, f, folder in output_flags() if c == command and not folder]
    out = tmp_path / "out.json"
    argv = command_line(command, model, result)
    r = pinbench(*argv, flags[0], str(out), flags[1], str(out))
    assert r.returncode == 2 and "writes there too" in r.stderr, r.stderr
    assert not out.exists()


def test_report_never_writes_onto_what_it_reads(files: tuple[Path, Path]) -> None:
    _, result = files
    before = result.read_bytes()
    r = pinbench("report", str(result), "--format", "markdown", "-o", str(result))
    assert r.returncode == 2 and "a result being read" in r.stderr, r.stderr
    assert result.read_bytes() == before


def test_a_folder_output_that_is_a_file_is_a_usage_error(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    model, _ = files
    plain = tmp_path / "some_file.onnx"
    plain.write_text("not a model\n")
    r = pinbench("sweep", str(model), "-t", "0.2", "-w", "0", "--csv-dir", str(plain))
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "is a file; give a folder" in r.stderr, r.stderr
    assert plain.read_text() == "not a model\n"


def test_the_sniff_knows_a_model_by_its_bytes(files: tuple[Path, Path], tmp_path: Path) -> None:
    model, result = files
    assert looks_like_onnx(model)
    for not_a_model in (result, tmp_path, tmp_path / "missing.onnx"):
        assert not looks_like_onnx(not_a_model)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert not looks_like_onnx(fifo)  # not opened: a read would wait for a writer
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(model.read_bytes()[:-10])  # a length prefix runs past the end
    assert not looks_like_onnx(empty) and not looks_like_onnx(cut)


def test_the_guard_through_the_api(tmp_path: Path) -> None:
    data = tmp_path / "x.bin"
    data.write_bytes(b"weights")
    with pytest.raises(UsageError, match=r"external data x\.bin"):
        guard_outputs([Output("-x", data)], [("the model's external data x.bin", data)])
    folder = tmp_path / "new" / "csvs"  # its files are checked once the guard made it
    guard_outputs([Output("--csv-dir", folder / "a.csv"), Output("--csv-dir", folder, folder=True)])
    assert folder.is_dir() and list(folder.iterdir()) == []
