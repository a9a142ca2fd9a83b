"""Generation speed at batch 1: the served fast path against a TensorFlow-tutorial-style loop.

Both run one after the other in one process on the same weights, so their ratio holds on a
noisy shared machine. The fast path is the whole served path (NumPy step, sampling and
detokenising); the tutorial loop is the text-generation tutorial's `OneStep`, one
`tf.function` call per token, which leaves sampling inside the graph and does not detokenise.
"""
from __future__ import annotations

import statistics
import time

from benchmarks.report import Row, at_least, at_most

MIN_TOKENS_PER_S = 2_000
MIN_SPEEDUP = 5.0  # over the tutorial loop
MAX_FIRST_TOKEN_MS = 100.0
PROMPT = "ROMEO:\n"
TEMPERATURE = 0.8
SEED = 1
MEASURE = "generation, batch 1"


def tutorial_tokens_per_second(model, prompt_ids: list[int], new_tokens: int) -> float:
    """The text-generation tutorial's `OneStep`: one `tf.function` call per generated token."""
    import tensorflow as tf

    @tf.function
    def one_step(inputs, states):
        logits, states = model(inputs, states=states, return_state=True)
        logits = logits[:, -1, :] / TEMPERATURE  # (1, vocab)
        return tf.random.categorical(logits, num_samples=1, dtype=tf.int32), states

    states = [[tf.constant(s) for s in layer] for layer in model.initial_state(1)]
    token, states = one_step(tf.constant([prompt_ids], dtype=tf.int32), states)  # the prompt (and tracing)
    started = time.perf_counter()
    for _ in range(new_tokens):
        token, states = one_step(token, states)
    return new_tokens / (time.perf_counter() - started)


def fast_path(engine, request) -> tuple[float, float]:
    """(tokens/s of the whole served path, milliseconds to the first streamed chunk)."""
    started = time.perf_counter()
    first_ms, tokens = None, 0
    for chunk in engine.stream(request):
        if first_ms is None:
            first_ms = 1000 * (time.perf_counter() - started)
        tokens = chunk.tokens
    return tokens / (time.perf_counter() - started), first_ms


def measure(engine, *, model: str, tokens: int, repeats: int) -> list[Row]:
    """Medians over `repeats` runs of `tokens` new tokens each: tutorial loop, fast path, first chunk."""
    from rnn_demo.engines import GenerationRequest
    from rnn_demo.tokenizer import BOS_ID

    loaded = engine.language_model(model)
    request = GenerationRequest(prompt=PROMPT, model=model, max_tokens=tokens, temperature=TEMPERATURE, seed=SEED)
    prompt_ids = [BOS_ID] + engine.tokenizer.encode(PROMPT)
    tutorial = statistics.median(tutorial_tokens_per_second(loaded.model, prompt_ids, tokens)
                                 for _ in range(repeats))
    runs = [fast_path(engine, request) for _ in range(repeats)]
    fast = statistics.median(speed for speed, _ in runs)
    first_ms = statistics.median(first for _, first in runs)
    return [
        Row(MEASURE, f"tutorial-style loop, one tf.function call per token ({model})", tutorial, "tokens/s",
            ratio=1.0),
        Row(MEASURE, f"fast NumPy step, served path with sampling and detokenising ({model})", fast, "tokens/s",
            budget=f"≥ {MIN_TOKENS_PER_S:,} tokens/s", met=at_least(fast, MIN_TOKENS_PER_S), ratio=fast / tutorial),
        Row(MEASURE, "speed-up: fast path ÷ tutorial loop, same weights, same run", fast / tutorial, "×",
            budget=f"≥ {MIN_SPEEDUP:g}×", met=at_least(fast / tutorial, MIN_SPEEDUP)),
        Row("first streamed token", f"engine.stream, prompt {PROMPT!r} ({model})", first_ms, "ms",
            budget=f"≤ {MAX_FIRST_TOKEN_MS:g} ms", met=at_most(first_ms, MAX_FIRST_TOKEN_MS)),
    ]

