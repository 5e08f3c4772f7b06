"""Output files written atomically: a temporary file beside the target, then a rename, so a
reader never sees half a file and an interrupted write leaves the old file alone."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
