"""Giving the memory a process has freed back to the system, between the stages of a long run.

NumPy and pandas free their arrays into the C library's heap. glibc keeps freed blocks smaller than its mmap
threshold (a threshold that rises to 32 MB as large arrays come and go) for reuse, so a process that made and
dropped many arrays of a few MB holds on to that memory until it exits: 0.2-0.3 GB of the main process of a
3-million-row run. ``malloc_trim(0)`` returns it, as Dask's ``trim_memory`` does for its workers. Elsewhere
(macOS, Windows, musl) there is no such call and nothing is done.
"""

from __future__ import annotations

import ctypes


def release_free_memory() -> bool:
    """Return the heap memory this process has freed to the system; False where the C library cannot."""
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)
    return True
