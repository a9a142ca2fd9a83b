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


def seq2seq_loss(model, dataset) -> float:
    """Mean cross-entropy (nats) per target token over a `seq2seq_batches` dataset, pads ignored."""
    total = count = 0.0
    for (source, target_in), target_out in dataset:
        logits = model((source, target_in))
        losses = tf.keras.losses.sparse_categorical_crossentropy(target_out, logits, from_logits=True)
        mask = tf.cast(target_out != 0, losses.dtype)
        total += float(tf.reduce_sum(losses * mask))
        count += float(tf.reduce_sum(mask))
    return total / max(count, 1.0)


def chatbot_metrics(fast, tokenizer: Tokenizer, config, *, max_questions: int | None = None) -> dict:
    """Answer accuracy on held-out capital phrasings, distinct replies, and greeting replies (greedy).

    Args:
        fast: a `NumpySeq2Seq`.
        tokenizer: the shared tokenizer.
        config: the model's `Seq2SeqConfig`.
        max_questions: evaluate only this many capital questions (quick runs).
    """
    from . import dialogues
    from .config import PERSONA_MODERN

    def reply(message: str) -> str:
        return greedy_reply(fast, tokenizer, config, PERSONA_MODERN, [message])

    questions = dialogues.heldout_capital_questions()[:max_questions]
    correct = sum(dialogues.capital_answer_is_correct(reply(question), fact) for question, fact in questions)
    messages = [exchange.context[-1] for exchange in dialogues.chat_exchanges("validation")][:max_questions]
    replies = [reply(message) for message in messages]
    return {
        "heldout_capital_accuracy": correct / max(len(questions), 1),
        "heldout_capital_questions": len(questions),
        "distinct_reply_ratio": len(set(replies)) / max(len(replies), 1),
        "distinct_reply_messages": len(replies),
        "greetings": {greeting: reply(greeting) for greeting in GREETINGS},
    }


GREETINGS = ("Hello", "Hi, how are you?", "Good morning!", "Hey there")


def greedy_reply(fast, tokenizer: Tokenizer, config, persona_tag: str, context) -> str:
    """The greedy reply of a seq2seq model to `context` (a list of turns)."""
    from .datasets import seq2seq_example
    from .decoding import seq2seq_beam_search
    from .tokenizer import EOS_ID

    source, _ = seq2seq_example(tokenizer, persona_tag, context, None, max_source_tokens=config.max_source_tokens,
                                max_target_tokens=config.max_target_tokens)
    hypotheses, _ = seq2seq_beam_search(fast, source, start_id=BOS_ID, end_id=EOS_ID, beam_width=1,
                                        max_new_tokens=config.max_target_tokens, deadline_s=10.0)
    return tokenizer.decode(hypotheses[0].tokens) if hypotheses else ""
