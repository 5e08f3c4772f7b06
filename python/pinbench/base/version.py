"""pinbench's own version, from the installed distribution's metadata."""

from __future__ import annotations


def pinbench_version() -> str:
    """The installed version of pinbench, or ``0+unknown`` when it runs from a source tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pinbench")
    except PackageNotFoundError:
        return "0+unknown"
