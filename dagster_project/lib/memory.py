"""Give memory a finished step no longer uses back to the operating system.

Python frees a pandas frame or an Arrow batch when its last reference goes, but the
allocators under it keep the freed pages for later: glibc's malloc keeps its arenas, and
Arrow's memory pool (jemalloc or mimalloc) keeps its own. A process that validated a large
frame an hour ago still counts it in its resident memory. The pipeline's peak is a sum
over processes that overlap (the journey process with DuckDB, the GX worker, dbt), so the
long-lived ones call :func:`release_unused_memory` after each large piece of work.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        return libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


def release_unused_memory() -> None:
    """Ask Arrow's pool and glibc to return their free pages (a few milliseconds).

    No garbage collection: a frame or batch is freed by reference counting as soon as the
    caller drops it, and a full collection of the journey process's heap (Dagster's and
    dbt's objects) takes ~0.2 s, too much to pay after every extract step of a nightly run.
    """
    pyarrow = sys.modules.get("pyarrow")  # only when this process uses Arrow already
    if pyarrow is not None:
        pyarrow.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
