"""The console report: the original's lines unchanged and first, then pinbench's own."""

from __future__ import annotations

import dataclasses
import io
import math
import re

from pinbench.report.run_lines import print_result, result_lines
from pinbench.result.validity import Reason, Validity

from expected import CONSOLE_LABELS as ORIGINAL
from made_results import squeezenet_async


def test_original_lines_come_first_unchanged() -> None:
    r = squeezenet_async()
    lines = result_lines(r)
    assert [line.split(": ")[0] for line in lines[:12]] == ORIGINAL
    assert lines[3] == f"Throughput (items/sec): {r.items_per_sec:.4f}"
    assert lines[5] == f"Latency Median (ms/batch): {r.latency.median:.4f}"
    assert lines[11] == f"Iterations: {r.iterations}"


def test_intervals_cold_start_and_verdict_follow() -> None:
    r = squeezenet_async()
    extra = dict(line.split(": ", 1) for line in result_lines(r)[12:])
    lo, hi = r.items_per_sec_ci
    expected = f"{lo:.4f} to {hi:.4f}" if math.isfinite(lo) and math.isfinite(hi) else "n/a"
    assert extra["Throughput 95% CI (items/sec)"] == expected
    assert re.fullmatch(r"[\d.]+ to [\d.]+", extra["Latency Median 95% CI (ms/batch)"])
    assert float(extra["Latency CV (std/mean)"]) == round(r.latency.cv, 4)
    assert len(extra["Latency First Iteration (ms/batch)"].split(",")) == len(r.measurement.streams)
    assert extra["Verdict"].startswith("valid" if r.validity.valid else "invalid")


def test_verdict_lines() -> None:
    reasons = (Reason("governor", "g"), Reason("load_at_start", "l"))
    r = dataclasses.replace(squeezenet_async(), validity=Validity(reasons))
    out = io.StringIO()
    print_result(r, out)
    tail = out.getvalue().splitlines()[-3:]
    assert tail == ["Verdict: invalid (2 reasons)", "Reason: g", "Reason: l"]
    r = dataclasses.replace(r, validity=Validity(()))
    assert result_lines(r)[-1] == "Verdict: valid"
