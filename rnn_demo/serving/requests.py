"""What callers ask the engine for: the request dataclasses, their defaults, and the one set of checks."""
from __future__ import annotations

import dataclasses
import math
import unicodedata
from dataclasses import dataclass

from ..config import LIMITS, PERSONA_MODERN, PERSONA_SHAKESPEARE, InputError, Limits
from ..models import registry
from ..sampling import SamplingSettings

# The request defaults of the sampling fields are the sampler's own (`SamplingSettings`), written once there.
DEFAULT_SAMPLING = SamplingSettings()
DEFAULT_SEED = 0
ALLOWED_CONTROL = {"\n", "\t"}
PERSONAS = {"modern": PERSONA_MODERN, "shakespeare": PERSONA_SHAKESPEARE}
DECODINGS = ("beam", "greedy", "sample")
CONTEXT_TURNS = 3  # the chatbot was trained on the last 3 turns (dialogues.MAX_CONTEXT_TURNS)
EXACT_DIGITS = 15  # integers shorter than this are shown whole in messages, longer ones by their size


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    model: str = registry.DEFAULT_LANGUAGE_MODEL
    max_tokens: int = LIMITS.default_new_tokens
    temperature: float = DEFAULT_SAMPLING.temperature
    top_k: int = DEFAULT_SAMPLING.top_k
    top_p: float = DEFAULT_SAMPLING.top_p
    repetition_penalty: float = DEFAULT_SAMPLING.repetition_penalty
    seed: int = DEFAULT_SEED


@dataclass(frozen=True)
class ChatRequest:
    message: str
    history: tuple = ()  # earlier turns, oldest first: strings, or {"role", "content"} messages
    persona: str = "modern"
    decoding: str = "beam"
    beam_width: int = 4
    length_penalty: float = 0.6
    temperature: float = DEFAULT_SAMPLING.temperature  # for decoding "sample"; top-k and top-p too
    top_k: int = DEFAULT_SAMPLING.top_k
    top_p: float = DEFAULT_SAMPLING.top_p
    seed: int = DEFAULT_SEED


@dataclass(frozen=True)
class FillRequest:
    sentence: str  # with one gap: `___` or `[MASK]`
    top_k: int = 5


def check_number(name: str, value, low: float, high: float, *, integer: bool) -> float | int:
    """One request number checked against its range.

    Args:
        name: how the message names the field.
        value: what the caller sent (any type: API callers are not bound by sliders).
        low, high: the inclusive range.
        integer: whether only whole numbers are accepted.
    Returns:
        The value as int (if `integer`) or float.
    Raises:
        InputError: not a number, out of range (infinities, NaN and integers too large for a float
            included), or not whole when it must be.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{name} must be a number, not {type(value).__name__}")
    # The range comes first and compares the value as sent: Python compares an int of any size with a
    # float exactly, while float(10**400), math.isfinite(10**400) or f"{10**400:g}" raise OverflowError.
    if not low <= value <= high:
        raise InputError(f"{name} must be between {shown_number(low)} and {shown_number(high)}, "
                         f"not {shown_number(value)}")
    if integer and value != int(value):
        raise InputError(f"{name} must be a whole number, not {shown_number(value)}")
    return int(value) if integer else float(value)


def shown_number(value: int | float) -> str:
    """A number as a message shows it, short at any size: 10**400 is "about 1e+400", not 401 digits.

    Args:
        value: an int or a float (infinities and NaN included).
    Returns:
        Small integers whole, larger ones by their power of ten, floats as `:g` formats them.
    """
    if not isinstance(value, int):
        return f"{value:g}"
    if abs(value) < 10 ** EXACT_DIGITS:
        return str(value)
    sign = "-" if value < 0 else ""
    return f"about {sign}1e+{int(math.log10(abs(value)))}"  # math.log10 takes an int of any size


def check_text(name: str, text, max_chars: int) -> str:
    """Refuses non-strings, blank text, over-long text and control characters (other than newline, tab).

    Args:
        name: how the message names the field.
        text: what the caller sent.
        max_chars: the longest text accepted.
    Returns:
        `text`, unchanged.
    Raises:
        InputError: not a string, blank, too long, or with a control character or a lone surrogate.
    """
    if not isinstance(text, str):
        raise InputError(f"{name} must be text")
    if not text.strip():
        raise InputError(f"{name} is empty: type a few words first")
    if len(text) > max_chars:
        raise InputError(f"{name} is too long: {len(text):,} characters, the limit is {max_chars:,}")
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc" and char not in ALLOWED_CONTROL:
            raise InputError(f"{name} contains a control character (U+{ord(char):04X}); remove it")
        # A surrogate in a Python string is always unpaired (JSON's escaped pairs decode to one character):
        # it has no UTF-8 form, so the tokenizer and the page could not take it.
        if category == "Cs":
            raise InputError(f"{name} contains an unpaired surrogate (U+{ord(char):04X}); remove it")
    return text


def check_sampling(request, limits: Limits) -> dict:
    """The sampling fields a request has (of temperature, top-k, top-p, repetition penalty, seed), checked
    alike for every endpoint, in that order.

    Returns:
        {field name: clean value}, for `dataclasses.replace`.
    """
    ranges = {  # field: (name in messages, low, high, integer)
        "temperature": ("temperature", 0, limits.max_temperature, False),
        "top_k": ("top-k", 0, limits.max_top_k, True),
        "top_p": ("top-p", limits.min_top_p, 1, False),
        "repetition_penalty": ("repetition penalty", 1, limits.max_repetition_penalty, False),
        "seed": ("seed", 0, limits.max_seed, True),
    }
    present = {field.name for field in dataclasses.fields(request)}
    clean = {key: check_number(name, getattr(request, key), low, high, integer=integer)
             for key, (name, low, high, integer) in ranges.items() if key in present}
    if "temperature" in clean:
        check_temperature_floor(clean["temperature"], limits)
    return clean


def check_temperature_floor(temperature: float, limits: Limits) -> None:
    """Refuses a temperature between 0 (greedy) and `limits.min_temperature`.

    Refused rather than served as greedy, so that what runs is what was asked for, and the message
    says that 0 is the way to ask for greedy. Below the floor, sampling is greedy in all but name
    (at 0.01, a token 0.1 below the best in logit is e^10 times less likely), and the compiled
    sampler's float32 softmax breaks: below about T = 1e-8, logits × 1/T lose the top token to
    rounding (every weight becomes 0 and the last token of the vocabulary is drawn, text like
    "șșș"), and below 3e-39 1/T is infinite (no text at all). The same floor holds for every
    endpoint and sampler.

    Args:
        temperature: a temperature already checked against its range.
        limits: where the floor is set.
    """
    if 0 < temperature < limits.min_temperature:
        raise InputError(f"temperature must be 0 (greedy) or between {shown_number(limits.min_temperature)} "
                         f"and {shown_number(limits.max_temperature)}, not {shown_number(temperature)}")


def check_language_model(name) -> str:
    """`name`, if the registry has a language model of that name, else InputError naming them."""
    language_models = registry.names(family="language_model")
    if name not in language_models:
        raise InputError(f"unknown model {name!r}; choose one of {', '.join(language_models)}")
    return name


def check_generation(request: GenerationRequest, limits: Limits) -> GenerationRequest:
    """The generation request with clean numbers, or InputError saying what is wrong."""
    check_text("prompt", request.prompt, limits.max_prompt_chars)
    check_language_model(request.model)
    max_tokens = check_number("max tokens", request.max_tokens, 1, limits.max_new_tokens, integer=True)
    return dataclasses.replace(request, max_tokens=max_tokens, **check_sampling(request, limits))


def check_chat(request: ChatRequest, limits: Limits) -> ChatRequest:
    """The chat request with clean numbers and its history as a tuple, or InputError saying what is wrong."""
    check_text("message", request.message, limits.max_message_chars)
    if not isinstance(request.persona, str) or request.persona not in PERSONAS:
        raise InputError(f"unknown persona {request.persona!r}; choose one of {', '.join(PERSONAS)}")
    if request.decoding not in DECODINGS:
        raise InputError(f"unknown decoding {request.decoding!r}; choose one of {', '.join(DECODINGS)}")
    if not isinstance(request.history or (), (list, tuple)):
        raise InputError("history must be a list of messages")
    history = tuple(request.history or ())
    if len(history) > limits.max_history_messages:
        raise InputError(f"history is too long: {len(history):,} messages, the limit is "
                         f"{limits.max_history_messages} (the model reads only the last {CONTEXT_TURNS} turns)")
    for index, entry in enumerate(history):
        _history_text(index, entry, limits.max_message_chars)
    return dataclasses.replace(
        request, history=history,
        beam_width=check_number("beam width", request.beam_width, 1, limits.max_beam_width, integer=True),
        length_penalty=check_number("length penalty", request.length_penalty, 0, limits.max_length_penalty,
                                    integer=False),
        **check_sampling(request, limits))


def check_fill(request: FillRequest, limits: Limits) -> FillRequest:
    """The fill request with a clean top-k, or InputError saying what is wrong (the gap is found by `fill`)."""
    return FillRequest(check_text("sentence", request.sentence, limits.max_sentence_chars),
                       check_number("top-k", request.top_k, 1, limits.max_fill_candidates, integer=True))


CHECKS = {GenerationRequest: check_generation, ChatRequest: check_chat, FillRequest: check_fill}


def check(request, limits: Limits):
    """Any request (generation, chat or fill) with clean numbers, or InputError saying what is wrong."""
    for kind, checker in CHECKS.items():
        if isinstance(request, kind):
            return checker(request, limits)
    raise TypeError(f"not a request: {type(request).__name__}")


def message_text(message) -> str:
    """The text of one history entry: a string, or a Gradio message {"role", "content"}."""
    if isinstance(message, str):
        return message
    if isinstance(message, dict):
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, (list, tuple)):
            texts = [part.get("text", "") if isinstance(part, dict) else part for part in content]
            if all(isinstance(text, str) for text in texts):
                return " ".join(texts)
    raise InputError("each history entry must be text or a {role, content} message")


def _history_text(index: int, entry, max_chars: int) -> str:
    """The text of history entry `index`, checked like a message (an empty reply is allowed)."""
    text = message_text(entry)
    if text.strip():
        check_text(f"history message {index + 1}", text, max_chars)
    return text

