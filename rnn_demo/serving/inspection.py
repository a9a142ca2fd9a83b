"""What a language model thought at each step: the chosen pieces' probabilities, the alternatives, the
surprise of a text beside a character trigram baseline, and the decoding lab (five decodings side by side).

Log-probabilities here are natural logs under the model itself (temperature 1, no truncation), whatever
the sampler did to choose; surprise is in bits (−log2 p).
"""
from __future__ import annotations

import dataclasses
import logging
import math
import threading
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from ..config import InputError, Limits
from ..decoding import beam_search
from ..models import registry
from ..tokenizer import BOS_ID, EOS_ID, Tokenizer
from .generation import MAX_UTF8_BYTES, GenerationRequest
from .requests import check_generation, check_language_model, check_number, check_text

log = logging.getLogger(__name__)

TOP_K = 5  # alternatives kept per step
NGRAM = 3  # the repeated-n-gram rate counts repeats of this many pieces
MAX_LAB_TOKENS = 200  # per decoding: the lab runs five
MAX_SURPRISE_CHARS = 2_000
# The baseline: characters of the training plays, add-k smoothed trigrams. k was chosen on the held-out
# plays, whose bits/char it hardly changes: k = 0.01 → 2.964, 0.05 → 2.952, 0.3 → 2.943, 1 → 2.948.
ADD_K = 0.3
TEXT_START = "\n\n"  # what the baseline reads before a text: a text starts as if after a blank line
UNICODE_CHARACTERS = 0x110000  # an unseen character is one of the rest of Unicode, each as likely
BEAM_LENGTH_PENALTY = 0.0  # the lab ranks beams by their raw log-probability (all share one length)
LN2 = math.log(2.0)


@dataclass(frozen=True)
class Step:
    """One token and what the model thought when it came."""

    token: int
    log_prob: float  # natural log of the model's probability of `token` there
    top: tuple[tuple[int, float], ...]  # the model's TOP_K likeliest tokens there, with their probabilities


@dataclass(frozen=True)
class Segment:
    """Consecutive steps that make one piece of text: a word piece, or the byte pieces of one character."""

    text: str  # what the steps write ("" for a control symbol)
    steps: tuple[Step, ...]

    @property
    def log_prob(self) -> float:
        return sum(step.log_prob for step in self.steps)

    @property
    def bits(self) -> float:
        return -self.log_prob / LN2


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Natural log-probabilities of `logits` (vocab,), in float64."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max()
    return shifted - math.log(np.exp(shifted).sum())


def step_of(token: int, logits: np.ndarray, k: int = TOP_K) -> Step:
    """The model's view of choosing `token` from `logits` (vocab,): its log-probability and the top k."""
    log_probs = log_softmax(logits)
    top = np.argpartition(-log_probs, k)[:k]
    top = top[np.argsort(-log_probs[top], kind="stable")]
    return Step(int(token), float(log_probs[token]), tuple((int(i), float(math.exp(log_probs[i]))) for i in top))


def segments(tokenizer: Tokenizer, steps: Sequence[Step]) -> list[Segment]:
    """The steps grouped as text: byte pieces joined into their UTF-8 character (up to 4), others alone.

    The segments' texts, joined, are `tokenizer.decode` of the steps' tokens.
    """
    found, pending = [], []
    for step in steps:
        text = tokenizer.piece_texts[step.token] if not pending else None
        if text is not None or _is_symbol(tokenizer, step.token):
            found.append(Segment(text or "", (step,)))
            continue
        pending.append(step)
        text = tokenizer.decode([s.token for s in pending])
        if text.endswith("\ufffd") and len(pending) < MAX_UTF8_BYTES:
            continue  # an unfinished UTF-8 character: wait for its other bytes
        found.append(Segment(text, tuple(pending)))
        pending = []
    if pending:
        found.append(Segment(tokenizer.decode([s.token for s in pending]), tuple(pending)))
    return found


def _is_symbol(tokenizer: Tokenizer, token: int) -> bool:
    """A control symbol or <unk>: no text of its own, never part of a character."""
    return tokenizer.piece_texts[token] is None and not tokenizer.piece(token).startswith("<0x")


def read(step_fn, state, tokens: Sequence[int], logits: np.ndarray) -> list[Step]:
    """The model fed `tokens` one by one (teacher forcing): what it thought of each before it came.

    Args:
        step_fn: the model's `step(tokens, state) -> (logits, state)`.
        state: the state before the first token.
        tokens: the tokens to read.
        logits: the model's scores for the first token (vocab,).
    """
    steps = []
    for position, token in enumerate(tokens):
        steps.append(step_of(token, logits))
        if position + 1 < len(tokens):
            logits, state = step_fn([token], state)
    return steps


def repeated_ngram_rate(tokens: Sequence[int], n: int = NGRAM) -> float:
    """The share of the n-grams of `tokens` that repeat an earlier n-gram of the same tokens (0 with none)."""
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    seen, repeats = set(), 0
    for gram in grams:
        repeats += gram in seen
        seen.add(gram)
    return repeats / len(grams) if grams else 0.0


# --- the surprise of a text -------------------------------------------------------------------


@dataclass(frozen=True)
class SurpriseRequest:
    text: str
    model: str = registry.DEFAULT_LANGUAGE_MODEL


@dataclass
class Surprise:
    """A text read by the model, piece by piece, beside the character trigram baseline."""

    segments: list[Segment]  # the model's view of each piece
    baseline_bits: list[float] | None  # the baseline's bits for each segment's characters; None without it
    chars: int

    @property
    def bits_per_char(self) -> float:
        return sum(segment.bits for segment in self.segments) / self.chars

    @property
    def baseline_bits_per_char(self) -> float | None:
        return None if self.baseline_bits is None else sum(self.baseline_bits) / self.chars


def check_surprise(request: SurpriseRequest, limits: Limits) -> SurpriseRequest:
    """The request, or InputError saying what is wrong with its text or model."""
    check_text("text", request.text, min(MAX_SURPRISE_CHARS, limits.max_prompt_chars))
    check_language_model(request.model)
    return request


def surprise(loaded, tokenizer: Tokenizer, text: str, baseline: "CharTrigram | None") -> Surprise:
    """The model's bits for each piece of `text` (read after the start token, state carried throughout),
    and the baseline's for the same characters.

    Args:
        loaded: the language model's `LoadedModel`.
        tokenizer: the shared tokenizer.
        text: a checked text (`check_surprise`).
        baseline: the character trigram model, or None (the plays are not installed).
    """
    model = loaded.numpy_model
    logits, state = model.step([BOS_ID], model.initial_state())
    found = segments(tokenizer, read(model.step, state, tokenizer.encode(text), logits))
    baseline_bits = None
    if baseline is not None:
        char_bits = baseline.char_bits(text)
        ends = np.cumsum([len(segment.text) for segment in found])
        baseline_bits = [float(char_bits[end - len(segment.text):end].sum()) for segment, end in zip(found, ends)]
    return Surprise(found, baseline_bits, len(text))


class CharTrigram:
    """An add-k smoothed character trigram model: p(c | a b) = (n(a b c) + k) / (n(a b) + k V).

    V is the number of characters of the training text plus one class for every other character; an
    unseen character's probability is that class's, shared evenly by the rest of Unicode. A text is
    read as if TEXT_START came before it.
    """

    def __init__(self, text: str, k: float = ADD_K):
        self.k = k
        alphabet = sorted(set(TEXT_START + text))
        self.size = len(alphabet) + 1  # class 0 is "any other character"
        # code point -> class, up to the largest code point of the alphabet; the last entry is class 0
        self.classes_of = np.zeros(ord(alphabet[-1]) + 2, dtype=np.int32)
        self.classes_of[[ord(char) for char in alphabet]] = np.arange(1, self.size, dtype=np.int32)
        classes = self._classes(TEXT_START + text)
        trigrams = (classes[:-2] * self.size + classes[1:-1]) * self.size + classes[2:]
        self.trigram_counts = np.bincount(trigrams, minlength=self.size ** 3).reshape((self.size,) * 3)  # (V, V, V)
        self.bigram_counts = self.trigram_counts.sum(axis=2)  # (V, V): counts of each context
        self.unseen_bits = math.log2(UNICODE_CHARACTERS - self.size + 1)

    def _classes(self, text: str) -> np.ndarray:
        """Each character's class: 1 + its index in the alphabet, or 0 if the training text lacks it."""
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        return self.classes_of[np.minimum(points, len(self.classes_of) - 1)]

    def char_bits(self, text: str) -> np.ndarray:
        """−log2 p of each character of `text` (len(text),), given the two before it."""
        classes = self._classes(TEXT_START + text)
        a, b, c = classes[:-2], classes[1:-1], classes[2:]
        probs = (self.trigram_counts[a, b, c] + self.k) / (self.bigram_counts[a, b] + self.k * self.size)
        return -np.log2(probs) + np.where(c == 0, self.unseen_bits, 0.0)


def training_plays_trigram() -> CharTrigram:
    """The baseline fitted on the training plays only (a few seconds: the plays are read and cleaned)."""
    from ..data import corpora

    return CharTrigram("\n".join(play.text for play in corpora.play_split("train")))


class LazyBaseline:
    """The baseline, built on first use and kept (thread-safe); None if the plays' package is missing."""

    def __init__(self, build=training_plays_trigram):
        self._build = build
        self._lock = threading.Lock()
        self._value = None
        self._built = False

    def get(self) -> CharTrigram | None:
        with self._lock:
            if not self._built:
                try:
                    self._value = self._build()
                    log.info("built the character trigram baseline")
                except FileNotFoundError as error:
                    log.warning("the surprise view works without its baseline: %s", error)
                self._built = True
        return self._value


# --- the decoding lab -------------------------------------------------------------------------


@dataclass(frozen=True)
class LabRequest:
    """One prompt and seed, decoded five ways: greedy, temperature, top-k, top-p (each at `temperature`) and beam."""

    prompt: str
    model: str = registry.DEFAULT_LANGUAGE_MODEL
    max_tokens: int = 60
    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.9
    beam_width: int = 4
    seed: int = 0


@dataclass
class LabRow:
    """One decoding of the lab."""

    method: str  # one of METHODS
    text: str  # prompt + continuation, as `/generate` returns it
    steps: list[Step]  # the continuation's tokens, with the model's view of each
    request: GenerationRequest | None  # the `/generate` request that writes the same text; None for beam

    @property
    def log_prob(self) -> float:
        """Natural log-probability of the continuation under the model."""
        return sum(step.log_prob for step in self.steps)

    @property
    def repeated_ngram_rate(self) -> float:
        return repeated_ngram_rate([step.token for step in self.steps])


METHODS = ("greedy", "temperature", "top-k", "top-p", "beam")


@dataclass
class LabResult:
    request: LabRequest  # as checked
    rows: list[LabRow]  # one per method, in METHODS order


def check_lab(request: LabRequest, limits: Limits) -> LabRequest:
    """The lab request with clean numbers, or InputError naming what is wrong (the checks of `/generate`)."""
    max_tokens = check_number("max tokens", request.max_tokens, 1, min(MAX_LAB_TOKENS, limits.max_new_tokens),
                              integer=True)
    generation = check_generation(_generation_request(request, max_tokens=max_tokens), limits)
    beam_width = check_number("beam width", request.beam_width, 1, limits.max_beam_width, integer=True)
    if generation.temperature == 0:
        raise InputError("temperature must be above 0 in the lab: greedy has its own column")
    return dataclasses.replace(request, max_tokens=max_tokens, beam_width=beam_width, temperature=generation.temperature,
                               top_k=generation.top_k, top_p=generation.top_p, seed=generation.seed)


def _generation_request(request: LabRequest, **changes) -> GenerationRequest:
    """The `/generate` request of the lab's prompt, model, length and seed, with `changes`."""
    fields = dict(prompt=request.prompt, model=request.model, max_tokens=request.max_tokens,
                  temperature=request.temperature, top_k=request.top_k, top_p=request.top_p, seed=request.seed)
    return GenerationRequest(**{**fields, **changes})


def sampled_requests(request: LabRequest) -> dict[str, GenerationRequest]:
    """The `/generate` requests of the lab's first four methods, by method."""
    return {"greedy": _generation_request(request, temperature=0.0, top_k=0, top_p=1.0),
            "temperature": _generation_request(request, top_k=0, top_p=1.0),
            "top-k": _generation_request(request, top_p=1.0),
            "top-p": _generation_request(request, top_k=0)}


def streamed_row(method: str, chunks: Iterable, request: GenerationRequest) -> LabRow:
    """A lab row from the chunks of one stream (`Engine.stream`), each with the events it added."""
    text, steps = request.prompt, []
    for chunk in chunks:
        text = chunk.text
        steps.extend(step_of(event.token, event.logits) for event in chunk.events)
    return LabRow(method, text, steps, request)


def beam_row(loaded, tokenizer: Tokenizer, request: LabRequest, *, deadline_s: float) -> LabRow:
    """The lab's beam column: `decoding.beam_search` over the language model after the prompt.

    The prompt but its last token is fed first; the search starts from that last token.
    """
    model = loaded.numpy_model
    ids = [BOS_ID] + tokenizer.encode(request.prompt)
    _, state = model.step(ids[:-1], model.initial_state())
    hypotheses = beam_search(_batched(model), _as_batch(state), start_id=ids[-1], end_id=EOS_ID,
                             beam_width=request.beam_width, max_new_tokens=request.max_tokens,
                             deadline_s=deadline_s, length_penalty=BEAM_LENGTH_PENALTY)
    tokens = hypotheses[0].tokens if hypotheses else []
    logits, state = model.step(ids, model.initial_state())
    return LabRow("beam", request.prompt + tokenizer.decode(tokens), read(model.step, state, tokens, logits), None)


def _as_batch(state):
    """A one-stream state (layers of (units,) arrays) as a batch of one (layers of (1, units) arrays)."""
    return [[part[None, :] for part in layer] for layer in state]


def _batched(model):
    """The language model's batch-1 step run row by row: (tokens (batch,), batch state) -> (logits (batch, vocab), state)."""

    def step(tokens, state):
        rows = [model.step([int(token)], [[part[row] for part in layer] for layer in state])
                for row, token in enumerate(tokens)]
        logits = np.stack([row_logits for row_logits, _ in rows])
        new_state = [[np.stack([row_state[layer][part] for _, row_state in rows]) for part in range(len(parts))]
                     for layer, parts in enumerate(state)]
        return logits, new_state

    return step
