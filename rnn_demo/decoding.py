"""Generation loops over a model's `step(tokens, state) -> (logits, state)`."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np

StepFn = Callable[[Sequence[int], object], tuple[np.ndarray, object]]
ChooseFn = Callable[[np.ndarray, Sequence[int]], int]
# (logits, state, count) -> (count token ids, the logits after each, state): draws and feeds a block at once.
DrawBlockFn = Callable[[np.ndarray, object, int], tuple[np.ndarray, np.ndarray, object]]
BLOCK_TOKENS = 32  # tokens per `draw_block` call: 3-4 ms, between two checks of the deadline and the client
FIRST_BLOCK_TOKENS = 4  # a short first block, so that the first token shows at once


@dataclass
class StreamEvent:
    """One generated token, with the distribution it was drawn from (for display)."""

    token: int
    logits: np.ndarray


@dataclass
class StopReason:
    reason: str = "max_tokens"  # "max_tokens", "stop_token" or "deadline"


def stream(step: StepFn, state, prompt_ids: Sequence[int], *, choose: ChooseFn, max_new_tokens: int,
           deadline_s: float, stop_ids: Sequence[int] = (), stop: StopReason | None = None,
           draw_block: DrawBlockFn | None = None) -> Iterator[StreamEvent]:
    """Feeds the prompt, then yields one chosen token at a time.

    A consumer that wants no more tokens (the client left) closes the iterator: no further step runs.

    Args:
        step: the model's resumable step.
        state: the state before the prompt.
        prompt_ids: tokens to feed first (at least one).
        choose: picks the next token from logits and the tokens so far.
        max_new_tokens: at most this many tokens are yielded.
        deadline_s: wall-clock seconds after which the loop ends.
        stop_ids: tokens that end the loop (not yielded).
        stop: if given, its `reason` is set to why the loop ended.
        draw_block: if given, chooses and feeds tokens a block at a time (it must choose as
            `choose` would); the deadline is then checked between blocks. Without it, `choose`
            and `step` draw and feed one token at a time.
    """
    stop = stop if stop is not None else StopReason()
    deadline = time.monotonic() + deadline_s
    history = list(prompt_ids)
    logits, state = step(history, state)
    first_block, block = FIRST_BLOCK_TOKENS, BLOCK_TOKENS
    if draw_block is None:
        first_block = block = 1

        def draw_block(logits, state, count):
            token = choose(logits, history)
            if token in stop_ids:  # the loop ends on it: nothing to feed
                return [token], [logits], state
            after, state = step([token], state)
            return [token], [after], state

    produced = 0
    while produced < max_new_tokens:
        if time.monotonic() > deadline:
            stop.reason = "deadline"
            return
        count = min(block if produced else first_block, max_new_tokens - produced)
        tokens, after, state = draw_block(logits, state, count)
        for index, token in enumerate(tokens):
            if token in stop_ids:
                stop.reason = "stop_token"
                return
            yield StreamEvent(token, logits)
            history.append(token)
            logits = after[index]
        produced += count
    stop.reason = "max_tokens"


@dataclass
class Hypothesis:
    """One beam-search result."""

    tokens: list[int]  # generated tokens, without the start and end tokens
    log_prob: float  # natural log-probability of the tokens (and of the end token, if finished)
    score: float  # length-normalised log-probability, the ranking key
    finished: bool  # ended with the end token (not cut by max_new_tokens or the deadline)


def length_normalised(log_prob: float, length: int, penalty: float) -> float:
    """GNMT's length normalisation: log p / ((5 + length) / 6) ** penalty; penalty 0 = raw log p."""
    return log_prob / (((5.0 + length) / 6.0) ** penalty)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _take(state, indices: np.ndarray):
    """Selects rows of a batch-first state (an array, or a tuple/list of them)."""
    if isinstance(state, (tuple, list)):
        return type(state)(_take(part, indices) for part in state)
    return state[indices]


def _search_is_over(finished: list[Hypothesis], alive_log_probs, beam_width: int, max_new_tokens: int,
                    penalty: float) -> bool:
    """True once no alive hypothesis can still beat the worst of the `beam_width` best finished:
    log-probabilities only fall, so the best alive one is bounded by its score at full length."""
    if len(finished) < beam_width:
        return False
    worst_kept = sorted((h.score for h in finished), reverse=True)[beam_width - 1]
    bound = length_normalised(max(alive_log_probs), max_new_tokens if penalty > 0 else 1, penalty)
    return bound <= worst_kept


def beam_search(step: Callable[[np.ndarray, object], tuple[np.ndarray, object]], state, *, start_id: int,
                end_id: int, beam_width: int, max_new_tokens: int, deadline_s: float,
                length_penalty: float = 0.6) -> list[Hypothesis]:
    """The n-best continuations by length-normalised log-probability.

    Args:
        step: (tokens (batch,), batch-first state) -> (logits (batch, vocab), state).
        state: the state for one hypothesis (batch 1).
        start_id: the first token fed.
        end_id: the token that finishes a hypothesis.
        beam_width: hypotheses kept alive per step, and the number returned (at most).
        max_new_tokens: longest hypothesis.
        deadline_s: wall-clock seconds after which the search returns what it has.
        length_penalty: GNMT alpha; 0 ranks by raw log-probability.
    Returns:
        Up to `beam_width` hypotheses, best first.
    """
    deadline = time.monotonic() + deadline_s
    alive: list[list[int]] = [[]]
    alive_log_probs = np.zeros(1)
    last = np.asarray([start_id])
    finished: list[Hypothesis] = []
    for _ in range(max_new_tokens):
        if time.monotonic() > deadline:
            break
        logits, state = step(last, state)
        totals = (alive_log_probs[:, None] + _log_softmax(np.asarray(logits, np.float64))).ravel()
        vocab = logits.shape[-1]
        candidates = min(2 * beam_width, totals.size)
        best = np.argpartition(-totals, candidates - 1)[:candidates]
        best = best[np.argsort(-totals[best], kind="stable")]
        parents, next_alive, next_log_probs = [], [], []
        for index in best:
            parent, token = divmod(int(index), vocab)
            if token == end_id and not alive[parent]:
                continue  # an empty reply is no answer
            if token == end_id:
                tokens = alive[parent]
                finished.append(Hypothesis(tokens, float(totals[index]),
                                           length_normalised(float(totals[index]), len(tokens) + 1,
                                                             length_penalty), True))
            elif len(next_alive) < beam_width:
                parents.append(parent)
                next_alive.append(alive[parent] + [token])
                next_log_probs.append(totals[index])
        if not next_alive or _search_is_over(finished, next_log_probs, beam_width, max_new_tokens,
                                             length_penalty):
            break
        alive, alive_log_probs = next_alive, np.asarray(next_log_probs)
        state, last = _take(state, np.asarray(parents)), np.asarray([tokens[-1] for tokens in alive])
    if len(finished) < beam_width:  # cut by max_new_tokens or the deadline: keep the unfinished too
        finished += [Hypothesis(tokens, float(lp), length_normalised(float(lp), len(tokens), length_penalty), False)
                     for tokens, lp in zip(alive, alive_log_probs) if tokens]
    finished.sort(key=lambda hypothesis: -hypothesis.score)
    return finished[:beam_width]


def seq2seq_beam_search(model, source_ids: Sequence[int], *, start_id: int, end_id: int, beam_width: int,
                        max_new_tokens: int, deadline_s: float, length_penalty: float = 0.6):
    """Beam search over a `NumpySeq2Seq` reading `source_ids`.

    Returns:
        (hypotheses best first, the `EncoderMemory` — reused to compute the attention map).
    """
    memory = model.encode(source_ids)
    decoder = model.decoder(memory)
    return beam_search(decoder, decoder.initial_state(), start_id=start_id, end_id=end_id, beam_width=beam_width,
                       max_new_tokens=max_new_tokens, deadline_s=deadline_s,
                       length_penalty=length_penalty), memory


def teacher_forced(model, memory, start_id: int, tokens: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The decoder fed `tokens` one by one: (log-probability of each token (len,), attention (len, src))."""
    decoder = model.decoder(memory)
    state = decoder.initial_state()
    log_probs, rows = [], []
    for fed, wanted in zip([start_id, *tokens], tokens):
        logits, state, weights = decoder.with_attention(np.asarray([fed]), state)
        log_probs.append(_log_softmax(logits[0])[wanted])
        rows.append(weights[0])
    if not rows:
        return np.zeros(0), np.zeros((0, len(memory.mask)))
    return np.asarray(log_probs), np.stack(rows)


def attention_map(model, memory, start_id: int, tokens: Sequence[int]) -> np.ndarray:
    """Attention weights while writing `tokens` (teacher-forced): (len(tokens), source length)."""
    return teacher_forced(model, memory, start_id, tokens)[1]


def top_normalised(probabilities: dict[str, float], top_k: int) -> tuple[list[tuple[str, float]], float]:
    """The top k of {text: probability}, normalised over themselves, and the best one's own probability."""
    ranked = sorted(probabilities.items(), key=lambda item: -item[1])[:top_k]
    total = sum(p for _, p in ranked)
    return [(text, p / total) for text, p in ranked], (ranked[0][1] if ranked else 0.0)
