"""The C library's heap: large work arrays kept for reuse while a model trains, and the memory a process has
freed given back to the system between the stages of a long run.

A training step makes and drops arrays of a few MB (a batch's convolution columns, a sequence layer's states,
their gradients). With glibc's defaults each is mapped fresh and unmapped again, or its pages are trimmed from
the heap when freed, so every step touches new pages: a fault per 4 kB, a third of a Conv1D epoch.
``keep_freed_memory`` (run when deepfin is imported) raises the mmap threshold to 64 MB and the trim threshold
to 128 MB, so such arrays come from memory the process already holds (at most 128 MB kept free on top of the
heap); arrays above 64 MB are still mapped and returned when freed. It does nothing where the environment sets
``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` (glibc's own settings win) or ``DEEPFIN_KEEP_HEAP=0``.

NumPy and pandas free their arrays into the C library's heap. glibc keeps freed blocks smaller than its mmap
threshold (a threshold that rises to 32 MB as large arrays come and go) for reuse, so a process that made and
dropped many arrays of a few MB holds on to that memory until it exits: 0.2-0.3 GB of the main process of a
3-million-row run. ``malloc_trim(0)`` returns it, as Dask's ``trim_memory`` does for its workers. Elsewhere
(macOS, Windows, musl) there is no such call and nothing is done.
"""

from __future__ import annotations

import ctypes
import os

MMAP_THRESHOLD = 64 << 20  # bytes: larger arrays are mapped on their own and returned when freed
TRIM_THRESHOLD = 128 << 20  # bytes of free memory kept on top of the heap
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds as the module says; False where it did nothing (another C library,
    or the environment decides)."""
    if os.environ.get("DEEPFIN_KEEP_HEAP") == "0" or \
            any(name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def release_free_memory() -> bool:
    """Return the heap memory this process has freed to the system; False where the C library cannot."""
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)
    return True
