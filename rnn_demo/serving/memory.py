"""Memory a burst freed, handed back to the system (glibc only; elsewhere these do nothing).

glibc's malloc keeps what a thread frees in that thread's arena for later use, and gives a page back
only when it is at the very top of the heap. After a burst (a thousand connections opened and
closed, a flood of refused requests) the server's resident size stays at the burst's high-water
mark although Python has freed the objects. Two standard remedies, both cheap:

- `limit_arenas`: at most `ARENAS` arenas (glibc's default is 8 per core), so fewer heaps each keep
  a reserve; call it before the server starts its threads.
- `start_trimming`: a daemon thread calls `malloc_trim(0)` every `TRIM_EVERY_S` seconds, which returns
  the free pages inside every arena (a few milliseconds on this app's heap).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import threading

log = logging.getLogger(__name__)

ARENAS = 2  # one per core
M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)
TRIM_EVERY_S = 2.0


@functools.cache
def _libc():
    """glibc, or None where the C library is another (musl, macOS) or cannot be loaded."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim, libc.mallopt  # noqa: B018 (both are glibc's)
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Caps glibc's malloc arenas; True if it took effect."""
    libc = _libc()
    return bool(libc and libc.mallopt(M_ARENA_MAX, arenas) == 1)


def trim() -> bool:
    """Returns free heap pages to the system now; True if glibc gave any back."""
    libc = _libc()
    return bool(libc and libc.malloc_trim(0) == 1)


def start_trimming(every_s: float = TRIM_EVERY_S) -> threading.Thread | None:
    """A daemon thread that calls `trim` every `every_s` seconds; None without glibc."""
    libc = _libc()
    if libc is None:
        log.info("not glibc: freed memory is left to the C library")
        return None
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every_s):
            libc.malloc_trim(0)

    thread = threading.Thread(target=run, name="memory-trim", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]  # set() ends it (tests)
    thread.start()
    return thread
