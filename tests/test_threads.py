"""BLAS threads follow the number of requests decoding: all the cores for one, one each for several."""
import threading

import numpy  # noqa: F401  (loads the BLAS library whose threads are counted)
from threadpoolctl import threadpool_info

from rnn_demo.threads import BlasThreads


def _blas_threads() -> set[int]:
    return {library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"}


def test_one_request_gets_every_core_and_several_get_one_each():
    blas = BlasThreads(cores=2)
    with blas.decoding():
        assert blas.current == 2 and _blas_threads() == {2}
        with blas.decoding():
            assert blas.current == 1 and _blas_threads() == {1}
        assert blas.current == 2 and _blas_threads() == {2}
    assert blas.current == 1 and _blas_threads() == {1}  # idle: back to the safe default


def test_the_count_survives_an_error_and_threads_racing():
    blas = BlasThreads(cores=2)
    try:
        with blas.decoding():
            raise ValueError("a request that fails")
    except ValueError:
        pass
    barrier = threading.Barrier(8)

    def request():
        barrier.wait()
        for _ in range(50):
            with blas.decoding():
                pass

    workers = [threading.Thread(target=request) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    with blas.decoding():
        assert blas.current == 2  # exactly one active again: every enter was matched by an exit
