"""A sweep's grid (``pinbench sweep``): every point planned and checked on this machine before
anything runs, and the settings each point runs with.

The grid is every combination of model x engine x core count x scenario x batch size x stream
count (``sync`` points run one stream; without ``--streams`` the stream counts are those of
``-nstreams auto`` on each core count). A folder without ``model.onnx`` stands for every ``.onnx``
file under it, sorted (deepsparse.benchmark_sweep took a folder so). ``--cores max`` is every
physical core this process may use. Before anything runs, every model is found, every engine
imported and every point's layout planned on this machine: a grid that cannot run here is a
usage error, not a failure an hour in.

Decoders: a request is ``-seq_len`` (``--sequence-lengths``) for the single-call points (one
forward pass of that KV shape, as ``pinbench -seq_len`` runs it) and ``--prompt-tokens`` x
``--new-tokens`` for the ``generate`` points. Without those axes every point has one request, the
flags' own.

Example::

    >>> grid = check_grid(SweepSettings(base, batch_sizes=(1, 4), streams=(1, 2)).validate())
    >>> [p.num_streams for p in grid.points]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..base.errors import UsageError
from ..engines import engine_class
from ..model.resolve import MODEL_FILE, REMOTE, resolve_model_path
from ..run.layout import plan_layout
from ..run.topology import topology
from ..settings import MAX_CORES, WARMUP_MAX_S
from .auto_streams import stream_candidates

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..engines.base import Engine
    from ..settings import RunSettings, SweepSettings


@dataclass(frozen=True)
class GridPoint:
    """One configuration as planned."""

    model: str
    engine: str | type
    num_cores: int
    scenario: str
    batch_size: int
    num_streams: int
    sequence_length: int | None = None  # single-call points: -seq_len (None: base's)
    prompt_tokens: int | None = None  # generate points: their request (None elsewhere)
    new_tokens: int | None = None

    @property
    def request(self) -> tuple[int | None, int | None, int | None]:
        """What the model is prepared for: the points of one request share a preparation."""
        return (self.sequence_length, self.prompt_tokens, self.new_tokens)


@dataclass(frozen=True)
class Grid:
    """The grid as checked against this machine: the axes resolved, the points in run order."""

    models: tuple[str, ...]  # folders expanded
    engines: tuple[str | type, ...]
    cores: tuple[int, ...]  # "max" resolved
    points: tuple[GridPoint, ...]
    classes: dict[str | type, type[Engine]]  # each engine's class, imported once


def expand_models(specs: Sequence[str]) -> tuple[str, ...]:
    """The models of the grid: a folder without ``model.onnx`` becomes every ``.onnx`` file
    under it (sorted); anything else stays as given. UsageError for a folder with none."""
    out: list[str] = []
    for spec in specs:
        folder = Path(spec).expanduser()
        if spec.startswith(REMOTE) or not folder.is_dir() or (folder / MODEL_FILE).is_file():
            out.append(spec)
            continue
        found = sorted(str(f) for f in folder.rglob("*.onnx") if f.is_file())
        if not found:
            raise UsageError(f"sweep: folder {spec!r} holds no .onnx file")
        out.extend(found)
    return tuple(dict.fromkeys(out))


def grid_streams(sweep: SweepSettings, scenario: str, cores: int) -> tuple[int, ...]:
    """The stream counts of one (scenario, cores) cell: 1 for sync, else as given, else auto's
    candidates on those cores."""
    if scenario == "sync":
        return (1,)
    if sweep.streams is not None:
        return sweep.streams
    return tuple(stream_candidates(cores))


def check_grid(sweep: SweepSettings) -> Grid:
    """Every model found, every engine imported and every point's layout planned on this machine
    before anything runs; UsageError (one line) otherwise.

    REQUIRES: ``sweep`` validated.
    """
    topo, lay = topology(), sweep.base.layout
    models = expand_models(sweep.models)
    for m in models:
        if not m.startswith(REMOTE):  # a remote model is fetched when its turn comes
            resolve_model_path(m)
    classes = {e: engine_class(e) for e in sweep.engines}
    allowed = len(topo.cores)
    cores = tuple(dict.fromkeys(allowed if c == MAX_CORES else int(c) for c in sweep.cores))
    cells: list[tuple[str | type, int, str, int]] = []
    for engine, c, scenario in itertools.product(sweep.engines, cores, sweep.scenarios):
        for n in grid_streams(sweep, scenario, c):
            plan_layout(
                scenario,
                topo,
                num_cores=c,
                num_streams=n,
                pinning=lay.thread_pinning,
                smt=lay.smt,
                shared=classes[engine].schedules_streams,
            )
            cells.append((engine, c, scenario, n))
    points = tuple(
        GridPoint(model, engine, c, scenario, b, n, *request)
        for model, b in itertools.product(models, sweep.batch_sizes)
        for request in requests(sweep)
        for engine, c, scenario, n in cells
        if (scenario == "generate") == (request[1] is not None)
    )
    return Grid(models, sweep.engines, cores, points, classes)


def requests(sweep: SweepSettings) -> list[tuple[int | None, int | None, int | None]]:
    """The requests of the grid, as (sequence length, prompt tokens, new tokens): one per
    ``-seq_len`` for the single-call scenarios, one per prompt x new tokens for generate."""
    out: list[tuple[int | None, int | None, int | None]] = []
    if any(s != "generate" for s in sweep.scenarios):
        seqs = sweep.sequence_lengths or (sweep.base.inputs.sequence_length,)
        out += [(seq, None, None) for seq in seqs]
    if "generate" in sweep.scenarios:
        g = sweep.base.generation
        prompts = sweep.prompt_tokens or (g.prompt_tokens,)
        news = sweep.new_tokens or (g.new_tokens,)
        # a request of neither prompt nor new tokens runs nothing: left out
        out += [(None, p, n) for p, n in itertools.product(prompts, news) if p or n]
    return out


def request_settings(p: GridPoint, base: RunSettings) -> RunSettings:
    """The settings shared by the points of ``p``'s group: its model, batch and request, and
    its scenario (the preparation differs for generate: no fixed KV shape, a request)."""
    settings = dataclasses.replace(
        base,
        model=p.model,
        inputs=dataclasses.replace(base.inputs, batch_size=p.batch_size),
        engine=dataclasses.replace(base.engine, engine=p.engine),
        layout=dataclasses.replace(base.layout, scenario=p.scenario),
    )
    if p.sequence_length is not None:
        settings = settings.with_kwargs(sequence_length=p.sequence_length)
    if p.prompt_tokens is not None:
        settings = settings.with_kwargs(prompt_tokens=p.prompt_tokens, new_tokens=p.new_tokens)
    return settings


def point_settings(p: GridPoint, at_batch: RunSettings) -> RunSettings:
    """The settings of one point: the batch's, with its engine, cores, scenario and streams."""
    return dataclasses.replace(
        at_batch,
        engine=dataclasses.replace(at_batch.engine, engine=p.engine),
        layout=dataclasses.replace(
            at_batch.layout, scenario=p.scenario, num_cores=p.num_cores, num_streams=p.num_streams
        ),
    )


def engine_label(engine: str | type) -> str:
    return engine if isinstance(engine, str) else f"{engine.__module__}.{engine.__qualname__}"


def point_command(p: GridPoint, sweep: SweepSettings) -> tuple[str, ...]:
    """The pinbench command that runs point ``p`` alone, with the sweep's shared flags."""
    b, lay = sweep.base, sweep.base.layout
    cmd = ["pinbench", p.model, "-e", engine_label(p.engine), "-b", str(p.batch_size)]
    cmd += ["-ncores", str(p.num_cores), "-s", p.scenario, "-nstreams", str(p.num_streams)]
    w = b.measure.warmup_time
    cmd += ["-t", f"{b.measure.time:g}", "-w", w if isinstance(w, str) else f"{w:g}"]
    if b.measure.auto_warmup and b.measure.warmup_max != WARMUP_MAX_S:
        cmd += ["--warmup-max", f"{b.measure.warmup_max:g}"]
    if lay.thread_pinning != "core":
        cmd += ["-pin", lay.thread_pinning]
    if b.inputs.seed:
        cmd += ["--seed", str(b.inputs.seed)]
    if p.sequence_length is not None:
        cmd += ["-seq_len", str(p.sequence_length)]
    if p.prompt_tokens is not None:
        cmd += ["--prompt-tokens", str(p.prompt_tokens), "--new-tokens", str(p.new_tokens)]
    return tuple(cmd)
