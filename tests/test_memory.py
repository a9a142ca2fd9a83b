"""Freed memory goes back to the system: `serving.memory` (glibc's malloc_trim and arena cap)."""
import threading
from pathlib import Path

import pytest

from rnn_demo.serving import memory

pytestmark = pytest.mark.skipif(memory._libc() is None, reason="the C library is not glibc")
MIB = 1 << 20


def resident_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_memory_a_burst_freed_between_kept_objects_is_returned_by_a_trim():
    kept = []

    def burst():  # in a thread of its own, as a request's: its own arena
        blocks = [bytearray(2_000) for _ in range(60_000)]  # 120 MB through malloc (not Python's small-object pool)
        kept.extend(blocks[::50])  # a few stay alive, so the heap cannot simply shrink from its top
        blocks.clear()

    thread = threading.Thread(target=burst)
    thread.start()
    thread.join()
    before = resident_mib()
    assert memory.trim()
    assert before - resident_mib() > 50  # most of the 118 MB freed comes back
    assert len(kept) == 1_200


def test_the_trimming_thread_runs_until_stopped():
    thread = memory.start_trimming(every_s=0.01)
    assert thread.is_alive() and thread.daemon
    thread.stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_arenas_can_be_capped():
    assert memory.limit_arenas(memory.ARENAS)
