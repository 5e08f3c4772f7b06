"""Raw per-iteration samples (``--export-samples``): write them, find them, read them back.

One row per measured iteration, grouped by stream and in measured order, with three columns:
``stream`` (int), ``start_ns`` and ``end_ns`` (int64, the runner's steady clock: the same clock as
the JSON's ``window_ns``; subtract ``window_ns[0]`` for times into the window); an open-loop run
adds ``scheduled_ns``, each iteration's arrival (its latency counts from there). With
``--max-samples`` the rows are the stored uniform sample, not every iteration. Two formats, chosen
by the file name:

- ``.npz``: numpy arrays ``stream``, ``start_ns``, ``end_ns`` (``numpy.load(path)``, no pickle);
- ``.csv``: a header line ``stream,start_ns,end_ns`` then integers.

Samples are not embedded in the JSON (a fast model gives millions of rows); the JSON's
``pinbench.samples`` records the file, its path relative to the JSON's folder when both are written,
so that the two can be moved together and ``pinbench compare`` finds the samples.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ..base.files import write_atomically

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from .measurement import Measurement

FORMATS = (".npz", ".csv")
COLUMNS = ("stream", "start_ns", "end_ns", "scheduled_ns")


@dataclass(frozen=True)
class StreamSamples:
    """One stream's samples as read back from a file."""

    starts_ns: NDArray[np.int64]
    ends_ns: NDArray[np.int64]
    scheduled_ns: NDArray[np.int64] | None = None

    @property
    def latencies_ns(self) -> NDArray[np.int64]:
        origin = self.scheduled_ns if self.scheduled_ns is not None else self.starts_ns
        return self.ends_ns - origin


def write_samples(m: Measurement, path: str | os.PathLike[str]) -> None:
    """Writes every measured iteration of ``m`` to ``path`` atomically (temporary file, rename)."""
    columns = _columns(m)
    p = Path(path)

    def write(f: IO[Any]) -> None:
        if p.suffix.lower() == ".npz":
            savez: Any = np.savez  # its stubs (numpy >= 2.1) type **kwds as allow_pickle
            savez(f, **columns)
        else:
            f.write((",".join(columns) + "\n").encode())
            table = np.column_stack([c.astype(np.int64) for c in columns.values()])
            if table.size:
                np.savetxt(f, table, fmt="%d", delimiter=",")

    write_atomically(p, write, binary=True)


def reference(samples_path: str, json_path: str | None) -> dict[str, Any]:
    """The JSON's ``samples`` entry: the file relative to the JSON's folder when there is one."""
    path = samples_path
    if json_path:
        path = os.path.relpath(Path(samples_path).resolve(), Path(json_path).resolve().parent)
    return {"path": path, "format": Path(samples_path).suffix.lower().lstrip(".")}


def locate(entry: dict[str, Any] | None, json_path: str | os.PathLike[str]) -> Path | None:
    """The samples file a JSON refers to, if it exists (relative to the JSON's folder)."""
    if not entry or not entry.get("path"):
        return None
    p = Path(entry["path"])
    if not p.is_absolute():
        p = Path(json_path).parent / p
    return p if p.is_file() else None


def read_samples(path: str | os.PathLike[str]) -> list[StreamSamples]:
    """Each stream's samples, in stream order; ValueError when the file is malformed."""
    p = Path(path)
    try:
        if p.suffix.lower() == ".npz":
            with np.load(p, allow_pickle=False) as z:
                columns = {k: np.asarray(z[k], dtype=np.int64) for k in COLUMNS if k in z.files}
        else:
            with p.open() as f:
                header = f.readline().strip().split(",")
            if header not in (list(COLUMNS[:3]), list(COLUMNS)):
                raise ValueError(f"header {','.join(header)!r}")
            table = np.loadtxt(p, dtype=np.int64, delimiter=",", skiprows=1, ndmin=2)
            table = table.reshape(-1, len(header))
            columns = {k: table[:, i] for i, k in enumerate(header)}
        if any(k not in columns for k in COLUMNS[:3]):
            raise ValueError("missing columns")
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a samples file ({e})") from e
    return _streams(columns)


def _columns(m: Measurement) -> dict[str, NDArray[Any]]:
    streams = m.streams
    out: dict[str, NDArray[Any]] = {
        "stream": np.concatenate(
            [np.full(s.starts_ns.size, s.index, dtype=np.int32) for s in streams]
            or [np.empty(0, np.int32)]
        ),
        "start_ns": _cat([s.starts_ns for s in streams]),
        "end_ns": _cat([s.ends_ns for s in streams]),
    }
    if any(s.scheduled_ns is not None for s in streams):
        out["scheduled_ns"] = _cat(
            [s.scheduled_ns if s.scheduled_ns is not None else s.starts_ns for s in streams]
        )
    return out


def _cat(arrays: Sequence[NDArray[np.int64]]) -> NDArray[np.int64]:
    if not arrays:
        return np.empty(0, dtype=np.int64)
    return np.concatenate(arrays).astype(np.int64)


def _streams(columns: dict[str, NDArray[np.int64]]) -> list[StreamSamples]:
    stream = columns["stream"]
    if stream.size == 0:
        return []
    out: list[StreamSamples] = []
    for i in range(int(stream.max()) + 1):
        mask = stream == i
        order = np.argsort(columns["start_ns"][mask], kind="stable")
        scheduled = columns.get("scheduled_ns")
        out.append(
            StreamSamples(
                columns["start_ns"][mask][order],
                columns["end_ns"][mask][order],
                None if scheduled is None else scheduled[mask][order],
            )
        )
    return out
