"""The defaults and choices of the commands that take no RunSettings: ``pinbench compare``,
``pinbench report`` and ``pinbench machine``.
"""

from __future__ import annotations

COMPARE_ALPHA = 0.01  # compare --alpha: the Mann-Whitney U test's significance level

# report --format, the first the default
REPORT_FORMATS: tuple[str, ...] = ("markdown", "csv", "html", "bmf", "github")
# report --metric (bmf and github) -> the figures it writes, the first the default
REPORT_METRICS: dict[str, tuple[str, ...]] = {
    "both": ("throughput", "latency"),
    "throughput": ("throughput",),
    "latency": ("latency",),
}
REPORT_FORMAT = REPORT_FORMATS[0]
REPORT_METRIC = next(iter(REPORT_METRICS))
REPORT_TITLE = "pinbench report"  # report --title: the html page's

BANDWIDTH_REPETITIONS = 5  # machine --repetitions: STREAM's best-of-N
