"""BLAS threads for decoding: every core for a request that decodes alone, one each when several do.

Batch-1 decoding streams every weight matrix from memory once per token; one core cannot read
them fast enough (GRU 2 × 384, rank-128 output: 270 µs a token on one core, 175 µs on two). But
several requests at once already fill the cores, and two BLAS threads each then made serving
2.2× slower. So the thread count follows how many requests are decoding: all the cores while
there is one, a single thread per request as soon as there are two.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading

log = logging.getLogger(__name__)

MAX_THREADS = 4  # matrix-vector products of a few MB gain little past this


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class BlasThreads:
    """Counts the requests decoding and sets the BLAS thread count to match (thread-safe).

    Args:
        cores: the threads for a request alone (default: the cores this process may use, ≤ 4).
    """

    def __init__(self, cores: int | None = None):
        self.cores = max(1, min(cores or available_cores(), MAX_THREADS))
        self._lock = threading.Lock()
        self._active = 0
        self._current: int | None = None
        self._libraries = None  # threadpoolctl's BLAS controllers, found on first use

    @contextlib.contextmanager
    def decoding(self):
        """Marks a request as decoding for the duration of the `with` block."""
        with self._lock:
            self._active += 1
            self._apply()
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                self._apply()

    @property
    def current(self) -> int | None:
        """The thread count last set (None before the first request)."""
        return self._current

    def _apply(self) -> None:
        wanted = self.cores if self._active == 1 else 1
        if wanted == self._current:
            return
        if self._libraries is None:
            from threadpoolctl import ThreadpoolController

            self._libraries = ThreadpoolController().select(user_api="blas").lib_controllers
            if not self._libraries:
                log.warning("no BLAS library found to set threads on; decoding keeps its default")
        for library in self._libraries:
            library.set_num_threads(wanted)
        self._current = wanted
