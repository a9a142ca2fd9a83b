"""Held-out metrics: bits per character, seq2seq loss, and the chatbot's and the fill model's scores."""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from .tokenizer import BOS_ID, Tokenizer

EVAL_CHUNK_TOKENS = 512
# Wall-clock bound of one reply or one gap's beam search: far above what either takes (~30 ms a gap).
DECODING_DEADLINE_S = 10.0


def _log_likelihood_fn(model, *, per_token: bool = False):
    """A compiled function: (inputs, targets, states) of one chunk -> (Σ log p(target), states after it);
    with `per_token`, each target's log p (time,) instead of their sum."""
    @tf.function(reduce_retracing=True)
    def chunk_log_likelihood(inputs, targets, states):
        logits, states = model(inputs, states=states, return_state=True)  # (1, time, vocab)
        log_probs = tf.nn.log_softmax(logits, axis=-1)
        picked = tf.gather(log_probs[0], targets[0], batch_dims=1)  # (time,)
        return (picked if per_token else tf.reduce_sum(picked)), states
    return chunk_log_likelihood


def _scored_chunks(model, ids: np.ndarray, chunk_fn, chunk_tokens: int):
    """`chunk_fn`'s result for each chunk of `ids` (each token predicting the next), the state carried."""
    states = [[tf.constant(s) for s in layer] for layer in model.initial_state(1)]
    for start in range(0, len(ids) - 1, chunk_tokens):
        stop = min(start + chunk_tokens, len(ids) - 1)
        scored, states = chunk_fn(tf.constant(ids[None, start:stop]), tf.constant(ids[None, start + 1:stop + 1]),
                                  states)
        yield scored


def token_log_likelihoods(model, tokenizer: Tokenizer, text: str, *,
                          chunk_tokens: int = EVAL_CHUNK_TOKENS) -> tuple[np.ndarray, np.ndarray]:
    """(ids, natural log p of each token given those before it) over `text` (after BOS), the state carried
    throughout as in `text_bits`: len(ids) − 1 values, for mixing the model's probabilities with others'."""
    ids = np.asarray([BOS_ID] + tokenizer.encode(text), dtype=np.int32)
    chunks = _scored_chunks(model, ids, _log_likelihood_fn(model, per_token=True), chunk_tokens)
    return ids, np.concatenate([np.asarray(chunk, dtype=np.float64) for chunk in chunks])


def text_bits(model, tokenizer: Tokenizer, text: str, chunk_fn=None, *,
              chunk_tokens: int = EVAL_CHUNK_TOKENS) -> tuple[float, int]:
    """−Σ log2 p(token) over `text` (conditioned on BOS), with the state carried throughout.

    Args:
        model: a Keras language model.
        tokenizer: the shared tokenizer.
        text: the text, read as it is.
        chunk_fn: `_log_likelihood_fn(model)`, to share its compiled graph between texts (or any function
            of the same signature, such as `_dynamic_step_fn`'s).
        chunk_tokens: tokens scored by one call of `chunk_fn`.
    Returns:
        (total bits, number of tokens).
    """
    ids = np.asarray([BOS_ID] + tokenizer.encode(text), dtype=np.int32)
    chunks = _scored_chunks(model, ids, chunk_fn or _log_likelihood_fn(model), chunk_tokens)
    total_nats = -sum(float(log_likelihood) for log_likelihood in chunks)
    return total_nats / math.log(2), len(ids) - 1


def bits_per_char(model, tokenizer: Tokenizer, texts) -> dict:
    """Bits per character over several texts, each evaluated from a fresh state.

    Args:
        model: a Keras language model.
        tokenizer: the shared tokenizer.
        texts: the texts, read as they are.
    Returns:
        {"bits_per_char", "chars", "tokens", "bits_per_token"}.
    """
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


# Dynamic evaluation (Krause et al. 2018, "Dynamic Evaluation of Neural Sequence Models"): the model
# scores a stretch of text, then takes one gradient step on it before scoring the next, so that it
# adapts to the play it is reading (its names, its words). Plain SGD on every weight, the gradient's
# norm clipped; the weights go back to the checkpoint's before each text.
DYNAMIC_SEGMENT_TOKENS = 64
DYNAMIC_CLIPNORM = 1.0


def _dynamic_step_fn(model, learning_rate: float):
    """A compiled function: (inputs, targets, states) of one segment -> (Σ log p(target) under the weights
    before the step, states after it); it then moves the weights one SGD step down that segment's loss."""
    variables = model.trainable_variables

    @tf.function(reduce_retracing=True)
    def score_then_learn(inputs, targets, states):
        with tf.GradientTape() as tape:
            logits, states = model(inputs, states=states, return_state=True, training=False)
            picked = tf.gather(tf.nn.log_softmax(logits, axis=-1)[0], targets[0], batch_dims=1)
            loss = -tf.reduce_mean(picked)
        gradients, _ = tf.clip_by_global_norm(tape.gradient(loss, variables), DYNAMIC_CLIPNORM)
        for variable, gradient in zip(variables, gradients):
            variable.assign_sub(learning_rate * tf.convert_to_tensor(gradient))
        return tf.reduce_sum(picked), states
    return score_then_learn


def dynamic_bits_per_char(model, tokenizer: Tokenizer, texts, *, learning_rate: float,
                          segment_tokens: int = DYNAMIC_SEGMENT_TOKENS) -> dict:
    """Bits per character when the model learns from each text as it reads it (dynamic evaluation).

    Every token is scored before the model has taken a step on it, so the figure is an honest
    prediction of text not yet seen; each text starts from the checkpoint's weights and a fresh state.

    Args:
        model: a Keras language model (its weights are put back as they were before returning).
        tokenizer: the shared tokenizer.
        texts: the texts, read as they are.
        learning_rate: the SGD step size; 0 gives the static figure, segment by segment.
        segment_tokens: tokens scored between two steps.
    Returns:
        {"bits_per_char", "chars", "tokens", "bits_per_token", "learning_rate", "segment_tokens",
        "per_text": bits per character of each text}.
    """
    step = _dynamic_step_fn(model, learning_rate)
    original = [variable.numpy() for variable in model.trainable_variables]
    bits = chars = tokens = 0
    per_text = []
    for text in texts:
        try:
            text_bits_, text_tokens = text_bits(model, tokenizer, text, step, chunk_tokens=segment_tokens)
        finally:
            for variable, value in zip(model.trainable_variables, original):
                variable.assign(value)
        bits += text_bits_
        tokens += text_tokens
        chars += len(text)
        per_text.append(text_bits_ / max(len(text), 1))
    if chars == 0:
        raise ValueError("no text to evaluate")
    return {"bits_per_char": bits / chars, "chars": chars, "tokens": tokens, "bits_per_token": bits / max(tokens, 1),
            "learning_rate": learning_rate, "segment_tokens": segment_tokens, "per_text": per_text}


def seq2seq_loss(model, dataset) -> float:
    """Mean cross-entropy (nats) per target token over a `seq2seq_batches` dataset, pads ignored.

    Args:
        model: a Keras seq2seq model.
        dataset: batches of ((source, target in), target out).
    Returns:
        Nats per (non-pad) target token.
    """
    total = count = 0.0
    for (source, target_in), target_out in dataset:
        logits = model((source, target_in))
        losses = tf.keras.losses.sparse_categorical_crossentropy(target_out, logits, from_logits=True)
        mask = tf.cast(target_out != 0, losses.dtype)
        total += float(tf.reduce_sum(losses * mask))
        count += float(tf.reduce_sum(mask))
    return total / max(count, 1.0)


def chatbot_metrics(numpy_model, tokenizer: Tokenizer, config, *, max_questions: int | None = None) -> dict:
    """Held-out answer accuracy on capital phrasings and on small talk, distinct replies (greedy).

    Args:
        numpy_model: a `NumpySeq2Seq`.
        tokenizer: the shared tokenizer.
        config: the model's `Seq2SeqConfig`.
        max_questions: evaluate only this many questions of each kind (quick runs).
    Returns:
        The figures config.json records under "metrics", greedy replies to `dialogues.GREETINGS` among them.
    """
    from .data import dialogues
    from .config import PERSONA_MODERN, PERSONA_SHAKESPEARE

    def reply(message: str, persona: str = PERSONA_MODERN) -> str:
        return greedy_reply(numpy_model, tokenizer, config, persona, [message])

    questions = dialogues.heldout_capital_questions()[:max_questions]
    correct = sum(dialogues.capital_answer_is_correct(reply(question), fact) for question, fact in questions)
    lowercase = dialogues.heldout_capital_questions(lowercase=True)[:max_questions]
    correct_lowercase = sum(dialogues.capital_answer_is_correct(reply(question), fact) for question, fact in lowercase)
    messages = [exchange.context[-1] for exchange in dialogues.chat_exchanges("validation")][:max_questions]
    replies = [reply(message) for message in messages]
    smalltalk = dialogues.smalltalk_of("validation")[:max_questions]
    right_kind = {
        name: sum(dialogues.reply_kind_is_right(reply(talk.message, tag), talk.kind) for talk in smalltalk)
        / max(len(smalltalk), 1)
        for name, tag in (("modern", PERSONA_MODERN), ("shakespeare", PERSONA_SHAKESPEARE))
    }
    return {
        "heldout_capital_accuracy": correct / max(len(questions), 1),
        "heldout_capital_questions": len(questions),
        "heldout_lowercase_capital_accuracy": correct_lowercase / max(len(lowercase), 1),
        "distinct_reply_ratio": len(set(replies)) / max(len(replies), 1),
        "distinct_reply_messages": len(replies),
        "heldout_smalltalk_right_kind": right_kind,
        "heldout_smalltalk_messages": len(smalltalk),
        "greetings": {greeting: reply(greeting) for greeting in dialogues.GREETINGS},
        "greetings_shakespeare": {greeting: reply(greeting, PERSONA_SHAKESPEARE) for greeting in dialogues.GREETINGS},
    }


def greedy_reply(numpy_model, tokenizer: Tokenizer, config, persona_tag: str, context) -> str:
    """The greedy reply of a seq2seq model to `context` (a list of turns).

    Args:
        numpy_model: a `NumpySeq2Seq`.
        tokenizer: the shared tokenizer.
        config: the model's `Seq2SeqConfig`.
        persona_tag: the persona symbol the reply is asked in, e.g. `PERSONA_MODERN`.
        context: the conversation's turns, oldest first.
    Returns:
        The reply's text ("" if the search found none in time).
    """
    from .data.encoding import seq2seq_example
    from .decoding import seq2seq_beam_search
    from .tokenizer import EOS_ID

    source, _ = seq2seq_example(tokenizer, persona_tag, context, None, max_source_tokens=config.max_source_tokens,
                                max_target_tokens=config.max_target_tokens)
    hypotheses, _ = seq2seq_beam_search(numpy_model, source, start_id=BOS_ID, end_id=EOS_ID, beam_width=1,
                                        max_new_tokens=config.max_target_tokens, deadline_s=DECODING_DEADLINE_S)
    return tokenizer.decode(hypotheses[0].tokens) if hypotheses else ""


FILL_EVAL_PER_SOURCE = 400  # held-out gaps scored per source
FILL_EVAL_TOP_K = 5  # fillers ranked per gap: top-1 and top-5 accuracy are read from them


def rank_fillers(numpy_model, tokenizer: Tokenizer, config, left: str, right: str, *, top_k: int,
                 index=None) -> list[str]:
    """The top-k fillers of one gap as the app ranks them.

    Args:
        numpy_model: the fill model's `NumpyGapWords`.
        tokenizer: the shared tokenizer.
        config: the fill model's `GapWordsConfig`.
        left, right: the sentence before and after the gap.
        top_k: how many fillers to return.
        index: a `quotes.QuoteIndex` whose quotations are mixed in, as the app does; None: the model alone.
    Returns:
        The fillers, most probable first.
    """
    from .decoding import top_normalised
    from .serving import rank_fill

    quotations = index.find(left, right)[:top_k] if index is not None else []
    ranking = rank_fill(numpy_model, tokenizer, config, left, right, quotations=quotations)
    return [text for text, _ in top_normalised(ranking.probabilities, top_k)[0]]


def _hits(ranked: list[str], answer: str) -> tuple[bool, bool]:
    """(whether `answer` is first, whether it is among the first five), letter case ignored."""
    folded = [text.casefold() for text in ranked]
    return bool(folded) and folded[0] == answer.casefold(), answer.casefold() in folded[:5]


# Well-known lines of the training plays, as people quote them, with the word they leave out.
# They test memory of the training text (the held-out gaps test generalisation); the spelling
# is the edition's ("strain'd", "Brute"). Chosen before the memory of the plays was tried.
FAMOUS_LINES = (
    ("To be, or not to be, that is the ___.", "question"),
    ("A horse! a horse! my kingdom for a ___!", "horse"),
    ("Now is the winter of our ___ made glorious summer by this sun of York.", "discontent"),
    ("Friends, Romans, countrymen, lend me your ___.", "ears"),
    ("All the world's a ___, and all the men and women merely players.", "stage"),
    ("O Romeo, Romeo! wherefore art thou ___?", "Romeo"),
    ("If music be the food of ___, play on.", "love"),
    ("The lady doth protest too ___, methinks.", "much"),
    ("Out, damned ___! out, I say!", "spot"),
    ("The quality of mercy is not ___.", "strain'd"),
    ("Something is rotten in the state of ___.", "Denmark"),
    ("That which we call a ___ by any other name would smell as sweet.", "rose"),
    ("Double, double toil and ___; fire burn and cauldron bubble.", "trouble"),
    ("We are such stuff as dreams are made ___.", "on"),
    ("Et tu, ___? Then fall, Caesar!", "Brute"),
    ("Parting is such sweet ___.", "sorrow"),
)


def _scores_by_source(rankers: dict, per_source: int) -> dict:
    """{ranker: {source: {"top1", "top5", "gaps"}}} over `per_source` held-out gaps of each source, evenly spread."""
    from .data import fill_sentences

    results = {name: {} for name in rankers}
    for source in fill_sentences.SOURCES:
        held_out = fill_sentences.examples_of(source, "validation")
        held_out = held_out[::max(1, len(held_out) // per_source)][:per_source]
        for name, rank in rankers.items():
            hits = [_hits(rank(example.left, example.right), example.answer) for example in held_out]
            results[name][source] = {"top1": sum(h[0] for h in hits) / max(len(held_out), 1),
                                     "top5": sum(h[1] for h in hits) / max(len(held_out), 1), "gaps": len(held_out)}
    return results


def fill_metrics(numpy_model, tokenizer: Tokenizer, config, *, per_source: int | None = None, index=None) -> dict:
    """Top-1 and top-5 accuracy on held-out gaps, beside a most-frequent-filler baseline on the same gaps.

    Args:
        numpy_model: the fill model's `NumpyGapWords`.
        tokenizer: the shared tokenizer.
        config: the fill model's `GapWordsConfig`.
        per_source: held-out gaps scored per source (default `FILL_EVAL_PER_SOURCE`).
        index: a `quotes.QuoteIndex` of the training plays: the app's ranking, the memory mixed in, is
            scored too ("model_with_memory"), and both are tried on `FAMOUS_LINES`.
    Returns:
        The figures config.json records under "metrics".
    """
    from .data import fill_sentences

    per_source = per_source or FILL_EVAL_PER_SOURCE
    baseline = fill_sentences.most_frequent_filler_baseline(fill_sentences.examples("train"))
    rankers = {"model": lambda left, right: rank_fillers(numpy_model, tokenizer, config, left, right, top_k=FILL_EVAL_TOP_K),
               "baseline": baseline}
    if index is not None:
        rankers["model_with_memory"] = lambda left, right: rank_fillers(numpy_model, tokenizer, config, left, right,
                                                                        top_k=FILL_EVAL_TOP_K, index=index)
    results = _scores_by_source(rankers, per_source)

    def overall(name, key):
        parts = results[name].values()
        return sum(p[key] * p["gaps"] for p in parts) / max(sum(p["gaps"] for p in parts), 1)
    metrics = {"top1_accuracy": overall("model", "top1"), "top5_accuracy": overall("model", "top5"),
               "baseline_top1_accuracy": overall("baseline", "top1"),
               "baseline_top5_accuracy": overall("baseline", "top5"), "by_source": results}
    if index is not None:
        metrics["with_memory_top1_accuracy"] = overall("model_with_memory", "top1")
        metrics["with_memory_top5_accuracy"] = overall("model_with_memory", "top5")
        metrics["famous_lines"] = {
            name: sum(_hits(rankers[name](*fill_sentences.parse_gap(line)), answer)[0] for line, answer in FAMOUS_LINES)
            / len(FAMOUS_LINES) for name in ("model", "model_with_memory")}
        metrics["famous_lines_count"] = len(FAMOUS_LINES)
    return metrics


# --- everyday input: the fixed held-out sets of data/heldout (issue 13) ------------------

CALIBRATION_BINS = 10
EVERYDAY_CHAT_BEAM = 4  # as the page's default decoding
EVERYDAY_FILL_TOP_K = 5


def expected_calibration_error(confidences, hits, bins: int = CALIBRATION_BINS) -> float:
    """Σ over equal-width confidence bins of (share of items in the bin) × |accuracy − mean confidence|.

    Args:
        confidences: the probability given to each item's top answer, in [0, 1].
        hits: whether each top answer was right.
        bins: how many bins split [0, 1].
    """
    confidences, hits = np.asarray(confidences, dtype=float), np.asarray(hits, dtype=float)
    if len(confidences) == 0:
        return 0.0
    which = np.minimum((confidences * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            error += inside.mean() * abs(hits[inside].mean() - confidences[inside].mean())
    return float(error)


def fit_platt(log_probabilities, hits, *, steps: int = 2_000, learning_rate: float = 0.5) -> dict:
    """Platt scaling: p = sigmoid(a · log p_model + b), (a, b) by gradient descent on the log loss.

    Args:
        log_probabilities: the model's own log-probability of each filler (natural log).
        hits: whether each filler was the right one.
    Returns:
        {"a", "b"}: the calibration `calibrated_probability` applies.
    """
    from .serving.fill import LOG_PROBABILITY_FLOOR

    x, y = np.asarray(log_probabilities, dtype=float), np.asarray(hits, dtype=float)
    x = np.maximum(x, LOG_PROBABILITY_FLOOR)
    a, b = 1.0, 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(a * x + b)))
        a -= learning_rate * float(np.mean((p - y) * x)) / max(1.0, float(np.mean(x * x)))
        b -= learning_rate * float(np.mean(p - y))
    return {"a": a, "b": b}


def _gap_rankings(numpy_model, tokenizer: Tokenizer, config, items) -> list[tuple[list[tuple[str, float]], str]]:
    """([(filler, the model's own probability)] best first, the answer) of each held-out gap."""
    from .serving import rank_fill

    found = []
    for item in items:
        ranking = rank_fill(numpy_model, tokenizer, config, item["left"], item["right"])
        ranked = sorted(ranking.probabilities.items(), key=lambda pair: -pair[1])[:EVERYDAY_FILL_TOP_K]
        found.append((ranked, item["answer"]))
    return found


def choose_counts_weight(numpy_model, counts, tokenizer: Tokenizer, items) -> dict:
    """The weight of the counts in the served gap filler (`gap_counts.choose_weight`), chosen on held-out gaps
    `items` whose answer is one of the fillers: the one under which their answers are likeliest."""
    from .data.encoding import gap_sides, word_key
    from .models.gap_counts import choose_weight

    def scored():
        for item in items:
            answer = numpy_model.word_index.get(word_key(item["answer"]))
            if answer:  # neither missing nor the unknown word
                left_ids, right_ids = gap_sides(tokenizer, item["left"], item["right"])
                yield (numpy_model.probabilities(left_ids, right_ids),
                       counts.probabilities(item["left"], item["right"]), answer)
    return choose_weight(scored())


def fit_fill_calibration(numpy_model, tokenizer: Tokenizer, config, items) -> dict:
    """How the page turns the model's probabilities into shown ones, chosen on the validation gaps.

    Platt scaling is fitted on every shown filler; it is kept only where it lowers the calibration error
    of the top filler on these gaps, else the model's own probability is shown unchanged.
    Returns {"method": "model" | "platt", "a", "b", "gaps", "validation_ece_model", "validation_ece_platt"}.
    """
    from .serving.fill import calibrated_probability

    x, y, own, first = [], [], [], []
    for ranked, answer in _gap_rankings(numpy_model, tokenizer, config, items):
        for text, probability in ranked:
            x.append(math.log(max(probability, 1e-300)))
            y.append(text.casefold() == answer.casefold())
        own.append(ranked[0][1] if ranked else 0.0)
        first.append(bool(ranked) and ranked[0][0].casefold() == answer.casefold())
    platt = fit_platt(x, y)
    errors = {"validation_ece_model": expected_calibration_error(own, first),
              "validation_ece_platt": expected_calibration_error([calibrated_probability(p, platt) for p in own], first)}
    method = "platt" if errors["validation_ece_platt"] < errors["validation_ece_model"] else "model"
    return {"method": method, **platt, "gaps": len(items), **errors}


def everyday_fill_metrics(numpy_model, tokenizer: Tokenizer, config, items, *, calibration: dict | None = None) -> dict:
    """Top-1, top-5 and the calibration error of the top filler on held-out everyday gaps.

    The calibration error is reported for the probability as the page showed it before issue 13
    (normalised over the 5 fillers shown), for the model's own probability of the filler, and,
    given a calibration, for the probability the page shows now (`ece_shown`).
    """
    rankings = _gap_rankings(numpy_model, tokenizer, config, items)
    hits = [_hits([text for text, _ in ranked], answer) for ranked, answer in rankings]
    first = [bool(ranked) and ranked[0][0].casefold() == answer.casefold() for ranked, answer in rankings]
    normalised = [ranked[0][1] / sum(p for _, p in ranked) if ranked else 0.0 for ranked, _ in rankings]
    own = [ranked[0][1] if ranked else 0.0 for ranked, _ in rankings]
    metrics = {"gaps": len(items), "top1_accuracy": sum(h[0] for h in hits) / max(len(items), 1),
               "top5_accuracy": sum(h[1] for h in hits) / max(len(items), 1),
               "ece_normalised_over_shown": expected_calibration_error(normalised, first),
               "ece_model_probability": expected_calibration_error(own, first)}
    if calibration:
        from .serving.fill import calibrated_probability

        calibrated = [calibrated_probability(p, calibration) for p in own]
        metrics["ece_shown"] = expected_calibration_error(calibrated, first)
        metrics["calibration"] = calibration
    return metrics


def everyday_chat_replies(numpy_model, tokenizer: Tokenizer, config, items) -> list[tuple[str, float | None]]:
    """(reply, confidence) to each held-out chat item, as the page answers with beam 4: the
    other-language rule first, then the model (confidence: `serving.chat.reply_confidence`)."""
    from .config import PERSONA_MODERN, PERSONA_SHAKESPEARE
    from .data.encoding import seq2seq_example
    from .decoding import seq2seq_beam_search
    from .serving.chat import language_reply, reply_confidence
    from .tokenizer import EOS_ID

    tags = {"modern": PERSONA_MODERN, "shakespeare": PERSONA_SHAKESPEARE}
    found = []
    for item in items:
        fixed = language_reply(item["message"], item["persona"])
        if fixed is not None:
            found.append((fixed, None))
            continue
        source, _ = seq2seq_example(tokenizer, tags[item["persona"]], [*item["history"], item["message"]], None,
                                    max_source_tokens=config.max_source_tokens, max_target_tokens=config.max_target_tokens)
        hypotheses, memory = seq2seq_beam_search(numpy_model, source, start_id=BOS_ID, end_id=EOS_ID,
                                                 beam_width=EVERYDAY_CHAT_BEAM, max_new_tokens=config.max_target_tokens,
                                                 deadline_s=DECODING_DEADLINE_S)
        tokens = hypotheses[0].tokens if hypotheses else []
        found.append((tokenizer.decode(tokens), reply_confidence(numpy_model, memory, tokens)))
    return found


def chat_item_is_right(item: dict, reply: str) -> bool:
    """The automatic check of one held-out chat item (`chat_kinds.reply_is_right`)."""
    from .data.chat_kinds import reply_is_right

    return reply_is_right(item["check"], reply, accepted=tuple(item["accepted"]), mood=item["mood"])


def choose_unsure_threshold(confidences, rights) -> float | None:
    """The confidence below which a reply is flagged "unsure": the cut that classifies the most
    validation replies correctly (right above it, wrong below it). None when no reply was scored."""
    pairs = sorted((c, r) for c, r in zip(confidences, rights) if c is not None)
    if not pairs:
        return None
    best, best_correct = pairs[0][0] - 1e-6, sum(r for _, r in pairs)  # flag nothing
    wrong_below = right_below = 0
    for i, (confidence, right) in enumerate(pairs):
        wrong_below += not right
        right_below += right
        correct = wrong_below + (sum(r for _, r in pairs[i + 1:]))
        if correct > best_correct:
            best, best_correct = confidence + 1e-6, correct
    return float(best)


def everyday_chat_metrics(numpy_model, tokenizer: Tokenizer, config, items, *, threshold: float | None = None) -> dict:
    """Replies right overall and by kind on held-out chat items, capitals per persona, and how the
    "unsure" flag at `threshold` splits them."""
    replies = everyday_chat_replies(numpy_model, tokenizer, config, items)
    rights = [chat_item_is_right(item, reply) for item, (reply, _) in zip(items, replies)]
    by_kind: dict[str, list[bool]] = {}
    for item, right in zip(items, rights):
        by_kind.setdefault(item["kind"], []).append(right)
    with_history = [right for item, right in zip(items, rights) if item["history"]]
    metrics = {"messages": len(items), "right": sum(rights) / max(len(items), 1),
               "right_by_kind": {kind: sum(r) / len(r) for kind, r in sorted(by_kind.items())},
               "messages_by_kind": {kind: len(r) for kind, r in sorted(by_kind.items())},
               "right_with_history": sum(with_history) / max(len(with_history), 1)}
    if threshold is not None:
        flagged = [r for (_, c), r in zip(replies, rights) if c is not None and c < threshold]
        kept = [r for (_, c), r in zip(replies, rights) if c is None or c >= threshold]
        metrics.update(unsure_threshold=threshold, unsure_share=len(flagged) / max(len(items), 1),
                       right_when_unsure=sum(flagged) / max(len(flagged), 1),
                       right_when_sure=sum(kept) / max(len(kept), 1))
    return metrics


def everyday_metrics(chatbot=None, filler=None, tokenizer: Tokenizer | None = None, *, limit: int | None = None) -> dict:
    """Every figure of issue 13 on the fixed sets: thresholds and calibration fitted on the validation
    files, figures reported on the test files.

    Args:
        chatbot: (NumpySeq2Seq, Seq2SeqConfig) of the chatbot to evaluate, or None.
        filler: (NumpyGapWords, GapWordsConfig) of the gap filler to evaluate, or None.
        tokenizer: the shared tokenizer.
        limit: score only the first items of each file (quick runs and tests).
    """
    from .data import heldout

    def load(name, role):
        return heldout.load(name, role)[:limit]

    found = {}
    if chatbot is not None:
        model, config = chatbot
        validation = load("chat", "validation")
        replies = everyday_chat_replies(model, tokenizer, config, validation)
        threshold = choose_unsure_threshold([c for _, c in replies],
                                            [chat_item_is_right(i, r) for i, (r, _) in zip(validation, replies)])
        found["chat"] = everyday_chat_metrics(model, tokenizer, config, load("chat", "test"), threshold=threshold)
    if filler is not None:
        model, config = filler
        calibration = fit_fill_calibration(model, tokenizer, config, load("gaps", "validation"))
        found["gaps"] = everyday_fill_metrics(model, tokenizer, config, load("gaps", "test"), calibration=calibration)
    return found
