"""Loads the tokenizer and models once per process (thread-safe) and serves plain Python calls."""
from __future__ import annotations

import logging
import math
import threading
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .. import checkpoints
from ..data import quotes
from ..models import registry
from ..config import LIMITS, PERSONA_MODERN, PERSONA_SHAKESPEARE, InputError, Limits
from ..data.encoding import fill_side_ids, fill_source, seq2seq_example
from ..decoding import (StopReason, attention_map, merged_probabilities, seq2seq_beam_search, stream, teacher_forced,
                       top_normalised)
from ..sampling import Sampler, SamplingSettings, softmax
from ..tokenizer import BOS_ID, EOS_ID, Tokenizer

log = logging.getLogger(__name__)

LANGUAGE_MODELS = registry.names(family="language_model")
ALLOWED_CONTROL = {"\n", "\t"}
TOP_PROBABILITIES = 5
MAX_UTF8_BYTES = 4
TOKENIZER_FILE = "tokenizer.model"
TOKENIZER_COMMAND = "python -m rnn_demo train tokenizer"


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    model: str = registry.DEFAULT_LANGUAGE_MODEL
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
    sampler: object | None = None  # a language model's CompiledSampler, where Numba runs

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
        self._quotes_lock = threading.Lock()
        self._quotes = None  # the fill tab's memory of the training plays, built on first use
        self._working = 0  # requests being computed now (streams, chat replies, fills)
        self._working_lock = threading.Lock()

    @contextmanager
    def _at_work(self):
        with self._working_lock:
            self._working += 1
        try:
            yield
        finally:
            with self._working_lock:
                self._working -= 1

    def _cores_for_one(self) -> int:
        """Cores one stream's compiled sampler may use now: both while it runs alone, else one."""
        return 2 if self._working <= 1 else 1

    @property
    def tokenizer(self) -> Tokenizer:
        """The shared tokenizer (CheckpointError, saying how to fix it, if missing or unreadable)."""
        if self._tokenizer is not None:  # no lock once loaded: a model loading elsewhere must not stall streams
            return self._tokenizer
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = _open_tokenizer(self.assets / TOKENIZER_FILE)
            return self._tokenizer

    def _load(self, name: str) -> LoadedModel:
        """A checkpoint and its fast NumPy step, loaded once (CheckpointError if unusable).

        A failure is remembered for `status` (so the page can say what is wrong) but not cached:
        the next request tries again, so a repaired checkpoint works without a restart.
        """
        try:
            tokenizer = self.tokenizer
            with self._lock:
                if name not in self._models:
                    self._models[name] = _serving_model(self.assets / name, tokenizer)
                    log.info("loaded %s", name)
        except checkpoints.CheckpointError as error:
            self._errors[name] = str(error)
            log.warning("%s: %s", name, error)
            raise
        self._errors.pop(name, None)
        return self._models[name]

    def language_model(self, name: str) -> LoadedModel:
        """The named Shakespeare language model, loaded on first use."""
        if name not in LANGUAGE_MODELS:
            raise InputError(f"unknown model {name!r}; choose one of {', '.join(LANGUAGE_MODELS)}")
        return self._load(name)

    def model(self, name: str) -> LoadedModel:
        """The registry's model `name`, loaded on first use."""
        registry.spec(name)
        return self._load(name)

    def quotations(self, left: str, right: str) -> list:
        """Spans of the training plays between the gap's neighbours (`quotes.QuoteIndex.find`)."""
        with self._quotes_lock:
            if self._quotes is None:
                try:
                    self._quotes = quotes.training_index()
                    log.info("built the memory of the training plays")
                except FileNotFoundError as error:  # the plays' package is missing: fill without the memory
                    log.warning("fill works without its memory of the plays: %s", error)
                    self._quotes = False
        return self._quotes.find(left, right) if self._quotes else []

    def load_all(self) -> dict[str, str]:
        """Loads every model and the fill tab's memory; for each model, "ready" or why it cannot load.

        The language models' compiled sampler is compiled meanwhile by another process, so that
        compiling (seconds on a fresh machine) and loading overlap."""
        from ..models import compiled_rnn

        compiled_rnn.start_precompiling()
        for name in registry.names():
            try:
                self._load(name)
            except checkpoints.CheckpointError:
                pass  # recorded by _load for `status`
        self.quotations("", "")
        return self.status()

    def status(self) -> dict[str, str]:
        """For each model, without loading any model: "ready", "loading" or why it cannot load."""
        return {name: self._state(name) for name in registry.names()}

    def _state(self, name: str) -> str:
        if name in self._models:
            return "ready"
        if name in self._errors:
            return self._errors[name]
        try:  # cheap checks only: the shared tokenizer, and whether config.json is there and reads
            _ = self.tokenizer
            checkpoints.read_meta(self.assets / name)
        except checkpoints.CheckpointError as error:
            return str(error)
        return "loading"

    def check(self, request):
        """The request (generation, chat or fill) with clean numbers, or InputError saying what is wrong."""
        if isinstance(request, GenerationRequest):
            return self.validate_generation(request)
        if isinstance(request, ChatRequest):
            return _chat_validate(self, request)[0]
        if isinstance(request, FillRequest):
            return _fill_check(self, request)
        raise TypeError(f"not a request: {type(request).__name__}")

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
        # Tokens are drawn by the compiled sampler where it applies, else one NumPy step at a time.
        events = stream(loaded.fast.step, loaded.fast.initial_state(), prompt_ids, choose=sampler,
                        max_new_tokens=request.max_tokens, deadline_s=self.limits.deadline_s,
                        should_stop=should_stop, stop=stop, draw_block=self._draw_block(loaded, sampler))
        text, pending, count, event = request.prompt, [], 0, None
        piece_texts = tokenizer.piece_texts
        with self._at_work():
            for count, event in enumerate(events, start=1):
                piece = piece_texts[event.token] if not pending else None
                if piece is not None:  # a word piece: its text, without a call into SentencePiece
                    text += piece
                    yield GenerationChunk(text, count, event.logits)
                    continue
                pending.append(event.token)
                piece = tokenizer.decode(pending)
                if piece.endswith("\ufffd") and len(pending) < MAX_UTF8_BYTES:
                    continue  # an unfinished UTF-8 character: wait for its other bytes
                text, pending = text + piece, []
                yield GenerationChunk(text, count, event.logits)
        if pending:
            yield GenerationChunk(text + tokenizer.decode(pending), count, event.logits)

    def _draw_block(self, loaded: LoadedModel, sampler: Sampler):
        """The compiled sampler drawing for `sampler`, if it can: plain temperature sampling or greedy."""
        settings, compiled = sampler.settings, loaded.sampler
        if compiled is None or settings.top_k or settings.top_p < 1.0 or settings.repetition_penalty != 1.0:
            return None

        def draw_block(logits, state, count):
            # The same uniform numbers, in the same order, as `sampler` would draw one token at a time.
            uniforms = None if settings.temperature == 0 else sampler.rng.random(count)
            tokens, after, state = compiled.sample(logits, state, count, uniforms, settings.temperature,
                                                   threads=self._cores_for_one())
            return tokens.tolist(), after, state

        return draw_block

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
        with self._at_work():
            yield from _chat(self, request)

    def fill(self, request: FillRequest) -> FillResult:
        """The likeliest fillers of the one gap (`___` or `[MASK]`) in the request's sentence."""
        with self._at_work():
            return _fill(self, request)

    def top_probabilities(self, logits: np.ndarray | None, k: int = TOP_PROBABILITIES) -> dict[str, float]:
        """The model's k likeliest next tokens, as {piece shown readably: probability}."""
        if logits is None:
            return {}
        probs = softmax(np.asarray(logits, dtype=np.float64))
        top = np.argsort(-probs)[:k]
        return {_readable_piece(self.tokenizer.piece(i)): float(probs[i]) for i in top if probs[i] > 0}


def _open_tokenizer(path: Path) -> Tokenizer:
    """The shared tokenizer, or CheckpointError saying what is wrong with its file and how to fix it."""
    try:
        return Tokenizer(path)
    except FileNotFoundError as error:
        raise checkpoints.CheckpointError(str(error)) from None
    except (RuntimeError, OSError, KeyError) as error:  # SentencePiece refuses the file, or it lacks our symbols
        raise checkpoints.CheckpointError(
            f"tokenizer file {path.name} is unreadable or not this project's ({error}); restore it, or "
            f"re-create it with `{TOKENIZER_COMMAND}` and then re-train every model") from None


def _serving_model(directory: Path, tokenizer: Tokenizer) -> LoadedModel:
    """A verified checkpoint (rebuilt from its config.json, then `load_weights`) and its serving
    paths: the NumPy step, and for a language model the compiled sampler."""
    from ..models.numpy_step import NumpyLanguageModel, NumpySeq2Seq

    checkpoint = checkpoints.load_checkpoint(directory, tokenizer, family=registry.spec(directory.name).family)
    if checkpoint.meta["family"] != "language_model":
        return LoadedModel(checkpoint, NumpySeq2Seq(checkpoint.model))
    fast = NumpyLanguageModel(checkpoint.model)
    return LoadedModel(checkpoint, fast, _compiled_sampler(fast, directory.name))


def _compiled_sampler(fast, name: str):
    """A language model's compiled sampler, compiled now (or read from Numba's cache), or None: the NumPy step serves."""
    from ..models import compiled_rnn

    if not compiled_rnn.supports(fast.config):
        return None
    try:
        sampler = compiled_rnn.CompiledSampler(fast)
        sampler.warm_up()
    except Exception as error:  # Numba's errors have no common base we could name; the NumPy step still works
        log.warning("%s: the NumPy step serves; the compiled sampler failed: %s", name, error)
        return None
    log.info("%s: compiled sampler ready (%s weights)", name, "float16" if sampler.half_precision else "float32")
    return sampler


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
    notes: list[str] = field(default_factory=list)  # what the model did not read, said to the user


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
    if not isinstance(request.persona, str) or request.persona not in PERSONAS:
        raise InputError(f"unknown persona {request.persona!r}; choose one of {', '.join(PERSONAS)}")
    if request.decoding not in DECODINGS:
        raise InputError(f"unknown decoding {request.decoding!r}; choose one of {', '.join(DECODINGS)}")
    if not isinstance(request.history or (), (list, tuple)):
        raise InputError("history must be a list of messages")
    history = list(request.history or ())
    if len(history) > limits.max_history_messages:
        raise InputError(f"history is too long: {len(history):,} messages, the limit is "
                         f"{limits.max_history_messages} (the model reads only the last {CONTEXT_TURNS} turns)")
    turns = [_history_text(index, entry, limits.max_message_chars) for index, entry in enumerate(history)]
    turns = turns[-(CONTEXT_TURNS - 1):]  # the model was trained on the message and the two turns before it
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


def _history_text(index: int, entry, max_chars: int) -> str:
    """The text of history entry `index`, checked like a message (an empty reply is allowed)."""
    text = message_text(entry)
    if text.strip():
        check_text(f"history message {index + 1}", text, max_chars)
    return text


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


@dataclass
class _Decoded:
    tokens: list[int]
    memory: tuple  # the encoder's output, reused for the attention map
    candidates: list[tuple[str, float]]
    stop_reason: str  # as in decoding.StopReason


def _chat(engine: "Engine", request: ChatRequest) -> Iterator[ChatReply]:
    """Yields the reply as it grows (greedy, sample) or once (beam), the last one with attention."""
    request, turns = _chat_validate(engine, request)
    loaded = engine.model(registry.CHAT_MODEL)
    fast, config, tokenizer = loaded.fast, loaded.checkpoint.model_config, engine.tokenizer
    source, _ = seq2seq_example(tokenizer, PERSONAS[request.persona], turns, None,
                                max_source_tokens=config.max_source_tokens,
                                max_target_tokens=config.max_target_tokens)
    if request.decoding == "beam":
        decoded = _chat_beam(engine, fast, source, request, config.max_target_tokens)
    else:
        decoded = yield from _chat_stream(engine, fast, source, request, config.max_target_tokens)
    tokens = decoded.tokens
    notes = [_context_note(tokenizer, turns, config.max_source_tokens),
             _cut_note(decoded.stop_reason, len(tokens), engine.limits.deadline_s)]
    yield ChatReply(
        text=tokenizer.decode(tokens), done=True,
        source_pieces=[_readable_piece(tokenizer.piece(i)) for i in source],
        reply_pieces=[_readable_piece(tokenizer.piece(i)) for i in tokens],
        attention=attention_map(fast, decoded.memory, BOS_ID, tokens), candidates=decoded.candidates,
        notes=[note for note in notes if note])


def _chat_beam(engine: "Engine", fast, source: list[int], request: ChatRequest, max_tokens: int) -> _Decoded:
    """The beam search's best reply and its n-best list."""
    hypotheses, memory = seq2seq_beam_search(
        fast, source, start_id=BOS_ID, end_id=EOS_ID, beam_width=request.beam_width,
        max_new_tokens=max_tokens, deadline_s=engine.limits.deadline_s, length_penalty=request.length_penalty)
    tokens = hypotheses[0].tokens if hypotheses else []
    if hypotheses and hypotheses[0].finished:
        reason = "stop_token"
    else:  # the search returns unfinished hypotheses only when cut by the length limit or the clock
        reason = "max_tokens" if len(tokens) >= max_tokens else "deadline"
    candidates = [(engine.tokenizer.decode(h.tokens), h.log_prob) for h in hypotheses]
    return _Decoded(tokens, memory, candidates, reason)


def _chat_stream(engine: "Engine", fast, source: list[int], request: ChatRequest, max_tokens: int):
    """Greedy or sampled decoding: yields the growing reply, then returns the whole `_Decoded`."""
    memory = fast.encode(source)
    settings = SamplingSettings(request.temperature if request.decoding == "sample" else 0.0,
                                request.top_k, request.top_p)

    def step(fed, state):
        for token in fed:
            logits, state, _ = fast.step(np.asarray([token]), state, memory)
        return logits[0], state

    tokens, stop = [], StopReason()
    for event in stream(step, memory[-1][None, :], [BOS_ID], choose=Sampler(settings, request.seed),
                        max_new_tokens=max_tokens, deadline_s=engine.limits.deadline_s, stop_ids=[EOS_ID],
                        stop=stop):
        tokens.append(event.token)
        yield ChatReply(engine.tokenizer.decode(tokens), done=False)
    return _Decoded(tokens, memory, [], stop.reason)


FILL_BEAM_MIN = 8  # beams searched for a fill, at least, so that merged candidates are well ranked
NOT_SURE_PROBABILITY = 0.3  # below this probability, the best filler is flagged "not sure"


@dataclass
class FillResult:
    """Ranked fillers of one gap."""

    candidates: list[tuple[str, float]]  # (filler, probability normalised over those shown), best first
    completed: str  # the sentence with the best filler
    left: str
    right: str
    best_model_probability: float  # the best filler's probability (not normalised), memory mixed in
    not_sure: bool
    notes: list[str] = field(default_factory=list)  # what the model did not read, said to the user
    quoted: dict[str, str] = field(default_factory=dict)  # filler → play it was found in (the memory)
    model_only: dict[str, float] = field(default_factory=dict)  # quoted filler → the RNN's own probability
    matched_words: int = 0  # neighbouring words the quotations matched (0: none found)


@dataclass(frozen=True)
class FillRequest:
    sentence: str
    top_k: int = 5


def _fill_check(engine: "Engine", request: FillRequest) -> FillRequest:
    limits = engine.limits
    return FillRequest(check_text("sentence", request.sentence, limits.max_sentence_chars),
                       _number("top-k", request.top_k, 1, limits.max_fill_candidates, integer=True))


def _fill(engine: "Engine", request: FillRequest) -> FillResult:
    from ..data.fill_sentences import parse_gap

    limits = engine.limits
    request = _fill_check(engine, request)
    sentence, top_k = request.sentence, request.top_k
    try:
        left, right = parse_gap(sentence)
    except ValueError as error:
        raise InputError(str(error)) from None
    loaded = engine.model(registry.FILL_MODEL)
    ranking = rank_fill(loaded.fast, engine.tokenizer, loaded.checkpoint.model_config, left, right,
                        beam_width=max(FILL_BEAM_MIN, top_k), deadline_s=limits.deadline_s,
                        quotations=engine.quotations(left, right)[:top_k])
    notes = [f"The sentence is {ranking.tokens} tokens long and the model reads only the {ranking.read} around "
             f"the gap: its ends were left out."] if ranking.tokens > ranking.read else []
    candidates, best = top_normalised(ranking.probabilities, top_k)
    completed = left + candidates[0][0] + right if candidates else sentence
    shown = {text for text, _ in candidates}
    return FillResult(candidates, completed, left, right, best, best < NOT_SURE_PROBABILITY, notes,
                      {text: play for text, play in ranking.quoted.items() if text in shown},
                      {text: p for text, p in ranking.model_only.items() if text in shown}, ranking.matched_words)


@dataclass
class FillRanking:
    """Every filler found for one gap, with its probability (not normalised)."""

    probabilities: dict[str, float]  # filler → probability, the memory mixed in
    tokens: int  # tokens of the sentence without its gap
    read: int  # of which the model read (the rest was cut at the far ends)
    quoted: dict[str, str] = field(default_factory=dict)  # filler → play, for fillers the memory found
    model_only: dict[str, float] = field(default_factory=dict)  # quoted filler → the model's own probability
    matched_words: int = 0


def rank_fill(fast, tokenizer: Tokenizer, config, left: str, right: str, *, beam_width: int, deadline_s: float,
              quotations=()) -> FillRanking:
    """The gap filler's beam search, hypotheses merged by surface text, mixed with `quotations`.

    Args:
        fast: the gap filler's `NumpySeq2Seq`.
        left, right: the sentence before and after the gap.
        beam_width: hypotheses kept; more gives better-ranked merged candidates.
        quotations: spans the memory of the plays found for this gap (`Engine.quotations`).
    """
    left_ids, right_ids, prefix = fill_side_ids(tokenizer, left, right)
    source = fill_source(tokenizer, left_ids, right_ids, max_source_tokens=config.max_source_tokens)
    hypotheses, memory = seq2seq_beam_search(fast, source, start_id=BOS_ID, end_id=EOS_ID, beam_width=beam_width,
                                             max_new_tokens=config.max_target_tokens, deadline_s=deadline_s,
                                             length_penalty=0.0)
    probabilities = merged_probabilities((tokenizer.decode(h.tokens), h.log_prob) for h in hypotheses if h.finished)
    ranking = FillRanking(probabilities, len(left_ids) + len(right_ids), len(source) - 1)
    if not quotations:
        return ranking

    scored = dict(probabilities)

    def model_probability(text: str) -> float:  # teacher-forced, for quoted words the beam did not find
        target = tokenizer.encode(prefix + text)[:config.max_target_tokens - 1] + [EOS_ID]
        scored[text] = math.exp(teacher_forced(fast, memory, BOS_ID, target)[0].sum())
        return scored[text]

    ranking.probabilities, found = quotes.mix_quotations(probabilities, quotations, model_probability)
    ranking.quoted = {text: quotation.play for text, quotation in found.items()}
    ranking.model_only = {text: scored[text] for text in found}
    ranking.matched_words = quotations[0].matched_words
    return ranking
