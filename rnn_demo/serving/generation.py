"""Text generation: a language model's tokens streamed as readable text, and its likeliest next pieces."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from .. import decoding
from ..decoding import StopReason
from ..sampling import Sampler, SamplingSettings, softmax
from ..tokenizer import BOS_ID, Tokenizer
from .requests import GenerationRequest

TOP_PROBABILITIES = 5
MAX_UTF8_BYTES = 4


@dataclass
class GenerationResult:
    text: str  # prompt + continuation
    tokens: int  # tokens generated
    stop_reason: str  # as in decoding.StopReason


@dataclass
class GenerationChunk:
    """What a stream shows after each token."""

    text: str  # prompt + continuation so far
    tokens: int  # tokens generated so far
    logits: np.ndarray  # the model's own next-token scores at the last choice (vocab,)
    # The tokens added since the last chunk, each with the logits it was drawn from (for the glass box).
    events: tuple[decoding.StreamEvent, ...] = ()


def stream(loaded, tokenizer: Tokenizer, request: GenerationRequest, *, deadline_s: float,
           threads: Callable[[], int], stop: StopReason | None = None) -> Iterator[GenerationChunk]:
    """Yields the text so far after each token (held back inside an unfinished UTF-8 character).

    Args:
        loaded: the language model's `LoadedModel` (its NumPy step, and its compiled sampler or None).
        tokenizer: the shared tokenizer.
        request: a checked request (`requests.check_generation`).
        deadline_s: wall-clock seconds after which the stream ends.
        threads: the cores the compiled sampler may use now, asked before each block it draws.
        stop: if given, its `reason` is set to why the stream ended.
    """
    sampler = Sampler(SamplingSettings(request.temperature, request.top_k, request.top_p,
                                       request.repetition_penalty), seed=request.seed)
    prompt_ids = [BOS_ID] + tokenizer.encode(request.prompt)
    step, state = loaded.numpy_model.step, loaded.numpy_model.initial_state()
    # Tokens are drawn by the compiled sampler where it applies: in one batch with the model's other
    # streams (`batching`), or a block at a time on its own; else one NumPy step at a time.
    if loaded.decoder is not None and _compiled_applies(sampler.settings):
        events = loaded.decoder.stream(step, state, prompt_ids, temperature=request.temperature, rng=sampler.rng,
                                       max_new_tokens=request.max_tokens, deadline_s=deadline_s, stop=stop)
    else:
        events = decoding.stream(step, state, prompt_ids, choose=sampler, max_new_tokens=request.max_tokens,
                                 deadline_s=deadline_s, stop=stop, draw_block=_draw_block(loaded.sampler, sampler,
                                                                                          threads))
    yield from _texts(events, tokenizer, request.prompt)


def _texts(events: Iterable[decoding.StreamEvent], tokenizer: Tokenizer, prompt: str) -> Iterator[GenerationChunk]:
    """The prompt and the tokens so far as text, after each token that completes a character.

    Byte-fallback pieces (one byte of a character the vocabulary lacks) are held back until their
    UTF-8 character is whole, so that no chunk ends in half a character.
    """
    text, pending, count, event = prompt, [], 0, None
    piece_texts = tokenizer.piece_texts
    for count, event in enumerate(events, start=1):
        piece = piece_texts[event.token] if not pending else None
        if piece is not None:  # a word piece: its text, without a call into SentencePiece
            text += piece
            yield GenerationChunk(text, count, event.logits, (event,))
            continue
        pending.append(event)
        piece = tokenizer.decode([e.token for e in pending])
        if piece.endswith("\ufffd") and len(pending) < MAX_UTF8_BYTES:
            continue  # an unfinished UTF-8 character: wait for its other bytes
        text, written, pending = text + piece, tuple(pending), []
        yield GenerationChunk(text, count, event.logits, written)
    if pending:
        yield GenerationChunk(text + tokenizer.decode([e.token for e in pending]), count, event.logits, tuple(pending))


def batched(request: GenerationRequest) -> bool:
    """Whether a stream of `request` can share the batched decoder's steps (when its model has one)."""
    return _compiled_applies(SamplingSettings(request.temperature, request.top_k, request.top_p,
                                              request.repetition_penalty))


def _compiled_applies(settings: SamplingSettings) -> bool:
    """Whether the compiled sampler draws as `Sampler` would: plain temperature sampling or greedy."""
    return not settings.top_k and settings.top_p >= 1.0 and settings.repetition_penalty == 1.0


def _draw_block(compiled, sampler: Sampler, threads: Callable[[], int]):
    """The compiled sampler drawing for `sampler`, if it can (plain temperature sampling or greedy), else None."""
    settings = sampler.settings
    if compiled is None or not _compiled_applies(settings):
        return None

    def draw_block(logits, state, count):
        # The same uniform numbers, in the same order, as `sampler` would draw one token at a time.
        uniforms = None if settings.temperature == 0 else sampler.rng.random(count)
        tokens, after, state = compiled.sample(logits, state, count, uniforms, settings.temperature,
                                               threads=threads())
        return tokens.tolist(), after, state

    return draw_block


def run_to_end(chunks: Iterable[GenerationChunk], prompt: str, stop: StopReason) -> GenerationResult:
    """Runs a stream to its end: its last text and token count, and why it ended (`stop`, set by the stream)."""
    last = None
    for last in chunks:
        pass
    if last is None:
        return GenerationResult(prompt, 0, stop.reason)
    return GenerationResult(last.text, last.tokens, stop.reason)


def top_probabilities(tokenizer: Tokenizer, logits: np.ndarray | None, k: int = TOP_PROBABILITIES) -> dict[str, float]:
    """The model's k likeliest next tokens, as {piece shown readably: probability}; {} without logits."""
    if logits is None:
        return {}
    probs = softmax(np.asarray(logits, dtype=np.float64))
    top = np.argsort(-probs)[:k]
    return {readable_piece(tokenizer.piece(i)): float(probs[i]) for i in top if probs[i] > 0}


def readable_piece(piece: str) -> str:
    """A word piece as the page shows it: its word-start mark and newline made visible."""
    return piece.replace("\u2581", "␣").replace("\n", "⏎")
