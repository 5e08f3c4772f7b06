"""SweepSettings: a grid of runs, each point one whole run of its base RunSettings, and the
checks of its axes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..base.errors import UsageError
from .checks import MAX_INT64, is_int, validate_target
from .fleet import FleetSettings  # noqa: TC001 (at run time: the field paths resolve fleet)
from .groups import TARGET_PERCENTILE, parse_scenario
from .run import RunSettings  # noqa: TC001 (at run time: the field paths resolve base)

SWEEP_SCENARIOS: tuple[str, ...] = ("async", "elastic", "sync", "generate")
MAX_CORES = "max"  # --cores max: every physical core this process may use
# A point's -t and -w where the command line or run_sweep() leaves them out: a grid multiplies
# one run's length by its points. (SweepSettings(base) itself runs base's.)
SWEEP_TIME_S = 5.0
SWEEP_WARMUP_S = 1.0


@dataclass(frozen=True)
class SweepSettings:
    """A grid of models x engines x core counts x scenarios x batch sizes x stream counts, each
    point one whole run of ``base`` (its -t, -w, -pin, --seed, ...).

    An empty axis takes ``base``'s value alone: ``models=()`` runs ``base.model``, ``engines=()``
    ``base.engine.engine``, ``cores=()`` ``base.layout.num_cores`` (all cores when None) and
    ``scenarios=()`` ``base.layout.scenario``. A folder among ``models`` that holds no
    ``model.onnx`` stands for every ``.onnx`` file under it (``pinbench.search.sweep_grid``).
    ``sync`` points run one stream whatever ``streams`` says.

    Decoders: ``prompt_tokens`` and ``new_tokens`` are axes of the ``generate`` points (() =
    ``base.generation``'s); ``sequence_lengths`` (``-seq_len``) an axis of the single-call points
    (() = ``base.inputs.sequence_length``), each a forward pass of that KV shape.

    Example::

        >>> base = RunSettings.from_kwargs("squeezenet", time=1.0, warmup_time=0.2)
        >>> s = SweepSettings(base, batch_sizes=(1, 4), streams=(1, 2), cores=(1, "max"))
        >>> s.validate().cores, s.validate().engines
        ((1, 'max'), ('onnxruntime',))
    """

    base: RunSettings  # the flags every point shares (-t, -w, -pin, --seed, ...)
    batch_sizes: tuple[int, ...] = (1,)
    streams: tuple[int, ...] | None = None  # None: the candidates of -nstreams auto
    latency_slo_ms: float | None = None  # each model's best point must meet it
    percentile: float = TARGET_PERCENTILE  # the latency percentile of the table, frontier, target
    models: tuple[str, ...] = ()  # () = base.model alone
    engines: tuple[str | type, ...] = ()  # () = base.engine.engine alone
    cores: tuple[int | str, ...] = ()  # physical cores per point, or "max"; () = base's
    scenarios: tuple[str, ...] = ()  # async, elastic, sync, generate; () = base's scenario alone
    prompt_tokens: tuple[int, ...] = ()  # generate points' --prompt-tokens; () = base's
    new_tokens: tuple[int, ...] = ()  # generate points' --new-tokens; () = base's
    sequence_lengths: tuple[int, ...] = ()  # single-call points' -seq_len; () = base's
    fleet: FleetSettings | None = None  # None: every point on this machine

    def validate(self) -> SweepSettings:
        """Every axis checked and deduplicated in the order given, empty axes filled from
        ``base``; UsageError (one line) for a value that cannot run anywhere."""
        scenarios = _sweep_scenarios(self.scenarios or (self.base.layout.scenario,))
        bs = tuple(dict.fromkeys(self.batch_sizes))
        ns = None if self.streams is None else tuple(dict.fromkeys(self.streams))
        if not bs or ns == ():
            raise UsageError("sweep needs at least one batch size and one number of streams")
        for v, flag in [*((b, "--batch") for b in bs), *((n, "--streams") for n in ns or ())]:
            if not (is_int(v) and 1 <= v <= MAX_INT64):
                raise UsageError(f"sweep {flag}: {v!r} is not an integer from 1 to 2**63 - 1")
        if scenarios == ("sync",) and ns not in (None, (1,)):
            raise UsageError("sweep -s sync runs one stream: give --streams 1, or -s async")
        validate_target(self.percentile, self.latency_slo_ms)
        if self.cores and self.base.layout.num_cores is not None:
            raise UsageError("sweep: give the cores once, with --cores (or -ncores), not both")
        base = dataclasses.replace(
            self.base, layout=dataclasses.replace(self.base.layout, scenario=scenarios[0])
        ).validate()
        if base.inputs.batch_size is not None or base.layout.num_streams is not None:
            raise UsageError("sweep sets the batch size and the streams of each point itself")
        cores = _sweep_cores(self.cores or (base.layout.num_cores or MAX_CORES,))
        prompts, news, seqs = _sweep_decoder_axes(self, scenarios)
        return dataclasses.replace(
            self,
            # the axes hold the cores now: validate() again finds them given once
            base=dataclasses.replace(base, layout=dataclasses.replace(base.layout, num_cores=None)),
            batch_sizes=bs,
            streams=ns,
            models=_sweep_models(self.models or (base.model,)),
            engines=_sweep_engines(self.engines or (base.engine.engine,)),
            cores=cores,
            scenarios=scenarios,
            prompt_tokens=prompts,
            new_tokens=news,
            sequence_lengths=seqs,
            fleet=None if self.fleet is None else self.fleet.validate(),
        )


def _sweep_decoder_axes(
    sweep: SweepSettings, scenarios: tuple[str, ...]
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """The request axes checked: each value an integer in range, each axis with a scenario
    that uses it, no request of no tokens."""
    prompts = tuple(dict.fromkeys(sweep.prompt_tokens))
    news = tuple(dict.fromkeys(sweep.new_tokens))
    seqs = tuple(dict.fromkeys(sweep.sequence_lengths))
    for values, flag, least in ((prompts, "--prompt-tokens", 0), (news, "--new-tokens", 0),
                                (seqs, "-seq_len", 1)):  # fmt: skip
        for v in values:
            if not (is_int(v) and least <= v <= MAX_INT64):
                raise UsageError(f"sweep {flag}: {v!r} is not an integer from {least} to 2**63 - 1")
    if (prompts or news) and "generate" not in scenarios:
        raise UsageError(
            "sweep --prompt-tokens and --new-tokens shape -s generate's requests: add generate "
            "to -s"
        )
    if seqs and all(s == "generate" for s in scenarios):
        raise UsageError(
            "sweep -seq_len fixes the single-call scenarios' forward pass: add async, elastic "
            "or sync to -s (generate's lengths are its requests')"
        )
    g = sweep.base.generation
    if "generate" in scenarios and max(prompts or (g.prompt_tokens,)) == 0 == max(
        news or (g.new_tokens,)
    ):  # a request of neither runs nothing; (0, 0) among others is left out of the grid
        raise UsageError("sweep -s generate needs --prompt-tokens or --new-tokens above 0")
    return prompts, news, seqs


def _sweep_scenarios(given: tuple[str, ...]) -> tuple[str, ...]:
    out = []
    for name in given:
        scenario = parse_scenario(name)
        if scenario not in SWEEP_SCENARIOS:
            raise UsageError(
                f"sweep -s {scenario}: choose async, elastic, sync or generate (for the server "
                "scenario's highest rate under a target use pinbench --find-qps)"
            )
        out.append(scenario)
    return tuple(dict.fromkeys(out))


def _sweep_models(given: tuple[str, ...]) -> tuple[str, ...]:
    for m in given:
        if not isinstance(m, str) or not m.strip():
            raise UsageError("sweep: every model must be a file, a folder or a built-in name")
    return tuple(dict.fromkeys(given))


def _sweep_engines(given: tuple[str | type, ...]) -> tuple[str | type, ...]:
    for e in given:
        if not (isinstance(e, type) or (isinstance(e, str) and e.strip())):
            raise UsageError(f"sweep --engines: {e!r} is not an engine name or class")
    return tuple(dict.fromkeys(e.strip() if isinstance(e, str) else e for e in given))


def _sweep_cores(given: tuple[int | str, ...]) -> tuple[int | str, ...]:
    out: list[int | str] = []
    for c in given:
        if isinstance(c, str) and c.strip().lower() == MAX_CORES:
            out.append(MAX_CORES)
        elif is_int(c) and c >= 1:  # type: ignore[operator]
            out.append(c)
        else:
            raise UsageError(f"sweep --cores: {c!r} is not an integer >= 1 or 'max'")
    return tuple(dict.fromkeys(out))
