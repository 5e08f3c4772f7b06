"""The documents' kinds and schema versions, and what a key meant in each version.

A run document is versioned by ``pinbench.schema_version`` (0: deepsparse.benchmark's own
export, which has no ``pinbench`` section); a sweep and an A/B document by their top-level
``schema_version``, beside their ``kind``. The history is in docs/results.md. The readers take
every version up to these (a run's from 0, sweeps and A/B runs from 1).

Schema 3 changed what two keys count without a new version; 4 is the version that says so.
A reader of a schema 3 document tells the two meanings apart by the keys that came with the
change (``config.instances``, ``server.qps_achieved_reliable``).

Example::

    >>> qps_achieved_over({"schema_version": 4, "server": {}})
    'window'
    >>> instances_counted({"schema_version": 2, "config": {}})
    'stream'
"""

from __future__ import annotations

from typing import Any

# 4: config.engine.instances and server.qps_achieved hold the meanings schema 3 gave them.
RUN_SCHEMA = 4
# 2: models, engines, core counts and scenarios as axes; failed points as rows; interrupts.
SWEEP_SCHEMA = 2
AB_SCHEMA = 1

SWEEP_KIND = "pinbench sweep"
AB_KIND = "pinbench ab"


def run_schema(section: dict[str, Any]) -> int:
    """A run's ``pinbench.schema_version`` (0 without a ``pinbench`` section)."""
    return int(section.get("schema_version", 0))


def instances_counted(section: dict[str, Any]) -> str:
    """What ``config.engine.instances`` counts in a run's ``pinbench`` section:

    - ``"plan"``: the instances built by the plan (``config.instances``): one per NUMA node for
      ONNX Runtime's one-core streams, one per stream with a core group, the workers' sum with
      process isolation (schema 4, and schema 3 once it recorded ``config.instances``);
    - ``"stream"``: one per stream, or one shared by every stream (schema 1, 2 and early 3).
    """
    if run_schema(section) >= 4:
        return "plan"
    config = section.get("config") or {}
    return "plan" if "instances" in config else "stream"


def qps_achieved_over(section: dict[str, Any]) -> str:
    """What ``server.qps_achieved`` divides the queries served by:

    - ``"window"``: the open loop's window, from the schedule's time 0 to the deadline or the
      last query's end, whichever is later (schema 4, and schema 3 once it recorded
      ``server.qps_achieved_reliable``);
    - ``"span"``: the first query's arrival to the last one's end, which a handful of queries
      made larger than the rate asked (schema 2 and early 3).
    """
    if run_schema(section) >= 4:
        return "window"
    server = section.get("server") or {}
    return "window" if "qps_achieved_reliable" in server else "span"
