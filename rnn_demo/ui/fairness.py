"""Per-visitor fairness for Gradio's queue: each free slot goes to the waiting visitor served least;
and what the queue keeps between requests, bounded."""
from __future__ import annotations

import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable

from gradio.queueing import Event, EventQueue, Queue
from starlette.requests import Request

# A visitor is a Gradio session (one browser tab, one gradio_client.Client), or, for a REST call that
# brings no session (Gradio then makes it one of its own), the address it comes from: one address
# cannot pass for a new visitor at each call. Requests of one visitor, queued or running,
# beyond this many are refused, so that no visitor can fill the queue that everyone shares.
MAX_PENDING_PER_VISITOR = 4
# In a group of several slots (page.CONCURRENCY for chat, fill and the lab), one visitor's requests may
# take all but this many: the rest stay free for other visitors, who then never wait for a slot behind
# one visitor's flood (the soak: a normal /fill took 7.2x its idle time while a script's calls held both).
KEEP_FREE_FOR_OTHERS = 1
# Sessions whose messages (results, errors) the queue keeps once their events have ended, for their
# callers to read, the oldest beyond forgotten: a REST caller reads its result right after its call.
# Gradio keeps 2,000, unread ones included, and forgets one whose event still runs as readily.
MAX_SESSIONS_KEPT = 128
# Visitors whose service is remembered, the least recent forgotten first: a few floats each (about 1 MB
# in all), kept much longer than Gradio keeps a session's state (page.SESSION_CAPACITY), because the
# ordering is by service over time.
MAX_VISITORS_REMEMBERED = 10_000
TOO_MANY_PENDING = ("Too many requests of yours at once: {count} are already waiting or running. "
                    "Wait for one to finish, then try again.")
QUEUE_FULL = "queue_full"  # Gradio's state for a refused push: HTTP 503, a "busy" message in the clients

log = logging.getLogger(__name__)

Visitor = tuple[str, str]  # ("session", its hash) or ("address", a client's host): the two never meet
NO_ADDRESS = "unknown"  # a request without a client address (an ASGI server that gives none)


def visitor_of(event: Event) -> Visitor:
    """Who asked for `event`: its session, or the address of a REST call that brought none (Gradio gave it
    its own event id as session: a new visitor at each call)."""
    if event.session_hash != event._id:
        return ("session", event.session_hash)
    return address_of(event.request)


def address_of(request: Request | None) -> Visitor:
    """The client address of `request`, as the ASGI server gives it: the connection's peer, or the
    X-Forwarded-For of a proxy that uvicorn is told to trust (FORWARDED_ALLOW_IPS, loopback by default).
    No header is read here, so a caller cannot name itself another address."""
    client = request.client if request is not None else None
    return ("address", client.host if client is not None else NO_ADDRESS)


class ServiceLedger:
    """Seconds of service each visitor has had, on the clock of start-time fair queueing.

    A visitor's tag is the service it has had so far, but never less than the tag of the latest
    request started (the clock): time spent away earns no credit, so a visitor who comes back
    stands with the others, not ahead of them for good. The waiting visitor with the lowest tag
    goes next; a visitor who asks little (50 tokens) is thus not kept behind those who ask much
    (1,000 tokens each), however many they are.
    """

    def __init__(self, capacity: int = MAX_VISITORS_REMEMBERED):
        self.capacity = capacity
        self.clock = 0.0  # the tag of the latest request started
        self._service: OrderedDict[Visitor, float] = OrderedDict()  # visitor: tag + seconds served since

    def tag(self, visitor: Visitor) -> float:
        """Where `visitor`'s next request stands: lower goes first."""
        return max(self._service.get(visitor, 0.0), self.clock)

    def started(self, visitor: Visitor) -> None:
        """Records that a request of `visitor` starts: the clock moves on to its tag."""
        tag = self.tag(visitor)
        self.clock = max(self.clock, tag)
        self._remember(visitor, tag)

    def finished(self, visitor: Visitor, seconds: float) -> None:
        """Charges `visitor` the `seconds` one of its requests ran (onto its start tag, not onto the clock)."""
        self._remember(visitor, self._service.get(visitor, self.clock) + seconds)

    def _remember(self, visitor: Visitor, service: float) -> None:
        self._service[visitor] = service
        self._service.move_to_end(visitor)
        while len(self._service) > self.capacity:
            self._service.popitem(last=False)


class FairQueue(Queue):
    """Gradio's queue, serving visitors in turn instead of first in, first out.

    Gradio has no option for the order of its queue: its loop takes the first event of a
    concurrency group's list (`Queue.get_events`). This subclass sorts that list just before,
    so the first event is the fair one: visitors with fewer requests running first, then the
    lower `ServiceLedger` tag, then arrival (the sort is stable, so a visitor's own requests keep
    their order). A visitor who already runs its share of a group's slots (`visitor_slots`) waits
    there, a slot free or not, until one of its requests ends. Everything else, the queue's size,
    the concurrency limits and the "queue is full" refusal included, is Gradio's. Two things it keeps are bounded: the messages of ended
    sessions (`SessionMessages`), and the per-event records of its monitoring dashboard, kept only
    while the dashboard is on. `tests/test_fairness.py` fails if an upgrade of Gradio breaks these
    assumptions.
    """

    def __init__(self, *args, max_pending_per_visitor: int = MAX_PENDING_PER_VISITOR,
                 max_sessions_kept: int = MAX_SESSIONS_KEPT, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_pending_per_visitor = max_pending_per_visitor
        self.ledger = ServiceLedger()
        self.pending_messages_per_session = SessionMessages(max_sessions_kept, busy=self._busy,
                                                            forget=self._forget)

    @classmethod
    def replacing(cls, queue: Queue, *, max_pending_per_visitor: int = MAX_PENDING_PER_VISITOR,
                  max_sessions_kept: int = MAX_SESSIONS_KEPT) -> "FairQueue":
        """A fair queue with the settings of `queue`, the one `Blocks.queue()` made.

        Args:
            queue: Gradio's queue, not yet started.
            max_pending_per_visitor: the most requests one visitor may have queued or running.
            max_sessions_kept: the most sessions whose events have all ended that keep their messages.

        Returns:
            The queue to put in its place (`demo._queue`).
        """
        return cls(live_updates=queue.live_updates, concurrency_count=queue.max_thread_count,
                   update_intervals=queue.update_intervals, max_size=queue.max_size, blocks=queue.blocks,
                   default_concurrency_limit=queue.default_concurrency_limit,
                   max_pending_per_visitor=max_pending_per_visitor, max_sessions_kept=max_sessions_kept)

    async def push(self, body, request, username):
        """Gradio's push, after refusing a visitor who already has its share of requests pending."""
        visitor = ("session", body.session_hash) if body.session_hash is not None else address_of(request)
        pending = self.pending(visitor)
        if pending >= self.max_pending_per_visitor:
            log.debug("refused a request of a visitor with %d pending", pending)
            return False, TOO_MANY_PENDING.format(count=pending), QUEUE_FULL
        pushed = await super().push(body, request, username)
        if not self.blocks.enable_monitoring:
            self.event_analytics.clear()  # Gradio records every event for the dashboard, which is off
        return pushed

    def pending(self, visitor: Visitor) -> int:
        """Requests of `visitor` queued or running."""
        queued = sum(visitor_of(event) == visitor
                     for event_queue in self.event_queue_per_concurrency_id.values() for event in event_queue.queue)
        return queued + self._running()[visitor]

    def compute_analytics_summary(self, records):
        """Gradio's summary for its monitoring dashboard, only while the dashboard is on: Gradio computes it
        after every event, a pandas table of every event recorded (up to 10,000: 30-80 ms each, on two cores
        that serve the requests), for a dashboard that `launch_options` turns off."""
        if not self.blocks.enable_monitoring:
            return self.cached_event_analytics_summary
        return super().compute_analytics_summary(records)

    def get_events(self):
        """Gradio's choice of the next events, from lists put in fair order first, among the groups
        whose first visitor has not yet its share of the group's slots."""
        # Gradio's loop calls this every millisecond while events wait; only a group that may start one is sorted.
        groups = self.event_queue_per_concurrency_id
        ready = {name: group for name, group in groups.items() if group.queue and _has_room(group)}
        if not ready:
            return None
        running = self._running()
        startable = {}
        for name, group in ready.items():
            self._order(group.queue, running, name)
            if not self._at_share(visitor_of(group.queue[0]), name, running):
                startable[name] = group
        # Gradio's own choice among those groups (it reads this dict and nothing else that could change here).
        self.event_queue_per_concurrency_id = startable
        try:
            chosen = super().get_events()
        finally:
            self.event_queue_per_concurrency_id = groups
        if chosen is not None:
            for event in chosen[0]:
                self.ledger.started(visitor_of(event))
        return chosen

    def broadcast_estimations(self, concurrency_id: str, after: int | None = None) -> None:
        """Gradio's queue positions, told in the order the events will run."""
        self._order(self.event_queue_per_concurrency_id[concurrency_id].queue, self._running(), concurrency_id)
        super().broadcast_estimations(concurrency_id, after)

    async def process_events(self, events: list[Event], batch: bool, begin_time: float, fn) -> None:
        """Gradio's run of `events`, then each visitor is charged the time it took."""
        try:
            await super().process_events(events, batch, begin_time, fn)
        finally:
            seconds = max(time.time() - begin_time, 0.0)  # Gradio stamps the start with time.time()
            for event in events:
                self.ledger.finished(visitor_of(event), seconds)
            # Sessions that were busy when the last one was added may have ended now: bound them here too.
            self.pending_messages_per_session.prune()

    def _running(self) -> Counter:
        """{visitor: requests running, (group, visitor): those of them in the group}."""
        found = Counter()
        for job in self.active_jobs:
            for event in job or ():
                visitor = visitor_of(event)
                found[visitor] += 1
                found[(event.concurrency_id, visitor)] += 1
        return found

    def _at_share(self, visitor: Visitor, group: str, running: Counter) -> bool:
        share = visitor_slots(self.event_queue_per_concurrency_id[group].concurrency_limit)
        return share is not None and running[(group, visitor)] >= share

    def _order(self, events: list[Event], running: Counter, group: str) -> None:
        # In place: Gradio's loop and its cancel and clean-up paths hold this very list.
        def key(event: Event) -> tuple[bool, int, float]:
            visitor = visitor_of(event)
            return self._at_share(visitor, group, running), running[visitor], self.ledger.tag(visitor)

        events.sort(key=key)

    def _busy(self, session: str) -> bool:
        """Whether an event of `session` is queued or running (Gradio forgets an event once it has ended)."""
        return any(event_id in self.event_ids_to_events for event_id in self.pending_event_ids_session.get(session, ()))

    def _forget(self, session: str) -> None:
        """Drops what Gradio keeps of a forgotten session besides its messages (it would keep it for good)."""
        self.pending_event_ids_session.pop(session, None)


class SessionMessages(OrderedDict):
    """The queue's messages per session (Gradio's `Queue.pending_messages_per_session`), bounded: beyond
    `capacity`, the sessions added longest ago whose events have all ended are forgotten, their results
    unread or not. A session with an event queued or running is kept, however many there are (the
    queue's size and the visitors' shares bound those). The result of a forgotten session answers 404.

    Args:
        capacity: the most sessions kept beyond those with an event queued or running.
        busy: whether a session has an event queued or running.
        forget: called with each session forgotten.
    """

    def __init__(self, capacity: int, *, busy: Callable[[str], bool], forget: Callable[[str], None]):
        super().__init__()
        self.capacity = capacity
        self.busy = busy
        self.forget = forget

    def __setitem__(self, session: str, messages) -> None:
        super().__setitem__(session, messages)
        self.move_to_end(session)
        if len(self) > self.capacity:
            # The newest counts as ended but is kept: Gradio adds a session's messages just before its event.
            self._forget_oldest_ended(list(self)[:-1], keep=self.capacity - 1)

    def prune(self) -> None:
        """Forgets the oldest ended sessions beyond `capacity` (called when events end)."""
        if len(self) > self.capacity:
            self._forget_oldest_ended(list(self), keep=self.capacity)

    def _forget_oldest_ended(self, candidates: list[str], *, keep: int) -> None:
        ended = [old for old in candidates if not self.busy(old)]
        for old in ended[:max(len(ended) - keep, 0)]:
            del self[old]
            self.forget(old)


def visitor_slots(group_limit: int | None) -> int | None:
    """The most slots of a group of `group_limit` slots that one visitor's requests may hold (None: no limit)."""
    if group_limit is None:
        return None
    return max(group_limit - KEEP_FREE_FOR_OTHERS, 1)


def _has_room(event_queue: EventQueue) -> bool:
    """Whether Gradio may start another event of this concurrency group (its test in `Queue.get_events`)."""
    limit = event_queue.concurrency_limit
    return limit is None or event_queue.current_concurrency < limit
