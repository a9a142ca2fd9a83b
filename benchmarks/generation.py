"""Generation speed at batch 1: the served fast path against TensorFlow-tutorial-style loops.

All run one after the other in one process on the same weights, so their ratios hold on a
noisy shared machine. The fast path is the whole served path (the compiled sampler on both
cores, as a batch of one in the batched decoder, and detokenising); it is also timed on one
core and with the NumPy step that serves top-k, top-p and the repetition penalty. Two tutorial-style loops make one `tf.function` call per token:
- the text-generation tutorial's `OneStep` as published, ported from characters to our word
  pieces: it takes the previous piece as a string, looks its id up in the graph
  (`StringLookup`), masks `[UNK]`, samples, and returns the new piece as a string, which the
  loop collects; this is the baseline the speed-up budget is measured against;
- a stripped loop that keeps ids on both sides (no lookups, no mask, no text): the least a
  per-token `tf.function` loop can do, shown for comparison.
"""
from __future__ import annotations

import statistics
import time

from benchmarks.report import Row, at_least, at_most
from rnn_demo.serving import GenerationRequest
from rnn_demo.serving.engine import CORES

MIN_TOKENS_PER_S = 2_000
MIN_SPEEDUP = 5.0  # over the tutorial loop
MAX_FIRST_TOKEN_MS = 100.0
PROMPT = "ROMEO:\n"
TEMPERATURE = GenerationRequest.temperature  # the served default, for every method alike
SEED = 1
MEASURE = "generation, batch 1"


def tutorial_tokens_per_second(model, tokenizer, prompt_ids: list[int], new_tokens: int) -> float:
    """The text-generation tutorial's `OneStep` and loop, with word pieces for characters."""
    import tensorflow as tf

    from rnn_demo.tokenizer import UNK_ID

    pieces = [tokenizer.piece(index) for index in range(tokenizer.vocab_size)]
    # The tutorial's lookups: piece → id and id → piece, in the graph. Index 0 is <pad> here,
    # and ids must equal the model's, so the layer gets the vocabulary with no OOV slot of its own.
    ids_from_pieces = tf.keras.layers.StringLookup(vocabulary=pieces[1:], mask_token=pieces[0], num_oov_indices=0)
    pieces_from_ids = tf.keras.layers.StringLookup(vocabulary=pieces[1:], mask_token=pieces[0], num_oov_indices=0,
                                                   invert=True)
    prediction_mask = tf.tensor_scatter_nd_update(tf.zeros([len(pieces)]), [[UNK_ID]], [-float("inf")])

    @tf.function
    def generate_one_step(inputs, states):
        input_ids = ids_from_pieces(inputs)[:, None]  # (1, 1)
        logits, states = model(input_ids, states=states, return_state=True)
        logits = logits[:, -1, :] / TEMPERATURE + prediction_mask
        predicted_ids = tf.squeeze(tf.random.categorical(logits, num_samples=1), axis=-1)
        return pieces_from_ids(predicted_ids), states

    states = [[tf.constant(s) for s in layer] for layer in model.initial_state(1)]
    # The prompt but its last piece sets the state; the loop starts from that piece, as a string.
    _, states = model(tf.constant([prompt_ids[:-1]], dtype=tf.int32), states=states, return_state=True)
    next_piece = tf.constant([pieces[prompt_ids[-1]]])
    next_piece, states = generate_one_step(next_piece, states)  # tracing
    result = [next_piece]
    started = time.perf_counter()
    for _ in range(new_tokens):
        next_piece, states = generate_one_step(next_piece, states)
        result.append(next_piece)
    seconds = time.perf_counter() - started
    assert len(result) == new_tokens + 1
    return new_tokens / seconds


def stripped_tokens_per_second(model, prompt_ids: list[int], new_tokens: int) -> float:
    """One `tf.function` call per generated token, ids in and out: no lookups, mask or text."""
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
    """Medians over `repeats` runs of `tokens` new tokens each: tutorial loops, served paths, first chunk."""
    from rnn_demo.tokenizer import BOS_ID

    loaded = engine.language_model(model)
    request = GenerationRequest(prompt=PROMPT, model=model, max_tokens=tokens, temperature=TEMPERATURE, seed=SEED)
    prompt_ids = [BOS_ID] + engine.tokenizer.encode(PROMPT)
    tutorial = statistics.median(tutorial_tokens_per_second(loaded.model, engine.tokenizer, prompt_ids, tokens)
                                 for _ in range(repeats))
    stripped = statistics.median(stripped_tokens_per_second(loaded.model, prompt_ids, tokens)
                                 for _ in range(repeats))
    runs = [fast_path(engine, request) for _ in range(repeats)]
    numpy_model = statistics.median(speed for speed, _ in runs)
    first_ms = statistics.median(first for _, first in runs)
    one_core = numpy_step = None
    compiled = loaded.sampler
    if compiled is not None:
        decoder = loaded.decoder
        decoder.threads = 1
        one_core = statistics.median(fast_path(engine, request)[0] for _ in range(repeats))
        decoder.threads = CORES
        loaded.sampler = loaded.decoder = None
        numpy_step = statistics.median(fast_path(engine, request)[0] for _ in range(repeats))
        loaded.sampler, loaded.decoder = compiled, decoder
    served = ("compiled sampler (Numba) in the batched decoder, a batch of one on both cores, with detokenising"
              if compiled is not None else "NumPy step (Numba not available), with sampling and detokenising")
    return [
        Row(MEASURE, f"tutorial's OneStep loop as published, word pieces for characters ({model})", tutorial,
            "tokens/s", ratio=1.0),
        Row(MEASURE, f"stripped tf.function loop, ids in and out, no lookups or mask ({model})", stripped,
            "tokens/s", ratio=stripped / tutorial),
        Row(MEASURE, f"served path: {served} ({model})", numpy_model, "tokens/s",
            budget=f"≥ {MIN_TOKENS_PER_S:,} tokens/s", met=at_least(numpy_model, MIN_TOKENS_PER_S), ratio=numpy_model / tutorial),
        *([] if compiled is None else [
            Row(MEASURE, f"the same on one core ({model})", one_core, "tokens/s",
                ratio=one_core / tutorial),
            Row(MEASURE, f"NumPy step, one token at a time: serves top-k, top-p, repetition penalty ({model})",
                numpy_step, "tokens/s", ratio=numpy_step / tutorial)]),
        Row(MEASURE, "speed-up: served path ÷ tutorial OneStep loop, same weights, same run", numpy_model / tutorial, "×",
            budget=f"≥ {MIN_SPEEDUP:g}×", met=at_least(numpy_model / tutorial, MIN_SPEEDUP)),
        Row(MEASURE, "speed-up: served path ÷ stripped tf.function loop", numpy_model / stripped, "×"),
        Row("first streamed token", f"engine.stream, prompt {PROMPT!r} ({model})", first_ms, "ms",
            budget=f"≤ {MAX_FIRST_TOKEN_MS:g} ms", met=at_most(first_ms, MAX_FIRST_TOKEN_MS)),
    ]

