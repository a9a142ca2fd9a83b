"""Fairness under load: a light visitor's latency while heavy visitors stream long generations without pause.

Each heavy visitor (its own `gradio_client.Client`, so its own session) asks `/generate` for many
tokens, and asks again as soon as its answer ends. Once their requests fill the queue, a light
visitor asks for 50 tokens, one request after another, and each of its latencies (submit → whole
answer) is timed. First in, first out, it would wait behind every heavy request queued; served
in turn, it waits for one slot to free. The same light requests are timed first on the idle app.
"""
from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from benchmarks.app_process import GENERATE
from benchmarks.load import ANSWERED, _classify
from benchmarks.report import Row, at_most

LIGHT = {**GENERATE, "max_tokens": 50}
MAX_LIGHT_P50_S = 2.0
SETTLE_S = 3.0  # after the heavy visitors start, before the light one: their requests are queued by then
LIGHT_PAUSE_S = 0.5  # between the light visitor's requests, as a person reading the answer
IDLE_REQUESTS = 3  # light requests timed on the idle app


def _heavy_visitor(client, number: int, tokens: int, stop: threading.Event, *, timeout_s: float) -> Counter:
    """Asks for `tokens` tokens again and again until `stop`; counts how each request ended."""
    endings = Counter()
    while not stop.is_set():
        try:
            client.submit(**{**GENERATE, "max_tokens": tokens, "seed": number},
                          api_name="/generate").result(timeout=timeout_s)
            endings[ANSWERED] += 1
        except Exception as error:  # noqa: BLE001 -- every way a request can fail is counted, none hidden
            endings[_classify(error)[0]] += 1
            stop.wait(LIGHT_PAUSE_S)  # a refused visitor does not hammer the app
    return endings


def _light_latencies(client, count: int, *, timeout_s: float) -> tuple[list[float], list[str]]:
    """Seconds of each of `count` light requests, one after another; and the errors of those that failed."""
    seconds, errors = [], []
    for _ in range(count):
        began = time.perf_counter()
        try:
            client.submit(**LIGHT, api_name="/generate").result(timeout=timeout_s)
            seconds.append(time.perf_counter() - began)
        except Exception as error:  # noqa: BLE001 -- reported in the row's note
            errors.append(f"{type(error).__name__}: {error}")
        time.sleep(LIGHT_PAUSE_S)
    return seconds, errors


def _under_load(url: str, *, heavy: int, heavy_tokens: int, light_requests: int,
                timeout_s: float) -> tuple[list[float], list[str], Counter]:
    """The light visitor's latencies and errors while `heavy` visitors stream; and how the heavy requests ended."""
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in range(heavy + 1)]
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=heavy) as pool:
        futures = [pool.submit(_heavy_visitor, client, number, heavy_tokens, stop, timeout_s=timeout_s)
                   for number, client in enumerate(clients[:heavy])]
        time.sleep(SETTLE_S)
        try:
            seconds, errors = _light_latencies(clients[-1], light_requests, timeout_s=timeout_s)
        finally:
            stop.set()
        endings = sum((future.result() for future in futures), Counter())
    return seconds, errors, endings


def measure(url: str, *, heavy: int, heavy_tokens: int, light_requests: int, timeout_s: float) -> list[Row]:
    """The light visitor's p50 on the idle app, then while `heavy` visitors stream `heavy_tokens` tokens each."""
    from gradio_client import Client

    idle, _ = _light_latencies(Client(url, verbose=False), IDLE_REQUESTS, timeout_s=timeout_s)
    idle_p50 = statistics.median(idle) if idle else None
    seconds, errors, endings = _under_load(url, heavy=heavy, heavy_tokens=heavy_tokens,
                                           light_requests=light_requests, timeout_s=timeout_s)
    p50 = statistics.median(seconds) if seconds else None
    note = f"max {max(seconds):.2f} s; " if seconds else ""
    note += "heavy requests: " + ", ".join(f"{count} {kind}" for kind, count in sorted(endings.items()))
    if errors:
        note += "; light errors: " + "; ".join(sorted(set(errors)))
    measure_name = f"fairness: a light visitor while {heavy} heavy ones stream"
    return [
        Row(measure_name, f"/generate of {LIGHT['max_tokens']} tokens on the idle app, p50 of {len(idle)}",
            idle_p50, "s"),
        Row(measure_name, f"/generate of {LIGHT['max_tokens']} tokens, p50 of {len(seconds)}, while {heavy} "
            f"clients ask for {heavy_tokens} tokens again as soon as answered", p50, "s",
            budget=f"≤ {MAX_LIGHT_P50_S:g} s", met=at_most(p50, MAX_LIGHT_P50_S),
            ratio=p50 / idle_p50 if p50 and idle_p50 else None, note=note),
    ]
