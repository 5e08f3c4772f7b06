"""``pinbench machine``: the CPUs this process may use, and the memory bandwidth on them
(``pinbench.run.bandwidth``): what a decode's tokens/s is bounded by."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base.errors import PinbenchError
from ..settings import BANDWIDTH_REPETITIONS
from . import types
from .common import OneLineParser, fail, setup_logging

if TYPE_CHECKING:
    from collections.abc import Sequence

PROG = "pinbench machine"


def build_parser() -> OneLineParser:
    p = OneLineParser(
        prog=PROG,
        description="The CPU topology this process may use and the memory bandwidth on it: "
        "STREAM's read and triad, one pinned thread per physical core, arrays 4x the "
        "last-level cache (at least 64 MiB), best of 5.",
        allow_abbrev=False,
    )
    p.add_argument(
        "--cores",
        "-ncores",
        dest="cores",
        type=types.positive_int,
        metavar="N",
        help="measure on the first N physical cores (all allowed ones)",
    )
    p.add_argument(
        "--bandwidth-mib",
        type=types.positive_int,
        metavar="MIB",
        help="each array's MiB over all threads (4x the last-level cache, at least 64)",
    )
    p.add_argument(
        "--repetitions",
        type=types.positive_int,
        default=BANDWIDTH_REPETITIONS,
        help=f"best of this many ({BANDWIDTH_REPETITIONS})",
    )
    p.add_argument("-x", "--export_path", type=types.output_file, help="write the result as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no logs")
    p.add_argument("--debug", action="store_true", help="tracebacks on errors")
    return p


def main(argv: Sequence[str]) -> int:
    """``pinbench machine``: 0 ok, 1 a failure while measuring, 2 usage errors."""
    args = build_parser().parse_args(list(argv))
    from ..base.files import Output, guard_outputs, write_json_atomic
    from ..base.version import pinbench_version
    from ..report.roofline import machine_document, machine_lines
    from ..run.bandwidth import bandwidth_on
    from ..run.topology import plan_streams, topology

    setup_logging(args.quiet, args.debug)
    try:
        if args.export_path:
            guard_outputs([Output("-x", args.export_path)])
        topo = topology()
        [plan] = plan_streams(topo, 1, cores=args.cores)  # the first N cores, one CPU each
        b = bandwidth_on(
            topo, list(plan.cpus), total_mib=args.bandwidth_mib, repetitions=args.repetitions
        )
        if args.export_path:
            write_json_atomic(machine_document(topo, b, pinbench_version()), args.export_path)
    except PinbenchError as e:
        return fail(PROG, str(e), e.exit_code, args.debug, e.detail)
    print("\n".join(machine_lines(topo, b)))
    return 0
