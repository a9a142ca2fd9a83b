"""Fairness under load: a visitor who asks little is not kept waiting behind one who asks much.

The app is served in-process from an engine whose streams each wait at a gate of their own
(one per seed) before the first token, so that the test decides when each slot frees and reads
which request took it: the order is asserted without any timing.
"""
import inspect
import threading
import time
from types import SimpleNamespace

import httpx
import pytest
from gradio.queueing import Queue
from gradio_client import Client
from gradio_client.utils import QueueError

from rnn_demo.serving import Engine
from rnn_demo.ui import page
from starlette.requests import Request

from rnn_demo.ui.fairness import (MAX_PENDING_PER_VISITOR, FairQueue, ServiceLedger, SessionMessages, address_of,
                                  visitor_slots)

GENERATE = dict(prompt="ROMEO:\n", model="shakespeare-gru", max_tokens=12, temperature=0.0, top_k=0, top_p=1.0,
                repetition_penalty=1.0, seed=0)
WAIT_S = 30  # the most any condition below may take; far above what it needs
LIGHT = 99  # the seed of the light visitor's request


class GatedEngine(Engine):
    """An engine whose streams record the order they begin in, then wait at their seed's gate."""

    def __init__(self, assets, seeds):
        super().__init__(assets)
        self.began: list[int] = []  # seeds, in the order their streams began
        self.gates = {seed: threading.Event() for seed in seeds}

    def stream(self, request, **kwargs):
        self.began.append(request.seed)
        assert self.gates[request.seed].wait(WAIT_S)
        yield from super().stream(request, **kwargs)

    def release(self, *seeds: int) -> None:
        for seed in seeds or self.gates:
            self.gates[seed].set()


def wait_for(condition) -> None:
    """Polls `condition` until it holds; fails the test if it never does."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.01)


def queue_size(demo) -> int:
    """Requests waiting in the app's queue (not those running)."""
    return httpx.get(demo.local_url + "gradio_api/queue/status", timeout=WAIT_S).json()["queue_size"]


def submit(client: Client, seed: int):
    return client.submit(**{**GENERATE, "seed": seed}, api_name="/generate")


def hold_slots(engine: GatedEngine, holders) -> list:
    """Starts one held stream per (client, seed) of `holders`, one by one, so that they begin in that order."""
    jobs = []
    for client, seed in holders:
        jobs.append(submit(client, seed))
        wait_for(lambda seed=seed: seed in engine.began)
    return jobs


def enqueue(demo, client: Client, seeds) -> list:
    """Queues one request per seed of `seeds`, one by one, so that they arrive in that order."""
    jobs = []
    for seed in seeds:
        waiting = queue_size(demo)
        jobs.append(submit(client, seed))
        wait_for(lambda: queue_size(demo) == waiting + 1)
    return jobs


def finish(engine: GatedEngine, jobs: list) -> None:
    engine.release()
    for job in jobs:
        assert job.result(timeout=WAIT_S)[0].startswith("ROMEO:\n")


def clients(demo, count: int) -> list[Client]:
    """`count` visitors, each with a session of its own."""
    return [Client(demo.local_url, verbose=False) for _ in range(count)]


def test_a_visitor_leaves_a_slot_free_for_others(quick_assets, serve_app):
    """With two slots, one visitor's requests run one at a time: another visitor starts at once."""
    engine = GatedEngine(quick_assets, seeds=[1, 2, 3, LIGHT])
    with serve_app(engine, streams=page.CONCURRENCY) as demo:
        heavy, light = clients(demo, 2)
        assert visitor_slots(page.CONCURRENCY) == page.CONCURRENCY - 1 == 1
        jobs = hold_slots(engine, [(heavy, 1)])
        jobs += enqueue(demo, heavy, [2, 3])  # they wait, a slot free or not: the visitor has its share
        jobs.append(submit(light, LIGHT))
        wait_for(lambda: LIGHT in engine.began)
        assert engine.began == [1, LIGHT] and queue_size(demo) == 2
        engine.release(1)
        wait_for(lambda: len(engine.began) == 3)
        assert engine.began[2] == 2  # the visitor's next request takes the slot its first one freed
        finish(engine, jobs)


def test_a_light_visitor_goes_before_a_heavy_visitors_backlog(quick_assets, serve_app):
    engine = GatedEngine(quick_assets, seeds=[1, 2, 3, 4, LIGHT])
    with serve_app(engine, streams=page.CONCURRENCY) as demo:
        heavy, other, light = clients(demo, 3)
        jobs = hold_slots(engine, [(heavy, 1), (other, 2)])
        jobs += enqueue(demo, heavy, [3, 4])
        jobs += enqueue(demo, light, [LIGHT])  # last in, behind the heavy visitor's backlog
        engine.release(1)  # the heavy visitor's slot frees
        wait_for(lambda: len(engine.began) == 3)
        assert engine.began[2] == LIGHT  # first in, first out would have started 3
        engine.release(LIGHT)
        wait_for(lambda: len(engine.began) == 4)
        finish(engine, jobs)
        assert engine.began == [1, 2, LIGHT, 3, 4]  # the heavy visitor's own requests keep their order


def test_a_visitor_served_less_goes_before_one_served_more(quick_assets, serve_app):
    """Both have one request waiting and none running: the one who has had less service goes first."""
    engine = GatedEngine(quick_assets, seeds=[10, 11, 20, 21, LIGHT])
    with serve_app(engine, streams=page.CONCURRENCY) as demo:
        heavy, light, other, third = clients(demo, 4)
        engine.release(10)
        assert submit(heavy, 10).result(timeout=WAIT_S)[0].startswith("ROMEO:\n")  # heavy has been served
        jobs = hold_slots(engine, [(other, 20), (third, 21)])
        jobs += enqueue(demo, heavy, [11])
        jobs += enqueue(demo, light, [LIGHT])
        engine.release(20)
        wait_for(lambda: len(engine.began) == 4)
        assert engine.began[3] == LIGHT  # first in, first out would have started 11
        finish(engine, jobs)


def test_a_visitor_over_its_share_is_refused_clearly_and_others_are_still_served(quick_assets, serve_app):
    engine = GatedEngine(quick_assets, seeds=[*range(1, MAX_PENDING_PER_VISITOR + 2), LIGHT])
    with serve_app(engine, streams=page.CONCURRENCY) as demo:
        heavy, light = clients(demo, 2)
        jobs = hold_slots(engine, [(heavy, 1)])
        jobs += enqueue(demo, heavy, range(2, MAX_PENDING_PER_VISITOR + 1))
        with pytest.raises(QueueError):  # gradio_client's "busy": the queue's 503
            submit(heavy, MAX_PENDING_PER_VISITOR + 1).result(timeout=WAIT_S)
        data = list({**GENERATE, "seed": MAX_PENDING_PER_VISITOR + 1}.values())
        refused = httpx.post(demo.local_url + "gradio_api/call/generate", timeout=WAIT_S,
                             json={"data": data, "session_hash": heavy.session_hash})
        assert refused.status_code == 503
        assert refused.json()["detail"].startswith(f"Too many requests of yours at once: {MAX_PENDING_PER_VISITOR}")
        jobs.append(submit(light, LIGHT))  # another visitor is still let in, and starts in the slot kept free
        wait_for(lambda: LIGHT in engine.began)
        assert engine.began == [1, LIGHT]
        finish(engine, jobs)
        assert MAX_PENDING_PER_VISITOR + 1 not in engine.began  # the refused requests never ran


def post_generate(demo, seed: int, **body) -> httpx.Response:
    """A raw REST call of /generate (no session unless `body` brings one), as a script would send it."""
    return httpx.post(demo.local_url + "gradio_api/call/generate", timeout=WAIT_S,
                      json={"data": list({**GENERATE, "seed": seed}.values()), **body})


def test_rest_calls_without_a_session_are_one_visitor_per_address(quick_assets, serve_app):
    """Each session-less call is a new session to Gradio; from one address they share one visitor's share."""
    seeds = range(1, MAX_PENDING_PER_VISITOR + 2)
    engine = GatedEngine(quick_assets, seeds=[*seeds, LIGHT])
    with serve_app(engine, streams=page.CONCURRENCY) as demo:
        for seed in seeds[:-1]:
            assert post_generate(demo, seed).status_code == 200
        wait_for(lambda: queue_size(demo) == MAX_PENDING_PER_VISITOR - 1)  # one runs, the rest wait: one visitor
        refused = post_generate(demo, seeds[-1])
        assert refused.status_code == 503
        assert refused.json()["detail"].startswith(f"Too many requests of yours at once: {MAX_PENDING_PER_VISITOR}")
        light = submit(Client(demo.local_url, verbose=False), LIGHT)  # a visitor with a session is let in
        wait_for(lambda: LIGHT in engine.began)  # and starts in the slot the address leaves free
        assert engine.began == [1, LIGHT]
        finish(engine, [light])
        assert seeds[-1] not in engine.began


def test_the_address_of_a_call_is_its_peers_whatever_its_headers_say():
    scope = {"type": "http", "client": ("10.0.0.7", 40000), "headers": [(b"x-forwarded-for", b"203.0.113.9")]}
    assert address_of(Request(scope)) == ("address", "10.0.0.7")
    assert address_of(None) == address_of(Request({"type": "http", "headers": []}))  # no peer: one shared visitor


def test_the_app_serves_from_the_fair_queue_with_gradios_limits(quick_assets, serve_app):
    with serve_app(Engine(quick_assets)) as demo:
        queue = demo._queue
        assert isinstance(queue, FairQueue) and queue.max_size == page.QUEUE_SIZE
        assert queue.default_concurrency_limit == page.CONCURRENCY and not demo.api_open


# The parts of Gradio's queue that FairQueue overrides or reads: an upgrade that changes them fails here.
GRADIO_QUEUE_CONTRACT = {
    "__init__": ["self", "live_updates", "concurrency_count", "update_intervals", "max_size", "blocks",
                 "default_concurrency_limit"],
    "push": ["self", "body", "request", "username"],
    "get_events": ["self"],
    "broadcast_estimations": ["self", "concurrency_id", "after"],
    "process_events": ["self", "events", "batch", "begin_time", "fn"],
}


@pytest.mark.parametrize("method", GRADIO_QUEUE_CONTRACT)
def test_gradios_queue_still_has_the_methods_the_fair_queue_relies_on(method):
    assert list(inspect.signature(getattr(Queue, method)).parameters) == GRADIO_QUEUE_CONTRACT[method]


def test_gradios_queue_starts_the_first_event_of_a_list():
    """FairQueue puts the list in order; Gradio must still start the event at its head."""
    first, second = (SimpleNamespace(fn=SimpleNamespace(batch=False)) for _ in range(2))
    group = SimpleNamespace(queue=[first, second], concurrency_limit=1, current_concurrency=0)
    queue = SimpleNamespace(event_queue_per_concurrency_id={"cpu": group})
    assert Queue.get_events(queue) == ([first], False, "cpu") and group.queue == [second]


# --- the ledger alone -------------------------------------------------------------------------


def test_the_ledger_puts_a_visitor_served_less_first():
    ledger = ServiceLedger()
    ledger.started("heavy")
    ledger.finished("heavy", 5.0)
    assert ledger.tag("light") < ledger.tag("heavy")


def test_time_away_earns_no_credit():
    ledger = ServiceLedger()
    for _ in range(3):
        ledger.started("busy")
        ledger.finished("busy", 2.0)
    ledger.started("busy")  # the clock is now at busy's 6 s
    assert ledger.tag("newcomer") == ledger.tag("idle") == ledger.clock == 6.0


def test_the_ledger_forgets_the_least_recent_visitor_beyond_its_capacity():
    ledger = ServiceLedger(capacity=2)
    for visitor in ("a", "b", "c"):
        ledger.started(visitor)
        ledger.finished(visitor, 1.0)
    assert ledger.tag("a") == ledger.clock == 0.0 and ledger.tag("c") == 1.0


# --- what the queue keeps ---------------------------------------------------------------------------


def test_the_queue_forgets_the_oldest_ended_sessions_beyond_its_capacity_never_a_busy_one():
    forgotten = []
    messages = SessionMessages(2, busy=lambda session: session == "running", forget=forgotten.append)
    for session in ("running", "a", "b", "c"):
        messages[session] = []
    assert list(messages) == ["running", "b", "c"] and forgotten == ["a"]
    messages["d"] = []
    assert list(messages) == ["running", "c", "d"] and forgotten == ["a", "b"]


def test_sessions_busy_when_added_are_forgotten_once_their_events_end():
    """A flood whose sessions are all queued when added keeps them all; when events end the bound holds again."""
    busy, forgotten = {"a", "b", "c", "d"}, []
    messages = SessionMessages(2, busy=lambda session: session in busy, forget=forgotten.append)
    for session in ("a", "b", "c", "d"):
        messages[session] = []
    assert list(messages) == ["a", "b", "c", "d"] and not forgotten
    busy.clear()  # every event ended
    messages.prune()
    assert list(messages) == ["c", "d"] and forgotten == ["a", "b"]


def test_streams_have_their_own_slots_beside_the_cpu_groups(quick_assets, serve_app):
    """/generate and its page twin run up to page.STREAMS at once; chat, fill and the lab stay at CONCURRENCY."""
    with serve_app(Engine(quick_assets)) as demo:
        limits = {fn.api_name: (fn.concurrency_id, fn.concurrency_limit) for fn in demo.fns.values()
                  if fn.api_name in ("generate", "chat", "fill", "lab", "surprise")}
        assert limits["generate"] == (page.STREAM_GROUP, page.STREAMS)
        assert {limits[name] for name in ("chat", "fill", "lab", "surprise")} == {("cpu", "default")}
        assert demo._queue.default_concurrency_limit == page.CONCURRENCY < page.STREAMS
        assert page.SESSION_CAPACITY >= page.CONCURRENCY + page.STREAMS  # no running request's session forgotten
