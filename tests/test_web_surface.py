"""The web surface under abuse, through raw HTTP as an attacker would use it: bodies too large, sessions
that pile up, routes the page does not use, unknown sessions and events, private events, uploads.

Each test reproduces one finding of the red-team pass (issue 16), scaled down to seconds.
"""
import gc
import json
import time
import tracemalloc
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from rnn_demo.config import LIMITS
from rnn_demo.serving import Engine
from rnn_demo.ui import fairness, page, web_limits
from rnn_demo.ui.tabs import train as train_tab
from rnn_demo.ui.web_limits import MAX_BODY_BYTES, UPLOAD, UploadLedger, UploadLimit, WebLimits

MIB = 1 << 20
KIB = 1024
HTTP_TIMEOUT_S = 30
CHUNK_BYTES = 64 * KIB  # what a streamed body is sent in, so that the test itself never holds it
MAX_GROWTH_MIB = 20  # growth of what Python holds allowed for an attack that, read and kept, would add ≥ 36 MiB
FILL = ["Paris is the capital of ___.", 3]
CHAT_SETTINGS = ["modern", "greedy", 4, 0.6, 0.8, 0, 1.0, 0]
FAKE_NOTICE = "Official notice"
# Unused routes the brief names, and others `gradio/routes.py` opens by default.
CLOSED_ROUTES = [
    ("GET", "/gradio_api/deep_link?session_hash=x"), ("GET", "/gradio_api/dev/reload"),
    ("GET", "/gradio_api/upload_progress?upload_id=x"), ("POST", "/gradio_api/process_recording"),
    ("POST", "/gradio_api/vibe-edit"), ("GET", "/gradio_api/vibe-code"), ("POST", "/gradio_api/vibe-starter-queries"),
    ("GET", "/gradio_api/runs"), ("GET", "/gradio_api/run-history/records"), ("POST", "/gradio_api/run-history/connect"),
    ("POST", "/gradio_api/component_server"), ("GET", "/gradio_api/proxy=http://example.com/"),
    ("POST", "/gradio_api/stream/x"), ("GET", "/gradio_api/custom_component/1/2/3/4"), ("GET", "/openapi.json"),
    ("POST", "/login"), ("GET", "/logout"), ("GET", "/no-such-route"),
]


@pytest.fixture(scope="module")
def temp_folder(tmp_path_factory) -> Path:
    """Gradio's temp folder for this module's app (deep links and uploads would land there)."""
    return tmp_path_factory.mktemp("gradio-temp")


@pytest.fixture(scope="module")
def demo(quick_assets, serve_app, temp_folder):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADIO_TEMP_DIR", str(temp_folder))  # read when the app is created
        with serve_app(Engine(quick_assets)) as demo:
            yield demo


@pytest.fixture(scope="module")
def base(demo) -> str:
    return demo.local_url.rstrip("/")


class Traced:
    """What Python allocates inside the `with` block (tracemalloc), in MiB; the app runs in this process.
    Not resident memory: in the whole suite's 2.6 GB process, other tests' threads and the allocator moved
    that by 22.8 MiB once in CI."""

    def __enter__(self):
        self.peak_mib = None
        tracemalloc.start()
        return self

    def held_mib(self) -> float:
        """What of it is still referenced now, after a collection."""
        gc.collect()
        return tracemalloc.get_traced_memory()[0] / MIB

    def __exit__(self, *exc):
        self.peak_mib = tracemalloc.get_traced_memory()[1] / MIB  # the most held at once
        tracemalloc.stop()


def streamed(size: int):
    """A body of `size` bytes, made as it is sent."""
    for start in range(0, size, CHUNK_BYTES):
        yield b"x" * min(CHUNK_BYTES, size - start)


def call(base: str, name: str, data: list) -> tuple[str, str]:
    """A REST call as the README shows it: POST the inputs, then read the event's result stream.

    Returns:
        The event id and the result stream's text.
    """
    with httpx.Client(base_url=base, timeout=HTTP_TIMEOUT_S) as client:
        posted = client.post(f"/gradio_api/call/{name}", json={"data": data})
        assert posted.status_code == 200, posted.text
        event_id = posted.json()["event_id"]
        return event_id, client.get(f"/gradio_api/call/{name}/{event_id}").text


def posted_until_queued(client: httpx.Client, name: str, body: dict) -> str:
    """POSTs a call, again while the queue is full (503), as a client that backs off; its event id."""
    deadline = time.monotonic() + HTTP_TIMEOUT_S
    while (posted := client.post(f"/gradio_api/call/{name}", json=body)).status_code == 503:
        assert time.monotonic() < deadline, posted.text
        time.sleep(0.05)
    assert posted.status_code == 200, posted.text
    return posted.json()["event_id"]


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def assert_still_serving(base: str) -> None:
    _, result = call(base, "fill", FILL)
    assert "event: complete" in result and "confidences" in result


# --- 1. request bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_50_mb_body_is_refused_with_413_without_the_process_growing(base, declared):
    size = 50 * MIB
    headers = {"content-type": "application/json", **({"content-length": str(size)} if declared else {})}
    with Traced() as traced:
        response = httpx.post(f"{base}/gradio_api/call/generate", content=streamed(size), headers=headers,
                              timeout=HTTP_TIMEOUT_S)
    assert response.status_code == 413
    assert response.json()["detail"].startswith("Request body too large: ")
    assert f"the limit is {MAX_BODY_BYTES:,}" in response.json()["detail"]
    assert traced.peak_mib < MAX_GROWTH_MIB
    assert_still_serving(base)


def test_the_largest_legal_chat_fits_under_the_body_limit_and_is_answered(base):
    # Every message at its limit, in the costliest characters, JSON-encoded ASCII-only (as `requests` sends).
    text = web_limits.COSTLIEST_CHARACTER * LIMITS.max_message_chars
    history = [{"role": role, "content": [{"type": "text", "text": text}]}
               for _, role in zip(range(LIMITS.max_history_messages), ["user", "assistant"] * LIMITS.max_history_messages)]
    body = json.dumps({"data": [text, history, *CHAT_SETTINGS]}).encode()
    assert len(body) <= MAX_BODY_BYTES
    with httpx.Client(base_url=base, timeout=HTTP_TIMEOUT_S) as client:
        posted = client.post("/gradio_api/call/chat", content=body, headers={"content-type": "application/json"})
        assert posted.status_code == 200, posted.text
        result = client.get(f"/gradio_api/call/chat/{posted.json()['event_id']}").text
    assert "event: complete" in result


# --- 2. sessions -------------------------------------------------------------------------------------


def test_refused_and_finished_rest_calls_do_not_pile_up(demo, base):
    """A flood of refused calls leaves nothing behind: Gradio remembers at most SESSION_CAPACITY sessions, and
    none of the refused 1 MiB prompts stays referenced anywhere (`Traced`: what Python still holds)."""
    refused_prompt = "x" * MIB  # refused by the engine once Gradio has read it into the call

    def flood(calls: int, traced: Traced) -> float:
        for _ in range(calls):
            _, result = call(base, "generate", [refused_prompt, "shakespeare-gru", 5, 0, 0, 1, 1, 0])
            assert "prompt is too long" in result
            assert "event: complete" in call(base, "fill", FILL)[1]
        assert len(demo.app.state_holder.session_data) <= page.SESSION_CAPACITY
        return traced.held_mib()

    with Traced() as traced:
        levelled = flood(page.SESSION_CAPACITY + 4, traced)  # the remembered sessions full, the fill data loaded
        assert flood(page.SESSION_CAPACITY, traced) - levelled < MAX_GROWTH_MIB  # all kept: ≥ 36 MiB more


def test_unread_rest_results_are_kept_for_the_newest_sessions_only(demo, base):
    """A flood of calls whose results are never read (each with a session of its own, as a script may
    make up) keeps the messages of at most MAX_SESSIONS_KEPT sessions; the forgotten answer a short 404."""
    queue = demo._queue
    calls = fairness.MAX_SESSIONS_KEPT + 24
    with httpx.Client(base_url=base, timeout=HTTP_TIMEOUT_S) as client:
        event_ids = [posted_until_queued(client, "fill", {"data": FILL, "session_hash": f"unread-{n}"})
                     for n in range(calls)]
        # Every call has ended once the queue holds none of them (the last ones may still run).
        deadline = time.monotonic() + HTTP_TIMEOUT_S
        while any(event_id in queue.event_ids_to_events for event_id in event_ids):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert len(queue.pending_messages_per_session) <= fairness.MAX_SESSIONS_KEPT
        assert len(queue.pending_event_ids_session) <= fairness.MAX_SESSIONS_KEPT
        assert "event: complete" in client.get(f"/gradio_api/call/fill/{event_ids[-1]}").text
        oldest = client.get(f"/gradio_api/call/fill/{event_ids[0]}")
        assert oldest.status_code == 404 and oldest.json()["detail"] == web_limits.NO_SUCH_SESSION


def test_the_queue_keeps_no_per_event_records_for_the_monitoring_it_does_not_serve(demo, base):
    for _ in range(3):
        assert "event: complete" in call(base, "fill", FILL)[1]
    assert not demo.enable_monitoring and demo._queue.event_analytics == {}


# --- 3. routes the page does not use -------------------------------------------------------------------


@pytest.mark.parametrize("method, path", CLOSED_ROUTES)
def test_a_route_the_page_does_not_use_answers_404(base, method, path):
    response = httpx.request(method, base + path, timeout=HTTP_TIMEOUT_S)
    assert response.status_code == 404
    assert "is not a route of this app" in response.json()["detail"]


def test_a_deep_link_writes_nothing_and_cannot_show_a_made_up_chat(base, temp_folder):
    fake = {"role": "assistant", "metadata": {"title": FAKE_NOTICE},
            "content": [{"type": "text", "text": "Your session expired: log in at http://login.example"}]}
    event_id, result = call(base, "chat", ["Hello", [fake], *CHAT_SETTINGS])
    assert "event: complete" in result or "event: error" in result
    before = files_under(temp_folder)
    for session in (event_id, "x"):
        response = httpx.get(f"{base}/gradio_api/deep_link", params={"session_hash": session}, timeout=HTTP_TIMEOUT_S)
        assert response.status_code == 404
    assert files_under(temp_folder) == before and not (temp_folder / "deep_links").exists()
    shown = httpx.get(f"{base}/", params={"deep_link": event_id}, timeout=HTTP_TIMEOUT_S)
    assert shown.status_code == 200 and FAKE_NOTICE not in shown.text


def test_a_200_mb_upload_field_is_cut_at_the_train_tabs_limit(base, temp_folder):
    """The one upload route (the Train tab's file) reads no more than its limit of a 200 MB body."""
    boundary = "b0undary"
    size = 200 * MIB

    def body():
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n\r\n'.encode()
        yield from streamed(size)
        yield f"\r\n--{boundary}--\r\n".encode()

    with Traced() as traced:
        response = httpx.post(f"{base}/gradio_api/upload", content=body(), timeout=HTTP_TIMEOUT_S,
                              headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413
    assert response.json()["detail"].startswith("Request body too large")
    assert traced.peak_mib < MAX_GROWTH_MIB + train_tab.UPLOAD_LIMIT.max_bytes / MIB
    assert files_under(temp_folder) == []


def test_a_thousand_empty_files_in_one_upload_are_refused_and_none_is_written(base, temp_folder):
    files = [("files", (f"empty-{number}.txt", b"")) for number in range(1_000)]
    response = httpx.post(f"{base}/gradio_api/upload", files=files, timeout=HTTP_TIMEOUT_S)
    assert response.status_code == 413
    assert response.json()["detail"] == web_limits.TOO_MANY_PARTS.format(limit=train_tab.UPLOAD_LIMIT.max_parts)
    assert files_under(temp_folder) == []


# --- 4. unknown sessions and events, private events ----------------------------------------------------


@pytest.mark.parametrize("path", ["/gradio_api/queue/data?session_hash=never-seen", "/gradio_api/call/fill/never-seen"])
def test_the_stream_of_an_unknown_session_is_a_short_404_with_no_traceback(base, path, caplog, capfd):
    response = httpx.get(base + path, timeout=HTTP_TIMEOUT_S)
    assert response.status_code == 404
    assert response.json()["detail"] == web_limits.NO_SUCH_SESSION
    assert not [record for record in caplog.records if record.exc_info]
    assert "Traceback" not in "".join(capfd.readouterr())


@pytest.mark.parametrize("fn_index", [999, -1, "2", None])
def test_an_fn_index_that_names_no_event_is_a_4xx_with_a_message(base, fn_index):
    response = httpx.post(f"{base}/gradio_api/queue/join", timeout=HTTP_TIMEOUT_S,
                          json={"data": [], "fn_index": fn_index, "session_hash": "s"})
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]
    assert_still_serving(base)


def test_events_marked_private_are_not_callable_through_the_api(demo, base):
    private = {index: fn.api_name for index, fn in demo.fns.items() if fn.api_visibility != "public"}
    assert {"false", "false_1"} <= set(private.values())  # the names Gradio makes up for api_name=False
    for name in private.values():
        for path in (f"/gradio_api/call/{name}", f"/gradio_api/call/v2/{name}", f"/gradio_api/run/{name}",
                     f"/gradio_api/api/{name}"):
            response = httpx.post(base + path, json={"data": []}, timeout=HTTP_TIMEOUT_S)
            assert response.status_code == 404 and name in response.json()["detail"], path
    # The test's timeout, not httpx's default 5 s: in a whole-suite run from a clean clone on the 2-core
    # machine, gradio_client once timed out here reading the app's config.
    client = Client(demo.local_url, verbose=False, httpx_kwargs={"timeout": HTTP_TIMEOUT_S})
    for index, name in private.items():
        with pytest.raises((ValueError, httpx.HTTPStatusError)):  # unknown to gradio_client, or 403 by the app
            client.predict(api_name=f"/{name}")
        with pytest.raises((ValueError, httpx.HTTPStatusError)):  # refused by gradio_client, or 403 by the app
            client.predict(fn_index=index)
    assert_still_serving(base)


def join(base: str, index: int, session: str, data: list | None = None) -> httpx.Response:
    return httpx.post(f"{base}/gradio_api/queue/join", timeout=HTTP_TIMEOUT_S,
                      json={"data": data or [], "fn_index": index, "session_hash": session})


def test_private_events_are_refused_to_a_session_that_has_not_loaded_the_page(demo, base):
    """The page runs its load event first, then calls its private events by number; a script that calls
    them by number straight away is refused (one that runs the load event first is not told apart)."""
    loads = [index for index, fn in demo.fns.items() if any(event == "load" for _, event in fn.targets)]
    private = [index for index, fn in demo.fns.items()
               if fn.api_visibility == "private" and fn.fn is not None and index not in loads]
    assert loads and private
    for index in private:
        response = join(base, index, "script")
        assert response.status_code == 403, index
        assert response.json()["detail"] == web_limits.PAGE_ONLY.format(index=index)
    assert join(base, loads[0], "page").status_code == 200  # the page's load event
    assert join(base, private[0], "page").status_code == 200
    public = next(index for index, fn in demo.fns.items() if fn.api_name == "fill")
    assert join(base, public, "script", list(FILL)).status_code == 200  # the public API needs no page
    assert_still_serving(base)


# --- the hook for the Train tab's upload: one route, size- and count-limited -----------------------------


@pytest.fixture()
def upload_app() -> TestClient:
    """A bare app behind WebLimits with one upload route opened: 3 parts, 1 KiB."""

    async def upload(request):
        form = await request.form()
        return JSONResponse({"parts": len(form.multi_items())})

    app = Starlette(routes=[Route(UPLOAD, upload, methods=["POST"])],
                    middleware=[Middleware(WebLimits, uploads={UPLOAD: UploadLimit(max_bytes=KIB, max_parts=3)})])
    return TestClient(app)


def test_an_opened_upload_route_takes_what_its_limit_allows(upload_app):
    response = upload_app.post(UPLOAD, files=[("files", (f"{n}.txt", b"text")) for n in range(3)])
    assert response.status_code == 200 and response.json() == {"parts": 3}


def test_an_opened_upload_route_refuses_one_part_too_many(upload_app):
    response = upload_app.post(UPLOAD, files=[("files", (f"{n}.txt", b"")) for n in range(4)])
    assert response.status_code == 413 and "too many parts" in response.json()["detail"]


def test_an_opened_upload_route_cuts_a_body_over_its_bytes(upload_app):
    response = upload_app.post(UPLOAD, files=[("files", ("big.txt", b"x" * 2 * KIB))])
    assert response.status_code == 413 and "the limit is 1,024" in response.json()["detail"]


def test_a_file_uploaded_and_never_used_is_left_to_the_periodic_cache_cleanup(demo, base, temp_folder):
    response = httpx.post(f"{base}/gradio_api/upload", files={"files": ("notes.txt", b"never read")},
                          timeout=HTTP_TIMEOUT_S)
    assert response.status_code == 200 and len(response.json()) == 1
    assert demo.delete_cache == page.CACHE_CLEANUP  # Gradio deletes cache files older than 15 minutes


# --- each address's share of the upload route, and everyone's -------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_over_its_upload_bytes_is_refused_until_its_oldest_upload_leaves_the_window():
    clock = FakeClock()
    ledger = UploadLedger(UploadLimit(max_bytes=100, max_parts=1, bytes_per_address=250, bytes_in_all=1_000,
                                      window_s=600), clock=clock)
    assert ledger.admit("10.0.0.1", 100) is None and ledger.admit("10.0.0.1", 100) is None
    why = ledger.admit("10.0.0.1", 100)
    assert why.startswith("Too many uploads from your address: 0 MB in the last 10 minutes")
    assert why.endswith("Try again in 10 minutes.")
    assert ledger.admit("10.0.0.2", 100) is None  # another address has its own share
    clock.now += 601  # the first two leave the window
    assert ledger.admit("10.0.0.1", 100) is None


def test_every_address_together_is_held_to_the_routes_budget():
    ledger = UploadLedger(UploadLimit(max_bytes=100, max_parts=1, bytes_per_address=100, bytes_in_all=300,
                                      window_s=600), clock=FakeClock())
    for address in ("a", "b", "c"):
        assert ledger.admit(address, 100) is None
    assert ledger.admit("d", 100).startswith("The app has taken all the uploads it keeps room for")


def test_the_upload_route_refuses_an_address_past_its_share_with_429():
    async def upload(request):
        return JSONResponse(["stored"])

    app = Starlette(routes=[Route(UPLOAD, upload, methods=["POST"])],
                    middleware=[Middleware(WebLimits, uploads={UPLOAD: UploadLimit(
                        max_bytes=KIB, max_parts=3, bytes_per_address=2 * KIB)})])
    client = TestClient(app)
    sizes = [client.post(UPLOAD, files={"files": ("a.txt", b"x" * 300)}).status_code for _ in range(8)]
    assert sizes[0] == 200 and 429 in sizes
    refused = client.post(UPLOAD, files={"files": ("a.txt", b"x" * 300)})
    assert refused.status_code == 429 and refused.json()["detail"].startswith("Too many uploads from your address")


def test_the_train_tabs_upload_share_outlasts_any_upload_left_on_disk():
    every_s, older_than_s = page.CACHE_CLEANUP  # an unread upload is deleted at most every + older than seconds on
    assert train_tab.UPLOAD_LIMIT.window_s >= every_s + older_than_s
    assert train_tab.UPLOAD_LIMIT.bytes_per_address >= 4 * train_tab.UPLOAD_LIMIT.max_bytes  # a visitor may retry


# --- each address's pace of event calls -------------------------------------------------------------------


def test_an_address_calls_a_burst_at_once_then_waits_its_turn_then_is_refused():
    clock = FakeClock()
    pacer = web_limits.CallPacer(web_limits.CallPacing(per_second=10, burst=3, max_wait_s=0.25), clock=clock)
    assert [pacer.admit("10.0.0.1") for _ in range(3)] == [0, 0, 0]
    assert [round(pacer.admit("10.0.0.1"), 6) for _ in range(2)] == [0.1, 0.2]
    assert pacer.admit("10.0.0.1") is None  # its turn would be 0.3 s off: refused, and not booked
    assert pacer.retry_after("10.0.0.1") == 1
    assert pacer.admit("10.0.0.2") == 0  # another address has its own pace
    clock.now += 0.3
    assert pacer.admit("10.0.0.1") == pytest.approx(0.0)  # its booked calls are due: in turn again


def test_the_pace_forgets_the_least_recent_address_beyond_its_capacity():
    pacer = web_limits.CallPacer(web_limits.CallPacing(per_second=1, burst=1, max_wait_s=0), clock=FakeClock(),
                                 capacity=2)
    for address in ("a", "b", "c"):
        assert pacer.admit(address) == 0
    assert pacer.admit("a") == 0 and pacer.admit("c") is None  # "a" was forgotten, "c" was not


def paced_app(pacing: "web_limits.CallPacing") -> TestClient:
    """A bare app behind WebLimits with `pacing`: an upload route (a call) and a page file (not one)."""

    async def upload(request):
        return JSONResponse(["stored"])

    async def page_file(request):
        return JSONResponse({"page": True})

    return TestClient(Starlette(
        routes=[Route(UPLOAD, upload, methods=["POST"]), Route("/config", page_file)],
        middleware=[Middleware(WebLimits, uploads={UPLOAD: UploadLimit(max_bytes=KIB, max_parts=3)}, pacing=pacing)]))


def timed_calls(client: TestClient, count: int) -> list[tuple[int, float]]:
    timed = []
    for _ in range(count):
        began = time.monotonic()
        response = client.post(UPLOAD, files={"files": ("a.txt", b"x")})
        timed.append((response.status_code, time.monotonic() - began))
    return timed


def test_calls_past_the_burst_wait_their_turn_asleep():
    timed = timed_calls(paced_app(web_limits.CallPacing(per_second=4, burst=2, max_wait_s=0.3)), 3)
    assert [status for status, _ in timed] == [200, 200, 200]
    assert timed[0][1] < 0.2 and timed[1][1] < 0.2 and timed[2][1] >= 0.2  # the third waited its turn, 0.25 s


def test_a_call_whose_turn_is_too_far_off_gets_429_and_the_page_itself_is_never_paced():
    client = paced_app(web_limits.CallPacing(per_second=4, burst=2, max_wait_s=0.1))
    timed = timed_calls(client, 3)
    assert [status for status, _ in timed] == [200, 200, 429] and timed[2][1] < 0.2  # refused at once
    refused = client.post(UPLOAD, files={"files": ("a.txt", b"x")})
    assert refused.status_code == 429 and refused.json()["detail"].startswith("Too many calls from your address")
    began = time.monotonic()
    assert all(client.get("/config").status_code == 200 for _ in range(10))
    assert time.monotonic() - began < 1.0  # reading the page is not a call


def test_the_shipped_pace_leaves_room_for_a_classroom_behind_one_router():
    pacing = page.CALL_PACING
    assert pacing.burst >= 30  # 30 pages loaded at once: one load event each
    assert pacing.per_second >= 10 and pacing.max_wait_s >= 5
    assert page.launch_options()["app_kwargs"]["middleware"][0].kwargs["pacing"] == pacing


@pytest.mark.parametrize("method, path, paced", [
    ("POST", "/gradio_api/call/fill", True), ("POST", "/gradio_api/call/v2/fill", True),
    ("POST", "/gradio_api/run/fill", True), ("POST", "/gradio_api/queue/join", True), ("POST", UPLOAD, True),
    ("GET", "/gradio_api/call/fill/0123abcd", False),  # reading a result
    ("GET", "/gradio_api/queue/data", False), ("GET", "/gradio_api/heartbeat/x", False), ("GET", "/", False),
    ("GET", "/config", False), ("GET", "/assets/index.js", False),
])
def test_only_what_starts_an_event_or_uploads_is_a_paced_call(method, path, paced):
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    assert web_limits._starts_a_call(scope, {UPLOAD: train_tab.UPLOAD_LIMIT}) is paced
