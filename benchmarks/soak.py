"""Soak: a spawned `python app.py` under a long mix of valid and refused REST calls, 1,000 idle connections held open.

Measured from outside: resident memory of the app's process tree and the bytes in its Gradio temp
folder (a fresh one, its own) before and after (once the soak's connections have closed; memory also
while they are held), and a normal request's p50 (a /fill through the REST API: POST the inputs, read
the result stream) while the soak runs, against the same when idle. The soak's calls bring no session,
as a script's would: the app counts them as one visitor, their address's. They and the idle connections come
from an address of their own, FLOOD_ADDRESS (a second loopback address), as an attacker's would come from
another machine: the app paces each address's calls (`web_limits.CallPacing`). The normal request is
another visitor's, from 127.0.0.1, with a session of its own (as the page and gradio_client bring).
Every call must end answered or refused with a message: one that ends otherwise is "lost".
"""
from __future__ import annotations

import os
import shutil
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from benchmarks.app_process import FILL, GENERATE, AppProcess
from benchmarks.report import TIMES, Row, at_most

MAX_MEMORY_GROWTH_MB = 50
MAX_TEMP_GROWTH_BYTES = 1_000_000
MAX_SLOWDOWN = 2.0  # a normal request's p50 during the soak ÷ idle
MB = 1e6
WORKERS = 2  # soak clients at once, on the same 2 cores as the app: one call in flight each
IDLE_SAMPLES = 20  # /fill calls timed before the soak
PROBE_PAUSE_S = 0.2  # between two timed /fill calls during the soak
TIMEOUT_S = 60.0
SETTLE_S = 2.0  # after the soak, before memory is read: connections close, the queue empties
ANSWERED, REFUSED, LOST = "answered", "refused", "lost"
NORMAL_VISITOR = "soak-normal-visitor"  # the session of the timed /fill calls
FLOOD_ADDRESS = "127.0.0.2"  # where the soak's calls and idle connections come from (all of 127/8 is loopback)
TOO_LONG_PROMPT = "x" * 100_000  # refused by the engine, after Gradio has taken it into the call's session
DECLARED_BYTES = 50 << 20  # an oversized body's Content-Length; only its first chunk is sent
SENT_BYTES = 64 * 1024
SOCKET_READ_BYTES = 4096
HTTP_REFUSALS = (404, 413, 422, 429, 503)  # 429: the address has had its share of uploads; 503: of requests pending


def rest_call(client: httpx.Client, name: str, data: list, *, session: str | None = None) -> str:
    """POST /gradio_api/call/<name> (with `session`, if any), then read the event's result stream;
    ANSWERED, REFUSED or LOST."""
    posted = client.post(f"/gradio_api/call/{name}", json={"data": data, "session_hash": session})
    if posted.status_code != 200:
        return refusal(posted)
    stream = client.get(f"/gradio_api/call/{name}/{posted.json()['event_id']}").text
    if "event: complete" in stream:
        return ANSWERED
    message = stream.partition("event: error\ndata: ")[2].strip()
    return REFUSED if message and message != "null" else LOST


def refusal(response: httpx.Response) -> str:
    """REFUSED for a 4xx or a busy 503 with a JSON message, else LOST."""
    if response.status_code in HTTP_REFUSALS and response.headers.get("content-type", "").startswith("application/json"):
        return REFUSED if response.json().get("detail") else LOST
    return LOST


def uploaded(response: httpx.Response) -> str:
    """ANSWERED when the upload route (open for the Train tab) stored the file and named it, else as `refusal`."""
    if response.status_code == 200 and isinstance(response.json(), list):
        return ANSWERED
    return refusal(response)


def oversized(url: str) -> str:
    """A body declared 50 MiB, of which one chunk is sent: the app must answer 413 without reading the rest."""
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT_S, source_address=(FLOOD_ADDRESS, 0)) as sock:
        sock.sendall(f"POST /gradio_api/call/generate HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {DECLARED_BYTES}\r\n\r\n".encode() + b"x" * SENT_BYTES)
        status_line = sock.recv(SOCKET_READ_BYTES).split(b"\r\n", 1)[0]
    return REFUSED if b" 413 " in status_line else LOST


# The soak's calls, in turn: two valid, the rest refused at each layer (engine, routes, body, queue).
CALLS = {
    "/fill": lambda client, url: rest_call(client, "fill", list(FILL.values())),
    "/generate, 5 tokens": lambda client, url: rest_call(client, "generate",
                                                         list({**GENERATE, "max_tokens": 5}.values())),
    "/generate, 100,000-character prompt": lambda client, url: rest_call(
        client, "generate", list({**GENERATE, "prompt": TOO_LONG_PROMPT}.values())),
    "/generate, empty prompt": lambda client, url: rest_call(client, "generate",
                                                             list({**GENERATE, "prompt": " "}.values())),
    "private event /call/false": lambda client, url: refusal(client.post("/gradio_api/call/false", json={"data": []})),
    "deep_link": lambda client, url: refusal(client.get("/gradio_api/deep_link", params={"session_hash": "x"})),
    "dev/reload": lambda client, url: refusal(client.get("/gradio_api/dev/reload")),
    "upload, never used": lambda client, url: uploaded(client.post("/gradio_api/upload",
                                                                   files={"files": ("a.txt", b"text")})),
    "queue/join fn_index 999": lambda client, url: refusal(client.post(
        "/gradio_api/queue/join", json={"data": [], "fn_index": 999, "session_hash": "soak"})),
    "queue/data, unknown session": lambda client, url: refusal(client.get(
        "/gradio_api/queue/data", params={"session_hash": uuid.uuid4().hex})),
    "50 MiB body declared": lambda client, url: oversized(url),
}


def run_calls(url: str, count: int) -> Counter:
    """`count` calls of CALLS in turn from WORKERS threads; {(call, outcome): n}."""
    local = threading.local()
    kinds = list(CALLS)

    def one(number: int) -> tuple[str, str]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT_S,
                                        transport=httpx.HTTPTransport(local_address=FLOOD_ADDRESS))
        kind = kinds[number % len(kinds)]
        try:
            return kind, CALLS[kind](local.client, url)
        except (httpx.HTTPError, OSError) as error:
            return kind, f"{LOST}: {type(error).__name__}"

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return Counter(pool.map(one, range(count)))


def timed_fill(url: str) -> float:
    """Seconds of one normal request: a /fill through the REST API by a visitor with a session, its result read."""
    with httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT_S) as client:
        began = time.perf_counter()
        outcome = rest_call(client, "fill", list(FILL.values()), session=NORMAL_VISITOR)
        if outcome != ANSWERED:
            raise RuntimeError(f"a normal /fill was {outcome}")
        return time.perf_counter() - began


@contextmanager
def idle_connections(url: str, count: int):
    """`count` connections to the heartbeat route (the long-lived route the page keeps open), held idle."""
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    with ExitStack() as stack:
        for number in range(count):
            sock = stack.enter_context(socket.create_connection((host, int(port)), timeout=TIMEOUT_S,
                                                                source_address=(FLOOD_ADDRESS, 0)))
            sock.sendall(f"GET /gradio_api/heartbeat/idle-{number} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        yield


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def probe_while(url: str, running: threading.Event) -> list[float]:
    """Timed /fill calls, one every PROBE_PAUSE_S, while `running` is set."""
    seconds = []
    while running.is_set():
        seconds.append(timed_fill(url))
        time.sleep(PROBE_PAUSE_S)
    return seconds


def soak(app: AppProcess, *, calls: int, idle: int) -> tuple[Counter, float, float, int]:
    """The soak itself: idle connections held, then calls made too; a normal request timed in each phase.

    Returns:
        The calls' endings, the normal request's p50 with the idle connections alone and during the calls,
        and the app's resident memory just before the idle connections close.
    """
    running = threading.Event()
    running.set()
    with idle_connections(app.url, idle), ThreadPoolExecutor(max_workers=1) as prober:
        idle_only_s = statistics.median(timed_fill(app.url) for _ in range(IDLE_SAMPLES))
        probes = prober.submit(probe_while, app.url, running)
        try:
            outcomes = run_calls(app.url, calls)
        finally:
            running.clear()
        time.sleep(SETTLE_S)
        app.check_alive()
        return outcomes, idle_only_s, statistics.median(probes.result()), app.resident_bytes()


@contextmanager
def own_temp_folder():
    """A fresh Gradio temp folder for the spawned app (it reads GRADIO_TEMP_DIR when it starts)."""
    folder = Path(tempfile.mkdtemp(prefix="rnn-playground-soak-"))
    previous = os.environ.get("GRADIO_TEMP_DIR")
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop("GRADIO_TEMP_DIR")
        else:
            os.environ["GRADIO_TEMP_DIR"] = previous
        shutil.rmtree(folder, ignore_errors=True)


def measure(*, calls: int, idle: int, timeout_s: float) -> list[Row]:
    """The soak's rows, against its own `python app.py` (every model loaded first)."""
    from benchmarks import startup

    with own_temp_folder() as folder, AppProcess() as app:
        startup.wait_for_page(app, timeout_s=timeout_s)
        startup.load_every_model(app, timeout_s=timeout_s)
        idle_s = statistics.median(timed_fill(app.url) for _ in range(IDLE_SAMPLES))
        memory, temp = app.resident_bytes(), folder_bytes(folder)
        outcomes, idle_only_s, during_s, held = soak(app, calls=calls, idle=idle)
        time.sleep(SETTLE_S)  # the idle connections close
        return rows(calls, idle, outcomes, p50s={"idle": idle_s, f"{idle:,} idle connections held": idle_only_s,
                                                 "during the calls": during_s},
                    memory_growth=app.resident_bytes() - memory, held_growth=held - memory,
                    temp_growth=folder_bytes(folder) - temp)


def rows(calls: int, idle: int, outcomes: Counter, *, p50s: dict[str, float], memory_growth: int,
         held_growth: int, temp_growth: int) -> list[Row]:
    """The soak's rows: endings, memory, temp folder, a normal request's p50 idle, then in each phase."""
    name = f"soak: {calls:,} REST calls + {idle:,} idle connections"
    lost = sum(n for (_, outcome), n in outcomes.items() if outcome not in (ANSWERED, REFUSED))
    answered = sum(n for (_, outcome), n in outcomes.items() if outcome == ANSWERED)
    endings = "; ".join(f"{kind}: {outcome} {n}" for (kind, outcome), n in sorted(outcomes.items()))
    (_, idle_s), *phases = p50s.items()
    return [
        Row(name, f"{WORKERS} httpx clients, {len(CALLS)} kinds of call in turn", answered,
            f"of {calls:,} answered", budget="the rest refused with a message; none lost", met=lost == 0,
            note=endings),
        Row(name, "resident memory growth, app process tree (VmRSS), before → after (connections closed)",
            memory_growth / MB, "MB", budget=f"≤ {MAX_MEMORY_GROWTH_MB} MB",
            met=at_most(memory_growth / MB, MAX_MEMORY_GROWTH_MB)),
        Row(name, f"the same, read while the {idle:,} idle connections were still held", held_growth / MB, "MB"),
        Row(name, "Gradio temp folder growth, before → after", temp_growth / MB, "MB",
            budget=f"≤ {MAX_TEMP_GROWTH_BYTES / MB:g} MB", met=at_most(temp_growth, MAX_TEMP_GROWTH_BYTES)),
        Row(name, f"a normal /fill (REST), p50 idle, {IDLE_SAMPLES} calls", idle_s, "s"),
        *(Row(name, f"a normal /fill (REST), p50, {phase}", seconds, "s", budget=f"≤ {MAX_SLOWDOWN:g}{TIMES} idle",
              met=at_most(seconds / idle_s, MAX_SLOWDOWN), ratio=seconds / idle_s) for phase, seconds in phases),
    ]
