"""Per-visitor fairness for Gradio's queue: each free slot goes to the waiting visitor served least."""
from __future__ import annotations

import logging
import time
from collections import Counter, OrderedDict

from gradio.queueing import Event, EventQueue, Queue

# A visitor is a Gradio session (one browser tab, one gradio_client.Client); a REST call that
# brings no session counts as a visitor of its own. Requests of one visitor, queued or running,
# beyond this many are refused, so that no visitor can fill the queue that everyone shares.
MAX_PENDING_PER_VISITOR = 4
# Visitors whose service is remembered, the least recent forgotten first: a few floats each (about 1 MB
# in all), kept much longer than Gradio keeps a session's state (page.SESSION_CAPACITY), because the
# ordering is by service over time.
MAX_VISITORS_REMEMBERED = 10_000
TOO_MANY_PENDING = ("Too many requests of yours at once: {count} are already waiting or running. "
                    "Wait for one to finish, then try again.")
QUEUE_FULL = "queue_full"  # Gradio's state for a refused push: HTTP 503, a "busy" message in the clients

log = logging.getLogger(__name__)


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
        self._service: OrderedDict[str, float] = OrderedDict()  # visitor: tag + seconds served since

    def tag(self, visitor: str) -> float:
        """Where `visitor`'s next request stands: lower goes first."""
        return max(self._service.get(visitor, 0.0), self.clock)

    def started(self, visitor: str) -> None:
        """Records that a request of `visitor` starts: the clock moves on to its tag."""
        tag = self.tag(visitor)
        self.clock = max(self.clock, tag)
        self._remember(visitor, tag)

    def finished(self, visitor: str, seconds: float) -> None:
        """Charges `visitor` the `seconds` one of its requests ran (onto its start tag, not onto the clock)."""
        self._remember(visitor, self._service.get(visitor, self.clock) + seconds)

    def _remember(self, visitor: str, service: float) -> None:
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
    their order). Everything else, the queue's size, the concurrency limits and the "queue is
    full" refusal included, is Gradio's. `tests/test_fairness.py` fails if an upgrade of Gradio
    breaks these assumptions.
    """

    def __init__(self, *args, max_pending_per_visitor: int = MAX_PENDING_PER_VISITOR, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_pending_per_visitor = max_pending_per_visitor
        self.ledger = ServiceLedger()

    @classmethod
    def replacing(cls, queue: Queue, *, max_pending_per_visitor: int = MAX_PENDING_PER_VISITOR) -> "FairQueue":
        """A fair queue with the settings of `queue`, the one `Blocks.queue()` made.

        Args:
            queue: Gradio's queue, not yet started.
            max_pending_per_visitor: the most requests one visitor may have queued or running.

        Returns:
            The queue to put in its place (`demo._queue`).
        """
        return cls(live_updates=queue.live_updates, concurrency_count=queue.max_thread_count,
                   update_intervals=queue.update_intervals, max_size=queue.max_size, blocks=queue.blocks,
                   default_concurrency_limit=queue.default_concurrency_limit,
                   max_pending_per_visitor=max_pending_per_visitor)

    async def push(self, body, request, username):
        """Gradio's push, after refusing a visitor who already has its share of requests pending."""
        visitor = body.session_hash  # None: a REST call without a session, a new visitor
        pending = self.pending(visitor) if visitor is not None else 0
        if pending >= self.max_pending_per_visitor:
            log.debug("refused a request of a visitor with %d pending", pending)
            return False, TOO_MANY_PENDING.format(count=pending), QUEUE_FULL
        return await super().push(body, request, username)

    def pending(self, visitor: str) -> int:
        """Requests of `visitor` queued or running."""
        queued = sum(event.session_hash == visitor
                     for event_queue in self.event_queue_per_concurrency_id.values() for event in event_queue.queue)
        return queued + self._running()[visitor]

    def get_events(self):
        """Gradio's choice of the next events, from lists put in fair order first."""
        # Gradio's loop calls this every millisecond while events wait; only a group that may start one is sorted.
        ready = [group for group in self.event_queue_per_concurrency_id.values() if group.queue and _has_room(group)]
        if ready:
            running = self._running()
            for group in ready:
                self._order(group.queue, running)
        chosen = super().get_events()
        if chosen is not None:
            for event in chosen[0]:
                self.ledger.started(event.session_hash)
        return chosen

    def broadcast_estimations(self, concurrency_id: str, after: int | None = None) -> None:
        """Gradio's queue positions, told in the order the events will run."""
        self._order(self.event_queue_per_concurrency_id[concurrency_id].queue, self._running())
        super().broadcast_estimations(concurrency_id, after)

    async def process_events(self, events: list[Event], batch: bool, begin_time: float, fn) -> None:
        """Gradio's run of `events`, then each visitor is charged the time it took."""
        try:
            await super().process_events(events, batch, begin_time, fn)
        finally:
            seconds = max(time.time() - begin_time, 0.0)  # Gradio stamps the start with time.time()
            for event in events:
                self.ledger.finished(event.session_hash, seconds)

    def _running(self) -> Counter:
        """{visitor: requests running}."""
        return Counter(event.session_hash for job in self.active_jobs if job is not None for event in job)

    def _order(self, events: list[Event], running: Counter) -> None:
        # In place: Gradio's loop and its cancel and clean-up paths hold this very list.
        events.sort(key=lambda event: (running[event.session_hash], self.ledger.tag(event.session_hash)))


def _has_room(event_queue: EventQueue) -> bool:
    """Whether Gradio may start another event of this concurrency group (its test in `Queue.get_events`)."""
    limit = event_queue.concurrency_limit
    return limit is None or event_queue.current_concurrency < limit
