"""``pinbench compare A.json B.json [...]``: how each run differs from the first, and whether it
matters.

For throughput and median latency, a change is **significant** when:

- both runs have raw samples (``--export-samples``, found through the JSON's ``pinbench.samples``):
  a two-sided Mann-Whitney U test at ``--alpha`` (default 0.01) on the per-iteration latencies
  (median latency) or on the throughput of each slice of the window (the batch means of
  ``stats.throughput_ci``);
- otherwise, when both JSONs carry 95% confidence intervals (schema 2): the intervals do not
  overlap (a conservative test);
- otherwise (schema 1) significance is unknown, shown as ``?``.

``--fail-if-slower PCT`` exits 1 when a run's throughput fell by PCT% or more, or its median
latency rose by PCT% or more, and that change is significant or its significance unknown. The
practical threshold PCT keeps a tiny but significant difference (many samples make any systematic
difference significant) from failing a CI job. Usage errors exit 2 with one line.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from numpy.typing import NDArray

    from .samples import StreamSamples

ALPHA = 0.01
# (key, label, higher is better, tested)
METRICS: tuple[tuple[str, str, bool, bool], ...] = (
    ("items_per_sec", "throughput (items/s)", True, True),
    ("median", "latency median (ms)", False, True),
    ("p99", "latency p99 (ms)", False, False),
)


@dataclass(frozen=True)
class Run:
    """What compare needs of one exported run."""

    path: str
    schema: int
    description: str
    batch_size: int
    items_per_sec: float
    median: float
    p99: float
    iterations: int
    items_per_sec_ci: tuple[float, float] | None
    median_ci: tuple[float, float] | None
    valid: bool | None
    reasons: tuple[str, ...]
    samples: list[StreamSamples] | None

    def value(self, key: str) -> float:
        return float(getattr(self, key))


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
        """A slowdown of ``pct`` percent or more, significant or of unknown significance."""
        return (
            self.tested
            and self.significant is not False
            and math.isfinite(self.worse_by)
            and self.worse_by * 100.0 >= pct
        )


# --- loading -------------------------------------------------------------------------------------


def load_run(path: str) -> Run:
    """Reads a pinbench JSON (schema 1 or 2) and its samples when recorded and present."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"{path}: not a pinbench JSON ({e})") from None
    try:
        return _run(path, data)
    except (KeyError, TypeError, ValueError) as e:
        raise UsageError(f"{path}: not a pinbench JSON (missing or bad {e})") from None


def _run(path: str, data: dict[str, Any]) -> Run:
    br = data["benchmark_result"]
    pb = data.get("pinbench") or {}
    schema = int(pb.get("schema_version", 0))
    result = pb.get("result") or {}
    latency = result.get("latency_ms") or {}
    config = pb.get("config") or {}
    validity = pb.get("validity")
    engine = config.get("engine") or {}
    streams = config.get("num_streams", data.get("num_streams"))
    cores = config.get("num_cores", data.get("num_cores"))
    description = (
        f"{data.get('orig_model_path', '?')}, {config.get('scenario', data.get('scenario', '?'))}, "
        f"{streams} stream(s), {cores} core(s), batch {data.get('batch_size', '?')}"
        + (f", {engine['name']} {engine.get('version', '')}".rstrip() if "name" in engine else "")
    )
    return Run(
        path=path,
        schema=schema,
        description=description,
        batch_size=int(data.get("batch_size") or 1),
        items_per_sec=_float(br["items_per_sec"]),
        median=_float(br["median"]),
        p99=_float(br.get("99.0%")),
        iterations=int(br["iterations"]),
        items_per_sec_ci=_interval(result.get("items_per_sec_ci")),
        median_ci=_interval(latency.get("median_ci")),
        valid=None if validity is None else bool(validity["valid"]),
        reasons=tuple(r["rule"] for r in (validity or {}).get("reasons", [])),
        samples=_samples(pb.get("samples"), path),
    )


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _interval(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, list) or len(value) != 2 or None in value:
        return None
    lo, hi = float(value[0]), float(value[1])
    return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None


def _samples(entry: Any, json_path: str) -> list[StreamSamples] | None:
    from .samples import locate, read_samples

    found = locate(entry if isinstance(entry, dict) else None, json_path)
    if found is None:
        return None
    try:
        return read_samples(found)
    except ValueError:
        return None


# --- comparing -----------------------------------------------------------------------------------


def compare_runs(base: Run, other: Run, alpha: float = ALPHA) -> list[Change]:
    """Every metric of ``other`` against ``base``."""
    out = []
    for key, label, higher_better, tested in METRICS:
        a, b = base.value(key), other.value(key)
        change = b / a - 1.0 if a and math.isfinite(a) and math.isfinite(b) else math.nan
        worse_by = -change if higher_better else change
        test, significant = _significance(key, base, other, alpha) if tested else ("", None)
        out.append(Change(key, label, a, b, change, worse_by, test, significant, tested))
    return out


def _significance(key: str, base: Run, other: Run, alpha: float) -> tuple[str, bool | None]:
    if base.samples is not None and other.samples is not None:
        from .stats import mann_whitney_u

        x, y, what = _sample_sets(key, base, other)
        if x.size and y.size:
            r = mann_whitney_u(x, y)
            p = "p<0.001" if r.p < 0.001 else f"p={r.p:.3f}"
            return f"MWU {p} ({x.size} vs {y.size} {what})", r.p < alpha
    ci_a, ci_b = (
        (base.items_per_sec_ci, other.items_per_sec_ci)
        if key == "items_per_sec"
        else (base.median_ci, other.median_ci)
    )
    if ci_a is not None and ci_b is not None:
        apart = ci_a[1] < ci_b[0] or ci_b[1] < ci_a[0]
        return ("95% CIs apart" if apart else "95% CIs overlap"), apart
    return "no samples or CIs", None


def _sample_sets(
    key: str, base: Run, other: Run
) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    if key == "median":
        return (
            _latencies_ms(base.samples or []),
            _latencies_ms(other.samples or []),
            "iterations",
        )
    return (
        _slice_rates(base.samples or [], base.batch_size),
        _slice_rates(other.samples or [], other.batch_size),
        "slices",
    )


def _latencies_ms(streams: list[StreamSamples]) -> NDArray[np.float64]:
    import numpy as np

    if not streams:
        return np.empty(0, dtype=np.float64)
    return np.concatenate([s.latencies_ns for s in streams]).astype(np.float64) / 1e6


def _slice_rates(streams: list[StreamSamples], batch_size: int) -> NDArray[np.float64]:
    """Items per second in each slice of the window, as for the throughput interval."""
    import numpy as np

    from .stats import batch_count, batch_rates

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


# --- presenting ----------------------------------------------------------------------------------


def table(base: Run, other: Run, changes: Sequence[Change]) -> list[str]:
    """The lines that show ``other`` against ``base``."""
    a, b = _short(base.path), _short(other.path)
    rows = [("metric", a, b, "change", "test", "result")]
    for c in changes:
        digits = 2 if max(abs(c.base), abs(c.other)) >= 100 else 4
        rows.append(
            (
                c.label,
                _number(c.base, digits),
                _number(c.other, digits),
                f"{c.change:+.1%}" if math.isfinite(c.change) else "n/a",
                c.test,
                c.verdict,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    lines = [f"{other.path} vs {base.path}"]
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [r[i].rjust(widths[i]) for i in (1, 2, 3)]
        cells += [r[4].ljust(widths[4]), r[5]]
        lines.append("  ".join(cells).rstrip())
    return lines


def describe(run: Run, role: str) -> str:
    if run.valid is None:
        verdict = "no verdict (schema 1)"
    elif run.valid:
        verdict = "valid"
    else:
        verdict = f"invalid: {', '.join(run.reasons)}"
    samples = "raw samples" if run.samples is not None else "no raw samples"
    return f"{role} {run.path}: {run.description}; {verdict}; {samples}"


def _number(v: float, digits: int) -> str:
    return f"{v:.{digits}f}" if math.isfinite(v) else "n/a"


def _short(path: str, width: int = 24) -> str:
    name = Path(path).name
    return name if len(name) <= width else "…" + name[-(width - 1) :]


# --- the command ---------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage >= 0") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage >= 0")
    return value


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a level between 0 and 1") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a level between 0 and 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="pinbench compare",
        description="Compare pinbench JSON exports: each run against the first, with a "
        "significance test (Mann-Whitney U on raw samples when both runs have them, else the "
        "95% confidence intervals).",
        allow_abbrev=False,
    )
    p.add_argument("baseline", help="the reference run (JSON written by pinbench -x)")
    p.add_argument("others", nargs="+", metavar="run", help="runs compared with the baseline")
    p.add_argument(
        "--fail-if-slower",
        type=_percent,
        default=None,
        metavar="PCT",
        help="exit 1 when a run's throughput fell, or its median latency rose, by PCT%% or more "
        "and the change is significant (or cannot be tested)",
    )
    p.add_argument(
        "--alpha",
        type=_alpha,
        default=ALPHA,
        help=f"significance level of the Mann-Whitney U test ({ALPHA})",
    )
    return p


def main(argv: Sequence[str]) -> int:
    """``pinbench compare``: 0 ok, 1 a slowdown beyond --fail-if-slower, 2 usage errors."""
    args = build_parser().parse_args(list(argv))
    try:
        base = load_run(args.baseline)
        others = [load_run(path) for path in args.others]
    except UsageError as e:
        print(f"pinbench compare: error: {e}", file=sys.stderr)
        return 2
    lines = [describe(base, "baseline"), *(describe(o, "run") for o in others)]
    slow: list[str] = []
    for other in others:
        changes = compare_runs(base, other, args.alpha)
        lines += ["", *table(base, other, changes)]
        if args.fail_if_slower is not None:
            slow += [
                f"{other.path}: {c.label} {c.change:+.1%}"
                for c in changes
                if c.slower_beyond(args.fail_if_slower)
            ]
    print("\n".join(lines))
    if slow:
        print(
            f"pinbench compare: slower than {base.path} by {args.fail_if_slower:g}% or more: "
            + "; ".join(slow),
            file=sys.stderr,
        )
        return 1
    return 0
