"""Output files: every one passes one guard before a run (``guard_outputs``), and is written
atomically after it.

A temporary file beside the target, then a rename, so a reader never sees half a file and an
interrupted write leaves the old file alone.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ModelProto's top-level fields (onnx.proto): number -> wire type (0 varint, 2 length-delimited).
_MODEL_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2}
_MAX_SNIFF_FIELDS = 1 << 16  # a real model has tens of top-level fields; stop long before


@dataclass(frozen=True)
class Output:
    """One file (or folder) a command writes: the flag that names it, for the error line.

    ``suffixes``: the file name endings accepted (``(".npz", ".csv")``); empty for any.
    ``folder``: the path must be a folder (created when missing), files go into it.
    """

    flag: str
    path: str | os.PathLike[str]
    folder: bool = False
    suffixes: tuple[str, ...] = ()


def looks_like_onnx(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a file whose bytes are an ONNX ModelProto at the top level: every
    field one of ModelProto's with its wire type, lengths ending exactly at the end of the file,
    and a graph or an IR version among them. Only the field headers are read (a seek over each
    payload), so a model of gigabytes costs a few reads; JSON, CSV, images and NumPy files fail
    on their first byte.

    Example: ``looks_like_onnx("model.onnx")`` is True, ``looks_like_onnx("r.json")`` False.
    """
    try:
        if not Path(path).is_file():  # a FIFO or a device: reading could block
            return False
        with Path(path).open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                return False
            seen: set[int] = set()
            for _ in range(_MAX_SNIFF_FIELDS):
                if f.tell() == size:
                    return bool(seen & {1, 7})
                tag = _read_varint(f)
                if tag is None or _MODEL_FIELDS.get(tag >> 3) != tag & 7:
                    return False
                number, wire = tag >> 3, tag & 7
                length = _read_varint(f)
                if length is None:
                    return False
                if wire == 2:
                    if f.tell() + length > size:
                        return False
                    f.seek(length, os.SEEK_CUR)
                seen.add(number)
    except OSError:  # a folder, unreadable, gone: not a model pinbench could be asked to keep
        return False
    return False


def _read_varint(f: IO[bytes]) -> int | None:
    value = 0
    for shift in range(0, 64, 7):
        byte = f.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
    return None


def guard_outputs(
    outputs: Sequence[Output],
    inputs: Sequence[tuple[str, str | os.PathLike[str]]] = (),
) -> None:
    """The one check every output of every command passes before anything runs: UsageError
    (one line, exit 2) when an output would replace an input (``inputs``: (what, path) pairs
    such as ``("the model", "m.onnx")``), another output of the same command, or any file that
    holds an ONNX model; has a suffix its flag does not write; or cannot be written. Folders
    that must be folders are folders, created when missing (only once every other check passed).

    It tries the writes for real (a temporary file in the target folder, removed at once):
    permission bits say nothing for root or on a read-only file system. Paths are compared as
    files (``same_file``), so a hard link or a symlink to the model is caught too.

    Example: ``guard_outputs([Output("-x", "m.onnx")], [("the model", "m.onnx")])`` raises.
    """
    for i, out in enumerate(outputs):
        _refuse_inputs(out, inputs, outputs[:i])
        p = Path(out.path)
        if out.folder:
            if p.exists() and not p.is_dir():
                raise UsageError(f"{out.flag} {out.path}: is a file; give a folder")
            continue
        if p.is_dir():
            raise UsageError(f"{out.flag} {out.path}: is a directory; give a file name")
        if out.suffixes and p.suffix.lower() not in out.suffixes:
            names = " or ".join(out.suffixes)
            raise UsageError(f"{out.flag} {out.path}: give a {names} file name")
    # Folders first: the files of a --csv-dir go into a folder that may not exist yet.
    for out in sorted(outputs, key=lambda o: not o.folder):
        _try_write(out)


def _refuse_inputs(
    out: Output,
    inputs: Sequence[tuple[str, str | os.PathLike[str]]],
    earlier: Sequence[Output],
) -> None:
    for what, path in inputs:
        if same_file(out.path, path):
            # The input's own name only when it differs (a link), as the line is short.
            named = "" if Path(out.path).absolute() == Path(path).absolute() else f" ({path})"
            raise UsageError(
                f"{out.flag} {out.path}: that is {what}{named}, which pinbench only reads; "
                "write the output to another file"
            )
    for other in earlier:
        if same_file(out.path, other.path):
            raise UsageError(
                f"{out.flag} {out.path}: {other.flag} writes there too; "
                "give each output its own file"
            )
    if looks_like_onnx(out.path):
        raise UsageError(
            f"{out.flag} {out.path}: that file holds an ONNX model, which pinbench never "
            "overwrites; write the output to another file"
        )


def _try_write(out: Output) -> None:
    p = Path(out.path)
    parent = p if out.folder else p.parent
    if not out.folder and not parent.is_dir():
        raise UsageError(f"{out.flag} {out.path}: folder {parent} does not exist")
    try:
        if out.folder:
            p.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".check", dir=parent)
        os.close(fd)
        Path(tmp).unlink()
        if not out.folder and p.exists():
            with p.open("a"):
                pass
    except OSError as e:
        raise UsageError(f"{out.flag} {out.path}: cannot write there ({e.strerror or e})") from e


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when ``a`` and ``b`` name one file: the same inode (hard links, symlinks, ``..``) when
    both exist, else the same resolved path."""
    try:
        return Path(a).samefile(b)
    except OSError:  # one of them does not exist (yet)
        return Path(a).resolve() == Path(b).resolve()


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
