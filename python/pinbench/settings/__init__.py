"""RunSettings: every knob of a run, with its documented default, validated once.

One frozen object goes from the command line (or ``pinbench.benchmark(**kwargs)``) to the runner;
searches derive variants of it with ``dataclasses.replace``. It holds what was *requested*; what
actually ran (streams chosen, CPUs, engine threads) is the result's ``RunConfig``. Both go to the
JSON (``pinbench.requested`` and ``pinbench.config``).

``validate()`` checks every value before anything is loaded and returns the normalised settings
(scenario aliases resolved); it raises UsageError with one line. It does no I/O: whether an output
path can be written is checked by the caller just before the run (``check_outputs``).

Example::

    >>> s = RunSettings.from_kwargs("squeezenet", scenario="sync", time=1.0).validate()
    >>> s.layout.scenario, s.measure.time, s.measure.warmup_time
    ('sync', 1.0, 2.0)

The package holds one concern per module: ``groups`` (the parts of a run, their choices),
``run`` (RunSettings), ``validation`` (its checks), ``checks`` (limits and shared checks),
``sweep`` (SweepSettings), ``fleet`` (FleetSettings), ``ab`` (AbSettings), ``commands`` (the
other commands' defaults), ``fields`` (fields by dotted path, for the command line's flag
table). Every name is imported from here: ``from pinbench.settings import X``.
"""

from __future__ import annotations

from .ab import AB_GENERATION_METRICS, AB_HARDWARE_METRICS, AB_METRICS, AbSettings
from .checks import MAX_INT64, MAX_SECONDS, MAX_SEED
from .commands import (
    BANDWIDTH_REPETITIONS,
    COMPARE_ALPHA,
    REPORT_FORMAT,
    REPORT_FORMATS,
    REPORT_METRIC,
    REPORT_METRICS,
    REPORT_TITLE,
)
from .fields import default_at, field_at, with_fields
from .fleet import FLEET_MODES, RAY_PREFIX, SLURM_CLUSTERS, FleetSettings
from .groups import (
    ARRIVALS,
    AUTO,
    COUNTER_MODES,
    DEFAULT_ENGINE,
    GRAPH_OPTIMIZATION_LEVELS,
    INSTANCE_MODES,
    ISOLATION_MODES,
    PINNING_MODES,
    PRECISIONS,
    SCENARIO_ALIASES,
    SCENARIOS,
    SPINNING_CHOICES,
    TARGET_PERCENTILE,
    TOKEN_MODES,
    WARMUP_MAX_S,
    EngineSettings,
    GenerationSettings,
    InputSettings,
    KvCacheSettings,
    LayoutSettings,
    MeasureSettings,
    NumStreams,
    OutputSettings,
    SearchSettings,
    ServerSettings,
    parse_scenario,
)
from .run import RunSettings
from .sweep import MAX_CORES, SWEEP_SCENARIOS, SWEEP_TIME_S, SWEEP_WARMUP_S, SweepSettings

__all__ = [
    "COUNTER_MODES",
    "FLEET_MODES",
    "RAY_PREFIX",
    "SLURM_CLUSTERS",
    "FleetSettings",
    "AB_GENERATION_METRICS",
    "AB_HARDWARE_METRICS",
    "AB_METRICS",
    "AbSettings",
    "BANDWIDTH_REPETITIONS",
    "COMPARE_ALPHA",
    "REPORT_FORMAT",
    "REPORT_FORMATS",
    "REPORT_METRIC",
    "REPORT_METRICS",
    "REPORT_TITLE",
    "default_at",
    "field_at",
    "with_fields",
    "SWEEP_TIME_S",
    "SWEEP_WARMUP_S",
    "SPINNING_CHOICES",
    "TARGET_PERCENTILE",
    "ARRIVALS",
    "AUTO",
    "DEFAULT_ENGINE",
    "GRAPH_OPTIMIZATION_LEVELS",
    "INSTANCE_MODES",
    "ISOLATION_MODES",
    "MAX_CORES",
    "MAX_INT64",
    "MAX_SECONDS",
    "MAX_SEED",
    "PINNING_MODES",
    "PRECISIONS",
    "SCENARIOS",
    "SCENARIO_ALIASES",
    "SWEEP_SCENARIOS",
    "TOKEN_MODES",
    "WARMUP_MAX_S",
    "EngineSettings",
    "GenerationSettings",
    "InputSettings",
    "KvCacheSettings",
    "LayoutSettings",
    "MeasureSettings",
    "NumStreams",
    "OutputSettings",
    "RunSettings",
    "SearchSettings",
    "ServerSettings",
    "SweepSettings",
    "parse_scenario",
]
