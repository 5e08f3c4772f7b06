"""Output files: checked before a run, written atomically after it.

A temporary file beside the target, then a rename, so a reader never sees half a file and an
interrupted write leaves the old file alone.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output_path(path: str | os.PathLike[str], flag: str = "-x") -> Path:
    """Fails now, before any run, if ``path`` cannot be written.

    It tries for real (a temporary file in the target folder, removed at once): permission bits
    say nothing for root or on a read-only file system.

    Example: ``check_output_path("out/result.json")`` raises UsageError when ``out/`` is missing.
    """
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{flag} {path}: is a directory; give a file name")
    parent = p.parent
    if not parent.is_dir():
        raise UsageError(f"{flag} {path}: folder {parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".check", dir=parent)
        os.close(fd)
        Path(tmp).unlink()
        if p.exists():
            with p.open("a"):
                pass
    except OSError as e:
        raise UsageError(f"{flag} {path}: cannot write there ({e.strerror or e})") from e
    return p


def check_output_dir(path: str | os.PathLike[str], flag: str) -> Path:
    """Fails now, before any run, if files cannot be written into folder ``path``; creates it
    (and its parents) when it does not exist yet.

    Example: ``check_output_dir("profiles", "--profile")`` makes ``profiles/`` if needed.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(f"{flag} {path}: is a file; give a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".pinbench.", suffix=".check", dir=p)
        os.close(fd)
        Path(tmp).unlink()
    except OSError as e:
        raise UsageError(f"{flag} {path}: cannot write there ({e.strerror or e})") from e
    return p


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when ``a`` and ``b`` name one file: the same inode (hard links, symlinks, ``..``) when
    both exist, else the same resolved path."""
    try:
        return Path(a).samefile(b)
    except OSError:  # one of them does not exist (yet)
        return Path(a).resolve() == Path(b).resolve()


def check_distinct_files(
    inputs: Sequence[tuple[str, str | os.PathLike[str]]],
    outputs: Sequence[tuple[str, str | os.PathLike[str]]],
) -> None:
    """UsageError when an output would replace an input or another output of the same run.

    ``inputs`` and ``outputs`` are (what, path) pairs, e.g. ``("the model", "m.onnx")`` and
    ``("-x", "out.json")``. Paths are compared as files (``same_file``), so a hard link or a
    symlink to the model is caught too.

    Example: ``check_distinct_files([("the model", "m.onnx")], [("-x", "m.onnx")])`` raises.
    """
    for i, (flag, out) in enumerate(outputs):
        for what, path in inputs:
            if same_file(out, path):
                # The input's own name only when it differs (a link), as the line is short.
                named = "" if Path(out).absolute() == Path(path).absolute() else f" ({path})"
                raise UsageError(
                    f"{flag} {out}: that is {what}{named}, which pinbench only reads; "
                    "write the output to another file"
                )
        for other, earlier in outputs[:i]:
            if same_file(out, earlier):
                raise UsageError(
                    f"{flag} {out}: {other} writes there too; give each output its own file"
                )


def write_atomically(
    path: str | os.PathLike[str], write: Callable[[IO[Any]], None], *, binary: bool
) -> None:
    """Calls ``write(file)`` on a temporary file beside ``path``, then renames it to ``path``.

    The file gets the permissions a plain ``open(path, "w")`` would give (0666 less the umask),
    not the 0600 of ``mkstemp``.

    Example: ``write_atomically("r.json", lambda f: f.write("{}"), binary=False)``.
    """
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
        Path(tmp).replace(p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(data: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Writes ``data`` as indented JSON, atomically: readers never see half a file."""

    def write(f: IO[Any]) -> None:
        json.dump(data, f, indent=2)
        f.write("\n")

    write_atomically(path, write, binary=False)
