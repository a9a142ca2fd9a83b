"""Many users at once: threads, each with its own `gradio_client.Client`, call the running app together.

Each request ends one of five ways: answered; refused as busy (the queue is full, or the app
says it is busy); a clear error from the app (such as a model that cannot load); lost (a
connection failure, or an error with no message); hung (no end within the timeout). The
budget: every request answered or refused, none lost or hung.

Two rounds: every user asks `/generate` at the same moment, then a mix of `/generate`,
`/chat` and `/fill`. Generated tokens are counted by re-encoding each continuation with the
shared tokenizer, which can give fewer tokens than were sampled: the throughput is a lower bound.
"""
from __future__ import annotations

import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from benchmarks.app_process import GENERATE, REPO, REQUESTS
from benchmarks.report import Row

ANSWERED, BUSY, ERROR, LOST, HUNG = "answered", "busy", "error", "lost", "hung"
BUSY_MESSAGE = re.compile(r"busy|queue is full|too many", re.IGNORECASE)
NO_MESSAGE = "has not enabled verbose error reporting"  # gradio_client's text for an error without one
MESSAGE_CHARS = 80  # of each distinct error, in the table's note
ROUNDS = {"all /generate": ("/generate",), "mixed /generate, /chat, /fill": ("/generate", "/chat", "/fill")}


@dataclass
class Outcome:
    """How one user's request ended."""

    api_name: str
    kind: str  # ANSWERED, BUSY, ERROR, LOST or HUNG
    seconds: float  # from the common start to the end (or to the timeout)
    tokens: int = 0  # generated tokens, for an answered /generate
    message: str = ""


def _classify(error: Exception) -> tuple[str, str]:
    """(kind, message) of a failed request."""
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError

    message = str(error)
    if isinstance(error, QueueError) or BUSY_MESSAGE.search(message):
        return BUSY, message
    if isinstance(error, AppError) and message and NO_MESSAGE not in message:
        return ERROR, message
    return LOST, f"{type(error).__name__}: {message}"


def user_request(client, api_name: str, arguments: dict, start: threading.Barrier, *, timeout_s: float,
                 count_tokens) -> Outcome:
    """Waits for every user, submits one request, and waits for its end."""
    start.wait()
    began = time.perf_counter()
    job = client.submit(**arguments, api_name=api_name)
    try:
        result = job.result(timeout=timeout_s)
    except TimeoutError:
        job.cancel()
        return Outcome(api_name, HUNG, time.perf_counter() - began)
    except Exception as error:  # noqa: BLE001 -- every way a request can fail is counted, none hidden
        kind, message = _classify(error)
        return Outcome(api_name, kind, time.perf_counter() - began, message=message)
    tokens = count_tokens(result[0][len(arguments["prompt"]):]) if api_name == "/generate" else 0
    return Outcome(api_name, ANSWERED, time.perf_counter() - began, tokens)


def _arguments(api_name: str, user: int, tokens: int) -> dict:
    """The request of user number `user`: each /generate has its own seed."""
    if api_name == "/generate":
        return {**GENERATE, "max_tokens": tokens, "seed": user}
    return REQUESTS[api_name]


def run_round(clients: list, api_names: tuple[str, ...], *, tokens: int, timeout_s: float,
              count_tokens) -> tuple[list[Outcome], float]:
    """Every client submits at once (user i asks api_names[i % len]); returns outcomes and wall seconds."""
    start = threading.Barrier(len(clients))
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        futures = [pool.submit(user_request, client, api_names[i % len(api_names)],
                               _arguments(api_names[i % len(api_names)], i, tokens), start,
                               timeout_s=timeout_s, count_tokens=count_tokens)
                   for i, client in enumerate(clients)]
        outcomes = [future.result() for future in futures]
    return outcomes, max(outcome.seconds for outcome in outcomes)


def _shorten(message: str) -> str:
    return message if len(message) <= MESSAGE_CHARS else message[:MESSAGE_CHARS - 1] + "…"


def _summary(outcomes: list[Outcome]) -> str:
    """Counts of each ending, latency p50 / max, and the distinct error messages."""
    counts = {kind: sum(o.kind == kind for o in outcomes) for kind in (BUSY, ERROR, LOST, HUNG)}
    seconds = [o.seconds for o in outcomes]
    text = ", ".join(f"{count} {kind}" for kind, count in counts.items())
    text += f"; latency p50 {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s"
    messages = sorted({f"{o.api_name}: {_shorten(o.message)}" for o in outcomes if o.message})
    return text + ("; " + "; ".join(messages) if messages else "")


def round_rows(name: str, outcomes: list[Outcome], wall_s: float, *, tokens: int) -> list[Row]:
    """The round's endings row, and its aggregate throughput row when it generated anything."""
    users = len(outcomes)
    answered = sum(o.kind == ANSWERED for o in outcomes)
    safe = not any(o.kind in (LOST, HUNG) for o in outcomes)
    rows = [Row(f"{users} users at once: {name}", f"{users} threads × gradio_client.Client, submitted together "
                f"({tokens} tokens a /generate)", answered, f"of {users} answered",
                budget="each answered or refused as busy; none lost or hung", met=safe, note=_summary(outcomes))]
    generated = sum(o.tokens for o in outcomes)
    if generated:
        rows.append(Row(f"{users} users at once: {name}", "aggregate generated tokens ÷ round wall time "
                        "(re-encoded, a lower bound)", generated / wall_s, "tokens/s"))
    return rows


def measure(url: str, *, users: int, tokens: int, timeout_s: float) -> list[Row]:
    """Both rounds against the app at `url`."""
    from gradio_client import Client

    from rnn_demo.tokenizer import Tokenizer

    tokenizer = Tokenizer(REPO / "assets" / "tokenizer.model")
    clients = [Client(url, verbose=False) for _ in range(users)]
    rows = []
    for name, api_names in ROUNDS.items():
        outcomes, wall_s = run_round(clients, api_names, tokens=tokens, timeout_s=timeout_s,
                                     count_tokens=lambda text: len(tokenizer.encode(text)))
        rows += round_rows(name, outcomes, wall_s, tokens=tokens)
    return rows


BATCHING = "simultaneous streams, engine"
MIN_BATCHED_RATIO = 3.0  # 16 users' aggregate ÷ one stream alone


def _timed_stream(engine, request) -> tuple[int, float]:
    """(tokens, seconds) of one `engine.stream` read to its end."""
    started = time.perf_counter()
    tokens = 0
    for chunk in engine.stream(request):
        tokens = chunk.tokens
    return tokens, time.perf_counter() - started


def _streams_at_once(engine, requests: list) -> tuple[int, float, list[float]]:
    """Every request streamed by its own thread, released together: (tokens in all, seconds from the release to
    the last stream's end, each one's seconds). The threads are started before and joined after the clock."""
    start = threading.Barrier(len(requests) + 1)
    ends = []

    def one(request):
        start.wait()
        result = _timed_stream(engine, request)
        ends.append(time.perf_counter())
        return result

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [pool.submit(one, request) for request in requests]
        start.wait()
        released = time.perf_counter()
        results = [future.result() for future in futures]
    return sum(tokens for tokens, _ in results), max(ends) - released, [seconds for _, seconds in results]


def batched_decoding(engine, *, model: str, users: int, tokens: int, repeats: int) -> list[Row]:
    """One stream alone against `users` streams at once, batched (`serving.batching`) and each on its own
    (the compiled sampler per stream, as before batching), in one process, one after the other."""
    from rnn_demo.serving import GenerationRequest

    loaded = engine.language_model(model)
    requests = [GenerationRequest(prompt="ROMEO:\n", model=model, max_tokens=tokens, seed=user)
                for user in range(users)]
    decoder = loaded.decoder
    labels = {True: "batched: one decoder thread, one step for all", False: "each on its own (before batching)"}
    # Untimed first: the first stream of a process starts the decoder thread and its threads' team, and the
    # first batch compiles nothing but touches every buffer (the one stream alone was half as fast in it).
    _timed_stream(engine, requests[0])
    _streams_at_once(engine, requests)
    alone_runs, runs = [], {True: [], False: []}
    for _ in range(repeats):  # alternated, so that a slower spell of a shared machine falls on every method
        alone_runs.append(_timed_stream(engine, requests[0]))
        for batched in runs:
            loaded.decoder = decoder if batched else None
            runs[batched].append(_streams_at_once(engine, requests))
        loaded.decoder = decoder
    alone = statistics.median(n / seconds for n, seconds in alone_runs)
    rows = []
    for batched, label in labels.items():
        aggregate = statistics.median(n / wall for n, wall, _ in runs[batched])
        p50 = statistics.median(statistics.median(seconds) for _, _, seconds in runs[batched])
        ratio = aggregate / alone
        rows += [Row(BATCHING, f"{users} streams at once, {label}: aggregate ({model})", aggregate, "tokens/s",
                     budget=f"≥ {MIN_BATCHED_RATIO:g}× one stream alone" if batched else "",
                     met=ratio >= MIN_BATCHED_RATIO if batched else None, ratio=ratio),
                 Row(BATCHING, f"{users} streams at once, {label}: p50 latency of a {tokens}-token request",
                     1000 * p50, "ms")]
    loaded.decoder = decoder
    served = "batched decoder, a batch of one" if decoder is not None else "NumPy step"
    return [Row(BATCHING, f"one stream alone, {tokens} tokens ({served}, {model})", alone, "tokens/s", ratio=1.0),
            *rows]
