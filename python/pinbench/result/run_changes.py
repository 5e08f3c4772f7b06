"""Runs compared (``pinbench compare A.json B.json [...]``): how each run differs from the first,
and whether it matters.

For throughput and median latency, a change is tested:

- **across repetitions** when both files hold two or more (``pinbench -r N``): Welch's t test of
  the repetitions' log values at ``--alpha`` (default 0.01). Each repetition has a warmup and a
  window of its own, so their spread is the noise between runs: what a change must beat;
- otherwise **within each run**, which cannot tell a change from the machine's drift between
  the two runs (said so in the output): a two-sided Mann-Whitney U test on the raw samples when
  both have them (``--export-samples``, found through ``pinbench.samples``: the per-iteration
  latencies, or the throughput of each slice of the window), else whether the 95% confidence
  intervals overlap (schema 2 on), else (schema 1) unknown, ``?``.

``--fail-if-slower PCT`` exits 1 when a run's throughput fell, or its median latency rose, by
PCT% or more, and the data can support it: across repetitions, the change must also be
significant; with one run a side, where no test can tell change from drift, both runs must have
been judged valid (a run disturbed by other work does not fail the gate: its verdict says why).
Choose PCT above this machine's run-to-run noise. Usage errors exit 2 with one line.

Two runs of ``-s generate`` also compare their token figures (``GENERATION_METRICS``): mean TTFT
and TPOT (lower is better) and the decode rate (higher is better) are tested as above: across
repetitions (each repetition's figure), else on the raw samples (Mann-Whitney U on the prefill
calls for TTFT, on the decode calls for TPOT and the decode rate: a rank test, so a call's
time and its rate give one answer), else unknown (``?``: the token figures have no interval of
their own); the p99s and the prefill and output rates are shown, not tested. ``--fail-if-slower``
holds them to the same rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..base.errors import UsageError
from ..settings import COMPARE_ALPHA
from .schema.run import RunDoc, read_run
from .schema.values import number, read_json_file

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from .samples import StreamSamples

ALPHA = COMPARE_ALPHA  # the settings' (settings.commands), as compare --alpha's
# (key, label, higher is better, tested)
METRICS: tuple[tuple[str, str, bool, bool], ...] = (
    ("items_per_sec", "throughput (items/s)", True, True),
    ("median", "latency median (ms)", False, True),
    ("p99", "latency p99 (ms)", False, False),
)
# -s generate's, compared when both runs have them (``result.generation``'s definitions).
GENERATION_METRICS: tuple[tuple[str, str, bool, bool], ...] = (
    ("ttft", "TTFT mean (ms)", False, True),
    ("ttft_p99", "TTFT p99 (ms)", False, False),
    ("tpot", "TPOT mean (ms)", False, True),
    ("tpot_p99", "TPOT p99 (ms)", False, False),
    ("prefill_tokens_per_sec", "prefill (tokens/s)", True, False),
    ("decode_tokens_per_sec", "decode (tokens/s)", True, True),
    ("output_tokens_per_sec", "output (tokens/s)", True, False),
)


@dataclass(frozen=True)
class Compared:
    """A run as compare reads it: its document read back, and its raw samples when the file
    the document names was found beside it and reads."""

    run: RunDoc
    streams: list[StreamSamples] | None

    def value(self, key: str) -> float:
        """A metric's figure (METRICS' and GENERATION_METRICS' keys; NaN when missing)."""
        g = self.run.generation
        if key in TOKEN_FIGURES:
            return math.nan if g is None else number(getattr(g, TOKEN_FIGURES[key]))
        if key == "p99":
            return self.run.percentiles.get(99.0, math.nan)
        return self.run.median_ms if key == "median" else self.run.items_per_sec

    def repeated(self, key: str) -> tuple[float, ...]:
        """The metric's value in each repetition; () for a single run."""
        return self.run.repetitions.get(key, ())


# GENERATION_METRICS' keys -> the figure of ``GenerationFigures``.
TOKEN_FIGURES = {
    "ttft": "ttft_mean_ms",
    "ttft_p99": "ttft_p99_ms",
    "tpot": "tpot_mean_ms",
    "tpot_p99": "tpot_p99_ms",
    "prefill_tokens_per_sec": "prefill_tokens_per_sec",
    "decode_tokens_per_sec": "decode_tokens_per_sec",
    "output_tokens_per_sec": "output_tokens_per_sec",
}


@dataclass(frozen=True)
class Change:
    """One metric of one run against the baseline."""

    metric: str
    label: str
    base: float
    other: float
    change: float  # other / base - 1 (NaN when undefined)
    worse_by: float  # how much worse, as a fraction (negative: better)
    test: str  # how significance was judged, for a person
    significant: bool | None  # None: unknown
    tested: bool
    across_runs: bool = False  # the test spans repetitions (between runs), not one run each
    both_valid: bool = True  # both runs' verdicts were valid

    @property
    def verdict(self) -> str:
        if not self.tested:
            return ""
        if self.significant is None:
            return "?"
        if not self.significant:
            return "no significant change"
        return "slower" if self.worse_by > 0 else "faster"

    def slower_beyond(self, pct: float) -> bool:
        """Whether ``--fail-if-slower pct`` fails on this change: what the data can support.

        With repetitions on both sides: a slowdown of ``pct`` percent or more that the test
        across repetitions finds significant. With one run a side, no test can tell a change
        from the machine's drift between runs (a test inside each run says nothing about it):
        a slowdown of ``pct`` percent or more between two runs that were both judged valid.
        """
        if not (self.tested and math.isfinite(self.worse_by) and self.worse_by * 100.0 >= pct):
            return False
        if self.across_runs:
            return self.significant is True
        return self.both_valid


# --- loading -------------------------------------------------------------------------------------


def load_run(path: str) -> RunDoc:
    """Reads a pinbench JSON of a run (any schema); UsageError (one line) for anything else."""
    data = read_json_file(path)
    try:
        return read_run(data, path)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise UsageError(f"{path}: not a pinbench JSON (missing or bad {e})") from None


def compared(run: RunDoc) -> Compared:
    """``run`` with its raw samples, when its samples file was found and reads."""
    from .samples import read_samples

    if run.samples is None:
        return Compared(run, None)
    try:
        return Compared(run, read_samples(run.samples))
    except ValueError:
        return Compared(run, None)


# --- comparing -----------------------------------------------------------------------------------


def compare_runs(
    base: RunDoc | Compared, other: RunDoc | Compared, alpha: float = ALPHA
) -> list[Change]:
    """Every metric of ``other`` against ``base`` (the token figures when both generate)."""
    base = base if isinstance(base, Compared) else compared(base)
    other = other if isinstance(other, Compared) else compared(other)
    out = []
    both_generate = base.run.generation is not None and other.run.generation is not None
    metrics = (*METRICS, *GENERATION_METRICS) if both_generate else METRICS
    for key, label, higher_better, tested in metrics:
        a, b = base.value(key), other.value(key)
        change = b / a - 1.0 if a and math.isfinite(a) and math.isfinite(b) else math.nan
        worse_by = -change if higher_better else change
        across = tested and len(base.repeated(key)) >= 2 and len(other.repeated(key)) >= 2
        significant: bool | None
        if across:
            test, significant = _across_repetitions(key, base, other, alpha)
        else:
            test, significant = _significance(key, base, other, alpha) if tested else ("", None)
        both_valid = base.run.valid is not False and other.run.valid is not False
        out.append(
            Change(
                key, label, a, b, change, worse_by, test, significant, tested, across, both_valid
            )
        )
    return out


def _across_repetitions(
    key: str, base: Compared, other: Compared, alpha: float
) -> tuple[str, bool]:
    """Welch's t test of the repetitions' log values: the noise between runs is the noise."""
    from ..base.stats import welch_t_test

    x = [math.log(v) for v in base.repeated(key) if v > 0 and math.isfinite(v)]
    y = [math.log(v) for v in other.repeated(key) if v > 0 and math.isfinite(v)]
    _, p = welch_t_test(x, y)
    shown = "p<0.001" if p < 0.001 else f"p={p:.3f}"
    return f"t across repetitions {shown} ({len(x)} vs {len(y)})", bool(p < alpha)


def within_runs_only(changes: list[Change]) -> bool:
    """True when no tested change spans repetitions: one run a side."""
    return not any(c.across_runs for c in changes if c.tested)


def _significance(
    key: str, base: Compared, other: Compared, alpha: float
) -> tuple[str, bool | None]:
    if base.streams is not None and other.streams is not None:
        from ..base.stats import mann_whitney_u

        x, y, what = _sample_sets(key, base, other)
        if x.size and y.size:
            r = mann_whitney_u(x, y)
            p = "p<0.001" if r.p < 0.001 else f"p={r.p:.3f}"
            return f"MWU {p} ({x.size} vs {y.size} {what})", r.p < alpha
    if key not in ("items_per_sec", "median"):  # the token figures have no interval of their own
        return "no samples", None
    ci_a, ci_b = (
        (base.run.items_per_sec_ci, other.run.items_per_sec_ci)
        if key == "items_per_sec"
        else (base.run.median_ci, other.run.median_ci)
    )
    if ci_a is not None and ci_b is not None:
        apart = ci_a[1] < ci_b[0] or ci_b[1] < ci_a[0]
        return ("95% CIs apart" if apart else "95% CIs overlap"), apart
    return "no samples or CIs", None


def _sample_sets(
    key: str, base: Compared, other: Compared
) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    if key in ("ttft", "tpot", "decode_tokens_per_sec"):
        prefill = key == "ttft"
        return (
            _call_times_ms(base, prefill),
            _call_times_ms(other, prefill),
            "prefill calls" if prefill else "decode calls",
        )
    if key == "median":
        return (
            _latencies_ms(base.streams or []),
            _latencies_ms(other.streams or []),
            "iterations",
        )
    return (
        _slice_rates(base.streams or [], base.run.batch_size),
        _slice_rates(other.streams or [], other.run.batch_size),
        "slices",
    )


def _latencies_ms(streams: list[StreamSamples]) -> NDArray[np.float64]:
    import numpy as np

    if not streams:
        return np.empty(0, dtype=np.float64)
    return np.concatenate([s.latencies_ns for s in streams]).astype(np.float64) / 1e6


def _call_times_ms(run: Compared, prefill: bool) -> NDArray[np.float64]:
    """The prefill calls' (call 0 of each request) or the decode calls' times, in ms: the
    samples of -s generate are whole requests, ``calls_per_request`` calls each."""
    import numpy as np

    g = run.run.generation
    parts = []
    has_prefill = g is not None and g.prompt_tokens > 0
    if g is not None and (has_prefill or not prefill):
        per_request = max(g.calls_per_request, 1)
        for s in run.streams or []:
            whole = (s.starts_ns.size // per_request) * per_request
            calls = (s.ends_ns[:whole] - s.starts_ns[:whole]).reshape(-1, per_request)
            if has_prefill:
                parts.append(calls[:, 0] if prefill else calls[:, 1:].ravel())
            else:
                parts.append(calls.ravel())
    if not parts:
        return np.empty(0, dtype=np.float64)
    return np.concatenate(parts).astype(np.float64) / 1e6


def _slice_rates(streams: list[StreamSamples], batch_size: int) -> NDArray[np.float64]:
    """Items per second in each slice of the window, as for the throughput interval."""
    import numpy as np

    from ..base.throughput import batch_count, batch_rates

    measured = [s for s in streams if s.starts_ns.size]
    if not measured:
        return np.empty(0, dtype=np.float64)
    window = (
        int(min(s.starts_ns[0] for s in measured)),
        int(max(s.ends_ns[-1] for s in measured)),
    )
    n = sum(int(s.starts_ns.size) for s in measured)
    slices = batch_count((window[1] - window[0]) / 1e9, n)
    pairs = [(s.starts_ns, s.ends_ns) for s in measured]
    return batch_rates(pairs, window, slices) * batch_size
