"""The chatbot's replies: beam search or a streamed reply, with what the model read and looked at."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from ..data.encoding import seq2seq_example
from ..decoding import StopReason, attention_map, seq2seq_beam_search, stream
from ..models.numpy_step import EncoderMemory
from ..sampling import Sampler, SamplingSettings
from ..tokenizer import BOS_ID, EOS_ID, Tokenizer
from .generation import readable_piece
from .requests import CONTEXT_TURNS, PERSONAS, ChatRequest, message_text


@dataclass
class ChatReply:
    """A reply so far, with what the model looked at to write it."""

    text: str
    done: bool
    source_pieces: list[str] = field(default_factory=list)  # encoder input, readable
    reply_pieces: list[str] = field(default_factory=list)
    attention: np.ndarray | None = None  # (reply tokens, source tokens); rows sum to 1
    candidates: list[tuple[str, float]] = field(default_factory=list)  # beam n-best: (text, log p)
    notes: list[str] = field(default_factory=list)  # what the model did not read, said to the user


@dataclass
class _Decoded:
    tokens: list[int]
    memory: EncoderMemory  # the encoder's output, reused for the attention map
    candidates: list[tuple[str, float]]
    stop_reason: str  # as in decoding.StopReason


def reply(loaded, tokenizer: Tokenizer, request: ChatRequest, *, deadline_s: float) -> Iterator[ChatReply]:
    """Yields the reply as it grows (greedy, sample) or once (beam), the last one with attention.

    Args:
        loaded: the chatbot's `LoadedModel`.
        tokenizer: the shared tokenizer.
        request: a checked request (`requests.check_chat`).
        deadline_s: wall-clock seconds after which the reply is cut.
    """
    numpy_model, config = loaded.numpy_model, loaded.checkpoint.model_config
    turns = chat_turns(request)
    source, _ = seq2seq_example(tokenizer, PERSONAS[request.persona], turns, None,
                                max_source_tokens=config.max_source_tokens,
                                max_target_tokens=config.max_target_tokens)
    max_tokens = config.max_target_tokens
    if request.decoding == "beam":
        decoded = _beam(numpy_model, tokenizer, source, request, max_tokens=max_tokens, deadline_s=deadline_s)
    else:
        decoded = yield from _streamed(numpy_model, tokenizer, source, request, max_tokens=max_tokens,
                                       deadline_s=deadline_s)
    tokens = decoded.tokens
    notes = [_context_note(tokenizer, turns, config.max_source_tokens),
             _cut_note(decoded.stop_reason, len(tokens), deadline_s)]
    yield ChatReply(
        text=tokenizer.decode(tokens), done=True,
        source_pieces=[readable_piece(tokenizer.piece(i)) for i in source],
        reply_pieces=[readable_piece(tokenizer.piece(i)) for i in tokens],
        attention=attention_map(numpy_model, decoded.memory, BOS_ID, tokens), candidates=decoded.candidates,
        notes=[note for note in notes if note])


def chat_turns(request: ChatRequest) -> list[str]:
    """The turns the chatbot reads, oldest first: the last non-empty turns of a checked request's
    history, then its message (the model was trained on the message and the two turns before it)."""
    turns = [message_text(entry) for entry in request.history][-(CONTEXT_TURNS - 1):]
    return [turn for turn in turns if turn.strip()] + [request.message]


def _beam(numpy_model, tokenizer: Tokenizer, source: list[int], request: ChatRequest, *, max_tokens: int,
          deadline_s: float) -> _Decoded:
    """The beam search's best reply and its n-best list."""
    hypotheses, memory = seq2seq_beam_search(
        numpy_model, source, start_id=BOS_ID, end_id=EOS_ID, beam_width=request.beam_width,
        max_new_tokens=max_tokens, deadline_s=deadline_s, length_penalty=request.length_penalty)
    tokens = hypotheses[0].tokens if hypotheses else []
    if hypotheses and hypotheses[0].finished:
        reason = "stop_token"
    else:  # the search returns unfinished hypotheses only when cut by the length limit or the clock
        reason = "max_tokens" if len(tokens) >= max_tokens else "deadline"
    candidates = [(tokenizer.decode(h.tokens), h.log_prob) for h in hypotheses]
    return _Decoded(tokens, memory, candidates, reason)


def _streamed(numpy_model, tokenizer: Tokenizer, source: list[int], request: ChatRequest, *, max_tokens: int,
              deadline_s: float):
    """Greedy or sampled decoding: yields the growing reply, then returns the whole `_Decoded`."""
    memory = numpy_model.encode(source)
    decoder = numpy_model.decoder(memory)
    settings = SamplingSettings(request.temperature if request.decoding == "sample" else 0.0,
                                request.top_k, request.top_p)
    tokens, stop = [], StopReason()
    for event in stream(decoder.feed, decoder.initial_state(), [BOS_ID], choose=Sampler(settings, request.seed),
                        max_new_tokens=max_tokens, deadline_s=deadline_s, stop_ids=[EOS_ID], stop=stop):
        tokens.append(event.token)
        yield ChatReply(tokenizer.decode(tokens), done=False)
    return _Decoded(tokens, memory, [], stop.reason)


def _context_note(tokenizer: Tokenizer, turns: list[str], max_source_tokens: int) -> str | None:
    """What the encoder leaves out when the turns are longer than it reads (it keeps the newest tokens)."""
    room = max_source_tokens - 1  # after the persona tag
    message_tokens = len(tokenizer.encode(turns[-1]))
    if message_tokens > room:
        return (f"Your message is {message_tokens} tokens long and the chatbot reads only the last {room}: "
                f"the start of your message was left out.")
    if message_tokens + sum(len(tokenizer.encode(turn)) + 1 for turn in turns[:-1]) > room:  # + 1: <sep>
        return (f"The chatbot reads only the last {room} tokens of the conversation: "
                f"the start of the earlier turns was left out.")
    return None


def _cut_note(reason: str, tokens: int, deadline_s: float) -> str | None:
    """Says why a reply ended before the model ended it; None when the model ended it."""
    if reason == "deadline":
        return f"The reply was cut at the time limit ({deadline_s:g} s), after {tokens} tokens."
    if reason == "max_tokens":
        return f"The reply was cut at the chatbot's length limit ({tokens} tokens)."
    return None
