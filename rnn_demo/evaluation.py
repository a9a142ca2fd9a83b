"""Held-out metrics: bits per character of a language model over a text."""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from .tokenizer import BOS_ID, Tokenizer

EVAL_CHUNK_TOKENS = 512


def _log_likelihood_fn(model):
    @tf.function(reduce_retracing=True)
    def chunk_log_likelihood(inputs, targets, states):
        logits, states = model(inputs, states=states, return_state=True)  # (1, time, vocab)
        log_probs = tf.nn.log_softmax(logits, axis=-1)
        picked = tf.gather(log_probs[0], targets[0], batch_dims=1)  # (time,)
        return tf.reduce_sum(picked), states
    return chunk_log_likelihood


def text_bits(model, tokenizer: Tokenizer, text: str, chunk_fn=None) -> tuple[float, int]:
    """−Σ log2 p(token) over `text` (conditioned on BOS), with the state carried throughout.

    Returns:
        (total bits, number of tokens).
    """
    ids = np.asarray([BOS_ID] + tokenizer.encode(text), dtype=np.int32)
    chunk_fn = chunk_fn or _log_likelihood_fn(model)
    states = [[tf.constant(s) for s in layer] for layer in model.initial_state(1)]
    total_nats = 0.0
    for start in range(0, len(ids) - 1, EVAL_CHUNK_TOKENS):
        stop = min(start + EVAL_CHUNK_TOKENS, len(ids) - 1)
        inputs = tf.constant(ids[None, start:stop])
        targets = tf.constant(ids[None, start + 1:stop + 1])
        log_likelihood, states = chunk_fn(inputs, targets, states)
        total_nats -= float(log_likelihood)
    return total_nats / math.log(2), len(ids) - 1


def bits_per_char(model, tokenizer: Tokenizer, texts) -> dict:
    """Bits per character over several texts, each evaluated from a fresh state."""
    chunk_fn = _log_likelihood_fn(model)
    bits = chars = tokens = 0
    for text in texts:
        text_bits_, text_tokens = text_bits(model, tokenizer, text, chunk_fn)
        bits += text_bits_
        tokens += text_tokens
        chars += len(text)
    if chars == 0:
        raise ValueError("no text to evaluate")
    return {"bits_per_char": bits / chars, "chars": chars, "tokens": tokens,
            "bits_per_token": bits / max(tokens, 1)}
