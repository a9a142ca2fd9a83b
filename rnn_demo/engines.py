"""Loads the tokenizer and models once per process (thread-safe) and serves plain Python calls."""
from __future__ import annotations

import logging
import math
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from . import checkpoints
from .config import LIMITS, PERSONA_MODERN, PERSONA_SHAKESPEARE, InputError, Limits
from .datasets import blank_example, seq2seq_example
from .decoding import StopReason, attention_map, merge_candidates, seq2seq_beam_search, stream
from .sampling import Sampler, SamplingSettings, softmax
from .tokenizer import BOS_ID, EOS_ID, Tokenizer

log = logging.getLogger(__name__)

LANGUAGE_MODELS = ("shakespeare-gru", "shakespeare-lstm")
CHATBOT = "chatbot"
BLANK_MODEL = "blank"
ALL_MODELS = (*LANGUAGE_MODELS, CHATBOT, BLANK_MODEL)
ALLOWED_CONTROL = {"\n", "\t"}
TOP_PROBABILITIES = 5
MAX_UTF8_BYTES = 4


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    model: str = "shakespeare-gru"
    max_tokens: int = LIMITS.default_new_tokens
    temperature: float = 0.8
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    seed: int = 0


@dataclass
class GenerationResult:
    text: str  # prompt + continuation
    tokens: int  # tokens generated
    stop_reason: str
    next_token_probabilities: dict = field(default_factory=dict)


@dataclass
class GenerationChunk:
    """What a stream shows after each token."""

    text: str  # prompt + continuation so far
    tokens: int  # tokens generated so far
    logits: np.ndarray  # the model's own next-token scores at the last choice (vocab,)


@dataclass
class LoadedModel:
    checkpoint: checkpoints.Checkpoint
    fast: object  # NumpyLanguageModel or NumpySeq2Seq: the serving path

    @property
    def model(self):
        return self.checkpoint.model


def _number(name: str, value, low: float, high: float, *, integer: bool) -> float | int:
    """Checks one request number against its range; returns it as int or float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{name} must be a number, not {type(value).__name__}")
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number")
    if integer and value != int(value):
        raise InputError(f"{name} must be a whole number, not {value}")
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low:g} and {high:g}, not {value:g}")
    return int(value) if integer else float(value)


def check_text(name: str, text, max_chars: int) -> str:
    """Refuses non-strings, blank text, over-long text and control characters (other than newline, tab)."""
    if not isinstance(text, str):
        raise InputError(f"{name} must be text")
    if not text.strip():
        raise InputError(f"{name} is empty: type a few words first")
    if len(text) > max_chars:
        raise InputError(f"{name} is too long: {len(text):,} characters, the limit is {max_chars:,}")
    for char in text:
        if unicodedata.category(char) == "Cc" and char not in ALLOWED_CONTROL:
            raise InputError(f"{name} contains a control character (U+{ord(char):04X}); remove it")
    return text


class Engine:
    """The demo's models, loaded once and shared by every user; all calls are thread-safe."""

    def __init__(self, assets: str | Path, limits: Limits = LIMITS):
        self.assets = Path(assets)
        self.limits = limits
        self._lock = threading.Lock()
        self._tokenizer: Tokenizer | None = None
        self._models: dict[str, LoadedModel] = {}
        self._errors: dict[str, str] = {}  # models that failed to load, with the reason

    @property
    def tokenizer(self) -> Tokenizer:
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = Tokenizer(self.assets / "tokenizer.model")
            return self._tokenizer

    def _load(self, name: str) -> LoadedModel:
        """A checkpoint and its fast NumPy step, loaded once (CheckpointError if unusable)."""
        tokenizer = self.tokenizer
        with self._lock:
            if name not in self._models:
                from .models.numpy_step import NumpyLanguageModel, NumpySeq2Seq

                checkpoint = checkpoints.load_checkpoint(self.assets / name, tokenizer)
                fast = NumpyLanguageModel if checkpoint.meta["family"] == "language_model" else NumpySeq2Seq
                self._models[name] = LoadedModel(checkpoint, fast(checkpoint.model))
                log.info("loaded %s", name)
            return self._models[name]

    def language_model(self, name: str) -> LoadedModel:
        """The named Shakespeare language model, loaded on first use."""
        if name not in LANGUAGE_MODELS:
            raise InputError(f"unknown model {name!r}; choose one of {', '.join(LANGUAGE_MODELS)}")
        return self._load(name)

    def chatbot(self) -> LoadedModel:
        """The seq2seq chatbot, loaded on first use."""
        return self._load(CHATBOT)

    def blank_model(self) -> LoadedModel:
        """The seq2seq gap filler, loaded on first use."""
        return self._load(BLANK_MODEL)

    def load_all(self) -> dict[str, str]:
        """Loads every model; for each, "ready" or the reason it cannot load (and how to fix it)."""
        for name in ALL_MODELS:
            try:
                self._load(name)
            except (checkpoints.CheckpointError, FileNotFoundError) as error:
                self._errors[name] = str(error)
                log.warning("%s: %s", name, error)
        return self.status()

    def status(self) -> dict[str, str]:
        """For each model, without loading anything: "ready", "loading" or why it cannot load."""
        return {name: "ready" if name in self._models else self._errors.get(name, "loading")
                for name in ALL_MODELS}

    def validate_generation(self, request: GenerationRequest) -> GenerationRequest:
        """Checks every field against the limits; returns the request with clean numbers."""
        limits = self.limits
        check_text("prompt", request.prompt, limits.max_prompt_chars)
        if request.model not in LANGUAGE_MODELS:
            raise InputError(f"unknown model {request.model!r}; choose one of {', '.join(LANGUAGE_MODELS)}")
        return GenerationRequest(
            prompt=request.prompt,
            model=request.model,
            max_tokens=_number("max tokens", request.max_tokens, 1, limits.max_new_tokens, integer=True),
            temperature=_number("temperature", request.temperature, 0, limits.max_temperature, integer=False),
            top_k=_number("top-k", request.top_k, 0, limits.max_top_k, integer=True),
            top_p=_number("top-p", request.top_p, limits.min_top_p, 1, integer=False),
            repetition_penalty=_number("repetition penalty", request.repetition_penalty, 1,
                                       limits.max_repetition_penalty, integer=False),
            seed=_number("seed", request.seed, 0, limits.max_seed, integer=True),
        )

    def stream(self, request: GenerationRequest, *, should_stop: Callable[[], bool] = lambda: False,
               stop: StopReason | None = None) -> Iterator[GenerationChunk]:
        """Yields the text so far after each token (held back inside an unfinished UTF-8 character)."""
        request = self.validate_generation(request)
        loaded = self.language_model(request.model)
        tokenizer = self.tokenizer
        sampler = Sampler(SamplingSettings(request.temperature, request.top_k, request.top_p,
                                           request.repetition_penalty), seed=request.seed)
        prompt_ids = [BOS_ID] + tokenizer.encode(request.prompt)
        events = stream(loaded.fast.step, loaded.fast.initial_state(), prompt_ids, choose=sampler,
                        max_new_tokens=request.max_tokens, deadline_s=self.limits.deadline_s,
                        should_stop=should_stop, stop=stop)
        text, pending, count, event = request.prompt, [], 0, None
        for count, event in enumerate(events, start=1):
            pending.append(event.token)
            piece = tokenizer.decode(pending)
            if piece.endswith("\ufffd") and len(pending) < MAX_UTF8_BYTES:
                continue  # an unfinished UTF-8 character: wait for its other bytes
            text, pending = text + piece, []
            yield GenerationChunk(text, count, event.logits)
        if pending:
            yield GenerationChunk(text + tokenizer.decode(pending), count, event.logits)

    def generate(self, request: GenerationRequest) -> GenerationResult:
        """Runs `stream` to the end."""
        stop = StopReason()
        last = None
        for last in self.stream(request, stop=stop):
            pass
        if last is None:
            return GenerationResult(request.prompt, 0, stop.reason)
        return GenerationResult(last.text, last.tokens, stop.reason, self.top_probabilities(last.logits))

    def chat(self, request: ChatRequest) -> Iterator[ChatReply]:
        """Answers the message; yields the growing reply, the last one complete with attention."""
        return _chat(self, request)

    def fill(self, sentence: str, top_k: int = 5) -> FillResult:
        """The likeliest fillers of the one gap (`___` or `[MASK]`) in `sentence`."""
        return _fill(self, sentence, top_k)

    def top_probabilities(self, logits: np.ndarray | None, k: int = TOP_PROBABILITIES) -> dict[str, float]:
        """The model's k likeliest next tokens, as {piece shown readably: probability}."""
        if logits is None:
            return {}
        probs = softmax(np.asarray(logits, dtype=np.float64))
        top = np.argsort(-probs)[:k]
        return {_readable_piece(self.tokenizer.piece(i)): float(probs[i]) for i in top if probs[i] > 0}


def _readable_piece(piece: str) -> str:
    return piece.replace("\u2581", "␣").replace("\n", "⏎")


PERSONAS = {"modern": PERSONA_MODERN, "shakespeare": PERSONA_SHAKESPEARE}
DECODINGS = ("beam", "greedy", "sample")
CONTEXT_TURNS = 3  # the chatbot was trained on the last 3 turns (dialogues.MAX_CONTEXT_TURNS)


@dataclass(frozen=True)
class ChatRequest:
    message: str
    history: tuple = ()  # earlier turns, oldest first: strings, or {"role", "content"} messages
    persona: str = "modern"
    decoding: str = "beam"
    beam_width: int = 4
    length_penalty: float = 0.6
    temperature: float = 0.8
    top_k: int = 0
    top_p: float = 1.0
    seed: int = 0


@dataclass
class ChatReply:
    """A reply so far, with what the model looked at to write it."""

    text: str
    done: bool
    source_pieces: list[str] = field(default_factory=list)  # encoder input, readable
    reply_pieces: list[str] = field(default_factory=list)
    attention: np.ndarray | None = None  # (reply tokens, source tokens); rows sum to 1
    candidates: list[tuple[str, float]] = field(default_factory=list)  # beam n-best: (text, log p)


def message_text(message) -> str:
    """The text of one history entry: a string, or a Gradio message {"role", "content"}."""
    if isinstance(message, str):
        return message
    if isinstance(message, dict):
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, (list, tuple)):
            return " ".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    raise InputError("each history entry must be text or a {role, content} message")


def _chat_validate(engine: "Engine", request: ChatRequest) -> tuple[ChatRequest, list[str]]:
    """Checks a chat request; returns it with clean numbers and the turns the model will read."""
    limits = engine.limits
    check_text("message", request.message, limits.max_message_chars)
    if request.persona not in PERSONAS:
        raise InputError(f"unknown persona {request.persona!r}; choose one of {', '.join(PERSONAS)}")
    if request.decoding not in DECODINGS:
        raise InputError(f"unknown decoding {request.decoding!r}; choose one of {', '.join(DECODINGS)}")
    history = list(request.history or ())
    if len(history) > limits.max_history_messages:
        raise InputError(f"history is too long: {len(history):,} messages, the limit is "
                         f"{limits.max_history_messages} (the model reads only the last {CONTEXT_TURNS} turns)")
    turns = [message_text(entry) for entry in history[-(CONTEXT_TURNS - 1):]]
    for turn in turns:
        check_text("a history message", turn, limits.max_message_chars) if turn.strip() else None
    clean = ChatRequest(
        message=request.message, history=tuple(history), persona=request.persona, decoding=request.decoding,
        beam_width=_number("beam width", request.beam_width, 1, limits.max_beam_width, integer=True),
        length_penalty=_number("length penalty", request.length_penalty, 0, limits.max_length_penalty, integer=False),
        temperature=_number("temperature", request.temperature, 0, limits.max_temperature, integer=False),
        top_k=_number("top-k", request.top_k, 0, limits.max_top_k, integer=True),
        top_p=_number("top-p", request.top_p, limits.min_top_p, 1, integer=False),
        seed=_number("seed", request.seed, 0, limits.max_seed, integer=True),
    )
    return clean, [turn for turn in turns if turn.strip()] + [request.message]


def _chat(engine: "Engine", request: ChatRequest) -> Iterator[ChatReply]:
    """Yields the reply as it grows (greedy, sample) or once (beam), the last one with attention."""
    request, turns = _chat_validate(engine, request)
    loaded = engine.chatbot()
    fast, config, tokenizer = loaded.fast, loaded.checkpoint.model_config, engine.tokenizer
    source, _ = seq2seq_example(tokenizer, PERSONAS[request.persona], turns, None,
                                max_source_tokens=config.max_source_tokens,
                                max_target_tokens=config.max_target_tokens)
    if request.decoding == "beam":
        hypotheses, memory = seq2seq_beam_search(
            fast, source, start_id=BOS_ID, end_id=EOS_ID, beam_width=request.beam_width,
            max_new_tokens=config.max_target_tokens, deadline_s=engine.limits.deadline_s,
            length_penalty=request.length_penalty)
        tokens = hypotheses[0].tokens if hypotheses else []
        candidates = [(tokenizer.decode(h.tokens), h.log_prob) for h in hypotheses]
    else:
        memory = fast.encode(source)
        settings = SamplingSettings(request.temperature if request.decoding == "sample" else 0.0,
                                    request.top_k, request.top_p)

        def step(fed, state):
            for token in fed:
                logits, state, _ = fast.step(np.asarray([token]), state, memory)
            return logits[0], state

        tokens = []
        for event in stream(step, memory[-1][None, :], [BOS_ID], choose=Sampler(settings, request.seed),
                            max_new_tokens=config.max_target_tokens, deadline_s=engine.limits.deadline_s,
                            stop_ids=[EOS_ID]):
            tokens.append(event.token)
            yield ChatReply(tokenizer.decode(tokens), done=False)
        candidates = []
    yield ChatReply(
        text=tokenizer.decode(tokens), done=True,
        source_pieces=[_readable_piece(tokenizer.piece(i)) for i in source],
        reply_pieces=[_readable_piece(tokenizer.piece(i)) for i in tokens],
        attention=attention_map(fast, memory, BOS_ID, tokens), candidates=candidates)


FILL_BEAM_MIN = 8  # beams searched for a fill, at least, so that merged candidates are well ranked
NOT_SURE_PROBABILITY = 0.3  # below this model probability, the best filler is flagged "not sure"


@dataclass
class FillResult:
    """Ranked fillers of one gap."""

    candidates: list[tuple[str, float]]  # (filler, probability normalised over those shown), best first
    completed: str  # the sentence with the best filler
    left: str
    right: str
    best_model_probability: float  # the model's own probability of the best filler (not normalised)
    not_sure: bool


def _fill(engine: "Engine", sentence, top_k) -> FillResult:
    from .blanks import parse_gap

    limits = engine.limits
    check_text("sentence", sentence, limits.max_sentence_chars)
    top_k = _number("top-k", top_k, 1, limits.max_fill_candidates, integer=True)
    try:
        left, right = parse_gap(sentence)
    except ValueError as error:
        raise InputError(str(error)) from None
    loaded = engine.blank_model()
    config, tokenizer = loaded.checkpoint.model_config, engine.tokenizer
    source, _ = blank_example(tokenizer, left, right, None, max_source_tokens=config.max_source_tokens,
                              max_target_tokens=config.max_target_tokens)
    hypotheses, _ = seq2seq_beam_search(loaded.fast, source, start_id=BOS_ID, end_id=EOS_ID,
                                        beam_width=max(FILL_BEAM_MIN, top_k), max_new_tokens=config.max_target_tokens,
                                        deadline_s=limits.deadline_s, length_penalty=0.0)
    candidates, best = merge_candidates(
        [(tokenizer.decode(h.tokens), h.log_prob) for h in hypotheses if h.finished], top_k)
    completed = left + candidates[0][0] + right if candidates else sentence
    return FillResult(candidates, completed, left, right, best, best < NOT_SURE_PROBABILITY)
