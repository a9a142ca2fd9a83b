"""The web surface's limits: an ASGI middleware that bounds request bodies, closes the routes the page does not use
and keeps the page's private events to sessions that loaded the page."""
from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from python_multipart.exceptions import MultipartParseError
from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import LIMITS, Limits
from .fairness import address_of

log = logging.getLogger(__name__)

API = "/gradio_api"
# The costliest character to send in JSON: outside the BMP, written by an ASCII-only encoder
# (Python's json, `requests`) as a \u-escaped surrogate pair: 12 bytes for one character.
COSTLIEST_CHARACTER = "\U0001F600"
BODY_HEADROOM = 1.5  # over the largest legal request: its other fields, message metadata, other encoders
QUEUE_JOIN = f"{API}/queue/join"
QUEUE_DATA = f"{API}/queue/data"
UPLOAD = f"{API}/upload"
MCP = f"{API}/mcp"  # Gradio's MCP server (streamable HTTP at /gradio_api/mcp/, SSE at /gradio_api/mcp/sse)

# The routes the page and its API use (Gradio 6); every other path answers 404 without its body
# being read. Closed so: deep_link (writes a session's inputs to disk on every call, and shows
# made-up chats at the app's address), dev/reload (polls every 50 ms per idle connection outside
# reload mode), upload_progress, process_recording, vibe-*, run-history, runs, stream/*,
# component_server, proxy=, custom_component, login/logout (no auth), FastAPI's /openapi.json.
PAGE_PATHS = frozenset({
    "/", "/config", "/config/", "/favicon.ico", "/theme.css", "/robots.txt", "/manifest.json", "/pwa_icon",
    f"{API}/info", f"{API}/info/", f"{API}/openapi.json", f"{API}/theme.css", f"{API}/startup-events",
    f"{API}/app_id", f"{API}/app_id/", f"{API}/login_check", f"{API}/login_check/", f"{API}/user", f"{API}/user/",
    f"{API}/token", f"{API}/token/", QUEUE_JOIN, QUEUE_DATA, f"{API}/queue/status", f"{API}/cancel",
    f"{API}/reset", f"{API}/reset/",
})
PAGE_PREFIXES = ("/assets/", "/svelte/", "/static/", "/pwa_icon/", f"{API}/heartbeat/", f"{API}/file=")
# Closed by Gradio itself, with a 403 and no body read (launch's enable_monitoring=False), as tests/test_app.py pins.
GRADIO_CLOSED = ("/monitoring", "/monitoring/")
# Routes named after an event (`/call/<name>`, `/call/<name>/<event_id>`, …): open for the public events only,
# so that an event marked api_name=False is not callable under its made-up name ("false", "false_1", …).
EVENT_PREFIXES = (f"{API}/call/v2/", f"{API}/call/", f"{API}/run/", f"{API}/api/")
# The page calls its private events (api_name=False) by number through /queue/join, and so can anyone:
# a session may call them only once it has run the page's load event, which the page runs first and an
# API client (gradio_client, a script) does not. Not a boundary against a script that runs the load event
# first: each private event is also checked as its public twin is (tests/test_web_surface.py).
MAX_PAGE_SESSIONS = 10_000  # sessions remembered as pages, the least recent forgotten: ~100 bytes each
MAX_PACED_ADDRESSES = 10_000  # addresses whose pace is remembered, the least recent forgotten: ~100 bytes each

NOT_A_ROUTE = "Not found: {path} is not a route of this app."
NO_UPLOADS = "This app takes no file uploads."
TOO_LARGE = "Request body too large: {size} bytes, the limit is {limit:,}."
TOO_MANY_PARTS = "Upload has too many parts: the limit is {limit:,} files and fields."
NO_SUCH_EVENT = "No event {name!r} in this app's API."
NO_SUCH_FN_INDEX = "No event number {index!r} in this app (fn_index)."
TOO_FAST = ("Too many calls from your address: at most {burst} at once and {rate:g} a second after. "
            "Try again in {seconds} s.")
NO_SUCH_SESSION = "No such session or event: it has ended or never began."
UPLOADS_FROM_ADDRESS = ("Too many uploads from your address: {used} MB in the last {minutes} minutes, the limit "
                        "is {limit} MB. Try again in {wait} minutes.")
UPLOADS_IN_ALL = ("The app has taken all the uploads it keeps room for ({limit} MB in {minutes} minutes). "
                  "Try again in {wait} minutes.")
PAGE_ONLY = ("Event number {index} is the page's own, not part of this app's API: "
             "call the events listed under \"Use via API\" at the foot of the page.")


@dataclass(frozen=True)
class UploadLimit:
    """What one opened upload route accepts (the Train tab's text file, say).

    Uploads are written to Gradio's temp folder and stay there until read (then deleted) or until the
    cache clean-up removes them (`page.CACHE_CLEANUP`): bytes taken within that `window_s` bound what
    uploads hold on disk, per address and in all. An upload is charged its declared size, or
    `max_bytes` when it declares none, when it is let in.
    """

    max_bytes: int  # the whole multipart body
    max_parts: int  # files and form fields together
    bytes_per_address: int | None = None  # taken from one client address within window_s; None: no budget
    bytes_in_all: int | None = None  # taken from every address within window_s; None: no budget
    window_s: float = 900.0


class UploadLedger:
    """The bytes each address (and all) had let in on one upload route within its window."""

    def __init__(self, limit: UploadLimit, clock=time.monotonic):
        self.limit = limit
        self.clock = clock
        self._taken: deque[tuple[float, str, int]] = deque()  # (when, address, bytes), oldest first
        self._by_address: dict[str, int] = {}
        self._in_all = 0

    def admit(self, address: str, size: int) -> str | None:
        """Charges `address` for an upload of `size` bytes and returns None, or returns why it is refused."""
        now = self.clock()
        self._forget_before(now - self.limit.window_s)
        minutes = f"{self.limit.window_s / 60:g}"
        used = self._by_address.get(address, 0)
        if self.limit.bytes_per_address is not None and used + size > self.limit.bytes_per_address:
            return UPLOADS_FROM_ADDRESS.format(used=_megabytes(used), minutes=minutes,
                                               limit=_megabytes(self.limit.bytes_per_address),
                                               wait=self._wait(now, address))
        if self.limit.bytes_in_all is not None and self._in_all + size > self.limit.bytes_in_all:
            return UPLOADS_IN_ALL.format(limit=_megabytes(self.limit.bytes_in_all), minutes=minutes,
                                         wait=self._wait(now, None))
        self._taken.append((now, address, size))
        self._by_address[address] = used + size
        self._in_all += size
        return None

    def _forget_before(self, cutoff: float) -> None:
        while self._taken and self._taken[0][0] < cutoff:
            _, address, size = self._taken.popleft()
            self._in_all -= size
            left = self._by_address.pop(address) - size
            if left > 0:
                self._by_address[address] = left

    def _wait(self, now: float, address: str | None) -> int:
        """Whole minutes until the oldest charge of `address` (of anyone: None) leaves the window."""
        oldest = next((when for when, who, _ in self._taken if address is None or who == address), now)
        return max(math.ceil((oldest + self.limit.window_s - now) / 60), 1)


@dataclass(frozen=True)
class CallPacing:
    """How fast one client address may start event calls (a POST that starts or joins an event, or an upload).

    Beyond `burst` calls at once and `per_second` after, a call waits its turn asleep in the server
    (no CPU, no body read yet) for up to `max_wait_s`; one that would wait longer is refused (429).
    The page's own loading (assets, config, results being read) is never paced. Every visitor behind
    one address (a classroom behind one router) shares its pace, so it is far above what people at a
    page ask for; what it stops is a script looping on the API as fast as the server answers, which
    otherwise takes the server's CPU from everyone else (the soak: a normal /fill at 2-3× its idle
    time during such a loop).
    """

    per_second: float = 20.0
    burst: int = 40
    max_wait_s: float = 10.0


class CallPacer:
    """Each address's pace of event calls (`CallPacing`), by the generic cell rate algorithm: an address's
    next call is due one interval after its last, and may come up to `burst - 1` intervals early."""

    def __init__(self, pacing: CallPacing, clock=time.monotonic, capacity: int = MAX_PACED_ADDRESSES):
        self.pacing = pacing
        self.clock = clock
        self.capacity = capacity
        self.interval = 1.0 / pacing.per_second
        self.early = (pacing.burst - 1) * self.interval
        self._due: OrderedDict[str, float] = OrderedDict()  # address: when its next call is due

    def admit(self, address: str) -> float | None:
        """Books a call of `address`: the seconds it waits before it starts (0: now), or None if refused."""
        now = self.clock()
        due = max(self._due.get(address, now), now)
        wait = max(0.0, due - self.early - now)
        if wait > self.pacing.max_wait_s:
            return None
        self._due[address] = due + self.interval
        self._due.move_to_end(address)
        while len(self._due) > self.capacity:  # the least recent first: their calls are long due
            self._due.popitem(last=False)
        return wait

    def retry_after(self, address: str) -> int:
        """Whole seconds until a refused address's call would be let in."""
        waiting = self._due.get(address, 0.0) - self.early - self.clock() - self.pacing.max_wait_s
        return max(math.ceil(waiting), 1)


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.0f}"


NO_UPLOAD_ROUTES: Mapping[str, UploadLimit] = MappingProxyType({})


def largest_legal_body(limits: Limits = LIMITS) -> int:
    """Bytes of the largest request the API accepts: a /chat whose message and every one of its
    `max_history_messages` history messages hold `max_message_chars` of the costliest character.

    Args:
        limits: the request limits.

    Returns:
        The request's JSON size in bytes, without its few small settings.
    """
    text = COSTLIEST_CHARACTER * limits.max_message_chars
    message = {"role": "assistant", "content": [{"type": "text", "text": text}]}
    one_message = len(json.dumps(message)) + len(", ")
    return one_message * limits.max_history_messages + len(json.dumps(text))


MAX_BODY_BYTES = int(largest_legal_body() * BODY_HEADROOM)


class BodyTooLarge(MultipartParseError):
    """The request body went past its limit while it streamed in. A multipart parse error too: Gradio's upload
    parser then deletes the temporary files it had begun writing (it does so only for its parse errors)."""


class WebLimits:
    """ASGI middleware: closed routes answer 404 (uploads 413) unread; bodies are cut at their limit (413);
    a private event joined from a session that has not loaded the page answers 403.

    Args:
        app: the Gradio app it guards (`scope["app"]` must be that app: it names the events).
        max_body_bytes: the most bytes of any request body but an opened upload's.
        uploads: the upload routes that are open, and what each accepts; no other upload is read.
        open_prefixes: more routes to open, by prefix (`MCP` when the app serves its tools over MCP).
        pacing: how fast one address may start event calls (`CallPacing`); None: no pace.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = MAX_BODY_BYTES,
                 uploads: Mapping[str, UploadLimit] = NO_UPLOAD_ROUTES, open_prefixes: tuple[str, ...] = (),
                 pacing: CallPacing | None = None):
        self.app = app
        self.pacer = CallPacer(pacing) if pacing is not None else None
        self.max_body_bytes = max_body_bytes
        self.uploads = uploads
        self.open_prefixes = tuple(open_prefixes)
        self.pages = PageSessions()
        self.upload_ledgers = {path: UploadLedger(limit) for path, limit in uploads.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = self.uploads.get(route(scope))
        limit = upload.max_bytes if upload else self.max_body_bytes
        refusal = self._refusal(scope, limit)
        if refusal is None and self.pacer is not None and _starts_a_call(scope, self.uploads):
            refusal = await self._paced(scope)
        if refusal is None:  # charged only once let in: a call refused for its pace has uploaded nothing
            refusal = self._over_upload_budget(scope, limit)
        if refusal is None and route(scope) == QUEUE_JOIN:
            receive, refusal = await _checked_join(scope, _BoundedBody(receive, limit), self.pages)
        if refusal is not None:
            log.debug("refused %s %s: %s", scope["method"], scope["path"], refusal.body)
            await refusal(scope, receive, send)
            return
        body = _BoundedBody(receive, limit, parts=_PartCounter.of(scope, upload.max_parts) if upload else None)
        await _Guarded(self.app, body)(scope, send)

    async def _paced(self, scope: Scope) -> JSONResponse | None:
        """Waits this call's turn in its address's pace (`CallPacer`); the refusal if its turn is too far off."""
        _, address = address_of(Request(scope))
        wait = self.pacer.admit(address)
        if wait is None:
            pacing = self.pacer.pacing
            return refused(429, TOO_FAST.format(burst=pacing.burst, rate=pacing.per_second,
                                                seconds=self.pacer.retry_after(address)))
        if wait > 0:
            await asyncio.sleep(wait)
        return None

    def _refusal(self, scope: Scope, limit: int) -> JSONResponse | None:
        """The answer to a request refused before its body is read, or None."""
        path = route(scope)
        if path == UPLOAD and path not in self.uploads:
            return refused(413, NO_UPLOADS)
        if not (path in PAGE_PATHS or path.startswith(PAGE_PREFIXES) or path in self.uploads
                or path.startswith(EVENT_PREFIXES) or path.startswith(GRADIO_CLOSED)
                or (self.open_prefixes and path.startswith(self.open_prefixes))):
            return refused(404, NOT_A_ROUTE.format(path=path))
        size = _content_length(scope)
        if size is not None and size > limit:
            return refused(413, TOO_LARGE.format(size=f"{size:,}", limit=limit))
        return _unknown_event(scope) or _unknown_session(scope)

    def _over_upload_budget(self, scope: Scope, limit: int) -> JSONResponse | None:
        """429 for an upload past its address's (or everyone's) budget; the upload is charged otherwise."""
        path = route(scope)
        if path not in self.upload_ledgers or scope["method"] != "POST":
            return None
        size = _content_length(scope)
        _, address = address_of(Request(scope))  # the visitor rule of the queue's fairness: the peer, no header
        why = self.upload_ledgers[path].admit(address, limit if size is None else size)
        return refused(429, why) if why is not None else None


def route(scope: Scope) -> str:
    """The request's path within the app (without the prefix it is mounted or proxied under)."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def refused(status: int, message: str) -> JSONResponse:
    """A refusal as every raw route gives one: the status and `{"detail": message}`; the connection
    closes after it, so that a body left unread is not taken for the next request."""
    return JSONResponse({"detail": message}, status_code=status, headers={"connection": "close"})


def _starts_a_call(scope: Scope, uploads: Mapping[str, UploadLimit]) -> bool:
    """A POST that starts or joins an event (through any of Gradio's routes for it), or an upload."""
    path = route(scope)
    return scope["method"] == "POST" and (path.startswith(EVENT_PREFIXES) or path == QUEUE_JOIN or path in uploads)


def _content_length(scope: Scope) -> int | None:
    """The request's declared body size, or None (none declared, or not a number: the body is then counted)."""
    value = Headers(scope=scope).get("content-length", "")
    return int(value) if value.isdigit() else None


def _unknown_event(scope: Scope) -> JSONResponse | None:
    """404 for a route named after an event that is not public, or for the result of an event the queue lost."""
    path = route(scope)
    prefix = next((p for p in EVENT_PREFIXES if path.startswith(p)), None)
    if prefix is None:
        return None
    blocks = scope["app"].get_blocks()
    name, _, event_id = path[len(prefix):].partition("/")
    if name not in {fn.api_name for fn in blocks.fns.values() if fn.api_visibility == "public"}:
        return refused(404, NO_SUCH_EVENT.format(name=name))
    if event_id.strip("/") and not _session_known(blocks._queue, _session_of_event(blocks._queue, event_id)):
        return refused(404, NO_SUCH_SESSION)
    return None


def _unknown_session(scope: Scope) -> JSONResponse | None:
    """404 for the event stream of a session the queue does not hold."""
    if route(scope) != QUEUE_DATA:
        return None
    session = QueryParams(scope["query_string"]).get("session_hash", "")
    return None if _session_known(scope["app"].get_blocks()._queue, session) else refused(404, NO_SUCH_SESSION)


def _session_of_event(queue, event_id: str) -> str:
    """The session of a /call event, found as Gradio's result route finds it (the id itself if none)."""
    event_id = event_id.strip("/")
    event = queue.event_ids_to_events.get(event_id)
    if event is not None:
        return event.session_hash
    return next((session for session, ids in queue.pending_event_ids_session.items() if event_id in ids), event_id)


def _session_known(queue, session: str) -> bool:
    """Whether the queue holds messages for `session`: else Gradio's result stream fails mid-answer,
    with a traceback in the log for every such request."""
    return session in queue.pending_messages_per_session


async def _checked_join(scope: Scope, body: "_BoundedBody", pages: "PageSessions") -> tuple[Receive, JSONResponse | None]:
    """Reads a /queue/join body (bounded) to refuse an fn_index that names no event (Gradio answers a bare 500),
    or a private event called from a session that has not loaded the page.

    Returns:
        A receive that gives the app the same body again, and the refusal or None.
    """
    try:
        data = await body.read_all()
    except BodyTooLarge:
        return body.receive, refused(413, TOO_LARGE.format(size=f"over {body.limit:,}", limit=body.limit))
    replay = _replay(data, body.receive)
    try:
        join = json.loads(data)
        index, session = join.get("fn_index"), join.get("session_hash")
    except (ValueError, RecursionError, AttributeError):  # not a JSON object: Gradio's own check says so
        return replay, None
    fns = scope["app"].get_blocks().fns
    if index is None:
        return replay, None
    if not (isinstance(index, int) and not isinstance(index, bool) and index in fns):
        return replay, refused(422, NO_SUCH_FN_INDEX.format(index=index))
    return replay, pages.refusal(fns, index, session)


def _replay(data: bytes, receive: Receive) -> Receive:
    """A receive that gives `data` as the whole body, then waits on `receive` (for the disconnect)."""
    pending = [{"type": "http.request", "body": data, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


class PageSessions:
    """The sessions that have run the page's load event, the `capacity` most recent; who may call private events.

    Args:
        capacity: the most sessions remembered.
    """

    def __init__(self, capacity: int = MAX_PAGE_SESSIONS):
        self.capacity = capacity
        self._sessions: OrderedDict[str, None] = OrderedDict()

    def refusal(self, fns: Mapping, index: int, session) -> JSONResponse | None:
        """403 for a private event of `fns` called from a session that has not loaded the page; else None
        (a call of a load event makes its session a page's).

        Args:
            fns: the app's events by number (`Blocks.fns`).
            index: the event called.
            session: the session it is called from, as the request says.
        """
        loads = {number for number, fn in fns.items() if any(event == "load" for _, event in fn.targets)}
        if fns[index].api_visibility == "public" or not loads or not isinstance(session, str):
            return None  # public; or no load event to tell a page by; or Gradio refuses the missing session
        if index in loads:
            self._sessions[session] = None
            self._sessions.move_to_end(session)
            while len(self._sessions) > self.capacity:
                self._sessions.popitem(last=False)
            return None
        return None if session in self._sessions else refused(403, PAGE_ONLY.format(index=index))


class _PartCounter:
    """Counts the parts of a multipart body as it streams, by its boundary delimiters (split across chunks too)."""

    def __init__(self, delimiter: bytes, max_parts: int):
        self.delimiter = delimiter
        self.max_parts = max_parts
        self.seen = 0
        self.tail = b""

    @classmethod
    def of(cls, scope: Scope, max_parts: int) -> "_PartCounter | None":
        """The counter of the request's multipart boundary, or None if the body is not multipart."""
        content_type = Headers(scope=scope).get("content-type", "")
        _, _, boundary = content_type.partition("boundary=")
        boundary = boundary.split(";")[0].strip().strip('"')
        return cls(b"--" + boundary.encode("latin-1"), max_parts) if boundary else None

    def feed(self, chunk: bytes) -> bool:
        """Counts the delimiters `chunk` completes; True while the parts are within the limit."""
        window = self.tail + chunk
        self.seen += window.count(self.delimiter)
        # Keep what could be the start of a delimiter; a delimiter found wholly in it was counted.
        self.tail = window[-(len(self.delimiter) - 1):]
        return self.seen <= self.max_parts + 1  # the closing delimiter follows the last part


class _BoundedBody:
    """A request's receive that counts the body's bytes (and multipart parts) and cuts it at the limit."""

    def __init__(self, receive: Receive, limit: int, *, parts: _PartCounter | None = None):
        self._receive = receive
        self.limit = limit
        self.parts = parts
        self.size = 0
        self.exceeded = ""  # the refusal's message, once the body went past a limit

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            self.size += len(chunk)
            if self.size > self.limit:
                self.exceeded = TOO_LARGE.format(size=f"over {self.limit:,}", limit=self.limit)
            elif self.parts is not None and not self.parts.feed(chunk):
                self.exceeded = TOO_MANY_PARTS.format(limit=self.parts.max_parts)
            if self.exceeded:
                raise BodyTooLarge(self.exceeded)
        return message

    async def read_all(self) -> bytes:
        """The whole body (BodyTooLarge past the limit)."""
        chunks, more = [], True
        while more:
            message = await self.receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        return b"".join(chunks)


class _Guarded:
    """Runs the app on a bounded body: if the body is cut, the client gets our 413, whatever the app made of it
    (FastAPI turns any error while reading a body into its own 400)."""

    def __init__(self, app: ASGIApp, body: _BoundedBody):
        self.app = app
        self.body = body
        self.started = False  # the app's response began before the body was cut
        self.replaced = False  # the app's response to the cut body is being dropped: ours replaces it

    async def __call__(self, scope: Scope, send: Send) -> None:
        self._send = send
        try:
            await self.app(scope, self.body.receive, self.send)
        except BodyTooLarge:
            if self.started:
                raise
        if self.body.exceeded and not self.started:
            await self._refuse(scope)

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and self.body.exceeded and not self.started:
            self.replaced = True
        if self.replaced:
            return  # the app's own answer to the cut body is dropped; ours goes out once the app returns
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)

    async def _refuse(self, scope: Scope) -> None:
        log.debug("cut %s %s: %s", scope["method"], scope["path"], self.body.exceeded)
        await refused(413, self.body.exceeded)(scope, self.body.receive, self._send)
