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


BLANK_EVAL_PER_SOURCE = 400  # held-out gaps scored per source (beam search is ~30 ms a gap)
BLANK_EVAL_BEAM = 8


def rank_fillers(fast, tokenizer: Tokenizer, config, left: str, right: str, *, top_k: int,
                 beam_width: int = BLANK_EVAL_BEAM) -> list[str]:
    """The model's top-k fillers of one gap, beam hypotheses merged by surface text."""
    from .datasets import blank_example
    from .decoding import merge_candidates, seq2seq_beam_search
    from .tokenizer import EOS_ID

    source, _ = blank_example(tokenizer, left, right, None, max_source_tokens=config.max_source_tokens,
                              max_target_tokens=config.max_target_tokens)
    hypotheses, _ = seq2seq_beam_search(fast, source, start_id=BOS_ID, end_id=EOS_ID, beam_width=beam_width,
                                        max_new_tokens=config.max_target_tokens, deadline_s=10.0,
                                        length_penalty=0.0)
    candidates, _ = merge_candidates([(tokenizer.decode(h.tokens), h.log_prob) for h in hypotheses if h.finished],
                                     top_k)
    return [text for text, _ in candidates]


def _hits(ranked: list[str], answer: str) -> tuple[bool, bool]:
    folded = [text.casefold() for text in ranked]
    return bool(folded) and folded[0] == answer.casefold(), answer.casefold() in folded[:5]


def blank_metrics(fast, tokenizer: Tokenizer, config, *, per_source: int | None = None) -> dict:
    """Top-1 and top-5 accuracy on held-out gaps, beside a most-frequent-filler baseline on the same gaps."""
    from . import blanks

    per_source = per_source or BLANK_EVAL_PER_SOURCE
    baseline = blanks.most_frequent_filler_baseline(blanks.blanks("train"))
    results = {"model": {}, "baseline": {}}
    for source in ("facts", "chat", "plays"):
        held_out = blanks.blanks_of(source, "validation")
        held_out = held_out[::max(1, len(held_out) // per_source)][:per_source]
        scores = {"model": [0, 0], "baseline": [0, 0]}
        for blank in held_out:
            for name, ranked in (("model", rank_fillers(fast, tokenizer, config, blank.left, blank.right, top_k=5)),
                                 ("baseline", baseline(blank.left, blank.right))):
                top1, top5 = _hits(ranked, blank.answer)
                scores[name][0] += top1
                scores[name][1] += top5
        for name, (top1, top5) in scores.items():
            results[name][source] = {"top1": top1 / max(len(held_out), 1), "top5": top5 / max(len(held_out), 1),
                                     "gaps": len(held_out)}

    def overall(name, key):
        parts = results[name].values()
        return sum(p[key] * p["gaps"] for p in parts) / max(sum(p["gaps"] for p in parts), 1)
    return {"top1_accuracy": overall("model", "top1"), "top5_accuracy": overall("model", "top5"),
            "baseline_top1_accuracy": overall("baseline", "top1"),
            "baseline_top5_accuracy": overall("baseline", "top5"), "by_source": results}
