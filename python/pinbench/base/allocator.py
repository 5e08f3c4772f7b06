"""glibc's allocator while engine instances are built: freed memory goes back to the system.

Building an instance allocates and frees the model's size several times over (the engine reads
the file, converts the weights, prepacks them). glibc's ``malloc`` serves blocks of 128 KiB and
more with ``mmap`` at first, but each such block freed raises that threshold to its size (up to
32 MiB), after which blocks of weights come from the thread's heap and, once freed, stay in it:
measured on a model of 128 MB of weights, a session built on a stream thread peaked about 80 MB
higher than the same build under a fixed threshold, and with a session per stream each stream's
heap kept its own.

So while instances are built, the threshold is fixed at 128 KiB (every large block is mapped
and unmapped: nothing freed stays resident); once every stream's factory has returned, before
the clock runs, it is set to 32 MiB with a trim threshold of 64 MiB (where glibc's dynamic
rule would have settled after such frees, so the measured loop allocates as it would in a
long-lived process) and ``malloc_trim(0)`` hands back what is free. These settings stay for the
rest of the process (the API's too). Elsewhere than glibc nothing is done.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_BUILD_MMAP_THRESHOLD = 128 * 1024
_RUN_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
_RUN_TRIM_THRESHOLD = 2 * _RUN_MMAP_THRESHOLD  # as its dynamic rule sets it

_lock = threading.Lock()
_libc: Any = None
_looked = False


def _glibc() -> Any:
    global _libc, _looked
    with _lock:
        if not _looked:
            _looked = True
            try:
                libc = ctypes.CDLL(None)
                libc.gnu_get_libc_version  # noqa: B018 (glibc only: musl has no such symbol)
                _libc = libc
            except (OSError, AttributeError):
                _libc = None
        return _libc


def building() -> None:
    """Large blocks freed while instances are built go back to the system at once."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, _BUILD_MMAP_THRESHOLD)


def built() -> None:
    """The measured loop's settings (see the module docstring), and what is free handed back.
    Safe to call more than once."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, _RUN_MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _RUN_TRIM_THRESHOLD)
        libc.malloc_trim(0)
