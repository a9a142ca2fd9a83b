"""Chat and fill-the-blank latency: medians over held-out inputs, through the engine's plain calls."""
from __future__ import annotations

import statistics
import time

from benchmarks.report import Row, at_most
from rnn_demo.models import registry
from rnn_demo.serving import ChatRequest, FillRequest

MAX_CHAT_P50_MS = 300.0
MAX_FILL_P50_MS = 150.0
CHAT_BEAM_WIDTH = ChatRequest.beam_width  # the served defaults
FILL_TOP_K = FillRequest.top_k
CAPITAL_QUESTION_STRIDE = 37  # spread the inputs over the held-out sets instead of taking their first rows
CHAT_MESSAGE_STRIDE = 7
FACT_GAP_STRIDE = 29
CHAT_GAP_STRIDE = 11


def p50_ms(call, inputs: list) -> float:
    """Median wall-clock milliseconds of `call(x)` over `inputs` (after one warm-up call)."""
    call(inputs[0])
    times = []
    for item in inputs:
        started = time.perf_counter()
        call(item)
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def chat_messages(count: int) -> list[str]:
    """`count` held-out capital questions and `count` held-out chat messages."""
    from rnn_demo.data import dialogues

    questions = [question for question, _ in dialogues.heldout_capital_questions()[::CAPITAL_QUESTION_STRIDE]]
    messages = [exchange.context[-1] for exchange in dialogues.chat_exchanges("validation")[::CHAT_MESSAGE_STRIDE]]
    return questions[:count] + messages[:count]


def gap_sentences(count: int) -> list[str]:
    """`count` held-out fact gaps and `count` held-out chat gaps, written with `___`."""
    from rnn_demo.data import fill_sentences

    facts = fill_sentences.examples_of("facts", "validation")[::FACT_GAP_STRIDE][:count]
    chat = fill_sentences.examples_of("chat", "validation")[::CHAT_GAP_STRIDE][:count]
    return [blank.left + "___" + blank.right for blank in (*facts, *chat)]


def _not_measured(measure: str, method: str, unit: str, budget: str, error: Exception) -> Row:
    return Row(measure, method, None, unit, budget=budget, note=f"not measured: {error}")


def _p50_row(measure: str, method: str, max_ms: float, load, call, inputs: list[str], what: str) -> Row:
    """p50 of `call` over `inputs` once `load()` has loaded its model (or why it was not measured)."""
    from rnn_demo.checkpoints import CheckpointError

    budget = f"p50 ≤ {max_ms:g} ms"
    try:
        load()
    except CheckpointError as error:
        return _not_measured(measure, method, "ms", budget, error)
    value = p50_ms(call, inputs)
    return Row(measure, f"{method}, p50 of {len(inputs)} {what}", value, "ms", budget=budget,
               met=at_most(value, max_ms))


def chat_row(engine, *, count: int) -> Row:
    """p50 of a complete chat reply by beam search (a reply is at most the decoder's 32 tokens)."""
    def chat(message: str) -> None:
        for _ in engine.chat(ChatRequest(message=message, decoding="beam", beam_width=CHAT_BEAM_WIDTH)):
            pass

    return _p50_row("chat reply", f"engine.chat, beam {CHAT_BEAM_WIDTH}", MAX_CHAT_P50_MS,
                    lambda: engine.model(registry.CHAT_MODEL), chat, chat_messages(count), "held-out messages")


def fill_row(engine, *, count: int) -> Row:
    """p50 of a fill of one gap, top `FILL_TOP_K`."""
    def fill(sentence: str) -> None:
        engine.fill(FillRequest(sentence, FILL_TOP_K))

    return _p50_row("fill the blank", f"engine.fill, top {FILL_TOP_K}", MAX_FILL_P50_MS,
                    lambda: engine.model(registry.FILL_MODEL), fill, gap_sentences(count), "held-out gaps")


def measure(engine, *, count: int) -> list[Row]:
    """Chat and fill rows; `count` inputs of each kind (so 2 × `count` per row)."""
    return [chat_row(engine, count=count), fill_row(engine, count=count)]
