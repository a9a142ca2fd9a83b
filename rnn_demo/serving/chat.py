"""The chatbot's replies: beam search or a streamed reply, with what the model read and looked at."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from ..data.encoding import seq2seq_example
from ..decoding import StopReason, attention_map, seq2seq_beam_search, stream, teacher_forced
from ..models.numpy_step import EncoderMemory
from ..sampling import Sampler, SamplingSettings
from ..tokenizer import BOS_ID, EOS_ID, Tokenizer
from .generation import readable_piece
from .requests import CONTEXT_TURNS, PERSONAS, ChatRequest, message_text


# --- input in another language ----------------------------------------------------------
# The models read English only (Shakespeare's and today's). A message in another language gets a
# short reply saying so, in the persona's voice, instead of the model's guess ("Goodbye!").

LANGUAGE_REPLIES = {"modern": "Sorry, I only speak English.", "shakespeare": "Alas, good friend, I speak but English."}
NON_LATIN_SHARE = 0.5  # of a message's letters: above this share in other scripts, it is not English
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")
_ACCENTED = re.compile(r"[áéíóúñüßçãõêâàèìòùäöåæøı]")  # letters English words rarely have
_INVERTED_MARKS = re.compile(r"[¿¡]")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# Common words of the Latin-script languages the chatterbot corpus has, that are not English words.
FOREIGN_WORDS = frozenset("""
    qué que es el los las una eres estás cómo por para tú yo soy hola gracias buenos buenas días dónde
    cuál tienes puedes sí muy bien nombre llamas te se de la en un y con lo mi su del al ti usted hacer
    puedo tengo quiero estoy cuánto dinero son
    je tu est le les des une vous qui pas et comment êtes suis c'est qu'est bonjour merci oui avec pour
    ça quoi appelles salut du au avez ai tes mes ce sont peux fait faire ne
    ich du bist nicht und der das ist wie ein eine sie wir hallo danke heißt bitte ja nein guten
    dich mich mir dir kannst hast habe sind zu mit auf für es
    il che di sei cosa ciao grazie chi perché ti chiami questo hai ho sai fare della
    você não os um eu como está tudo bem olá obrigado obrigada oi seu qual
    ik je het een niet wat hoe ben jij hoi dank bedankt heet
    jag är och inte vad hur hej tack heter
    ve bir bu ne mi nasılsın merhaba teşekkürler nedir sen ben
    apa kamu saya yang tidak ini itu siapa bagaimana terima kasih halo aku anda dengan untuk bisa sudah
    akan juga tahu mau kenapa sangat suka tentang
    wat zijn dat heb hebt kun maar ook mijn jouw waarom doe ga wil
    le una sei lo gli anche molto bene fai puoi posso voglio dove quando perche niente
    da em voce tem muito sou fazer pode meu minha nada vai
    için var yok çok musun misin neden nasıl benim seni beni
    det ett att har vill mig dig min din varför
""".split())
ENGLISH_WORDS = frozenset("""
    the is are you what how i a of to and in it my your do me who where why can tell about please this
    that am was be have know like we they he she not with for on at from an hi hello thanks bye
""".split())


def is_other_language(message: str) -> bool:
    """Whether a message is written in a language other than English: mostly letters of other
    scripts (Chinese, Cyrillic, Arabic…), Spanish question or exclamation marks, or more than twice
    as many words of another Latin-script language (its common words, or words with accented
    letters) as common English words (two or more, or one in a message of one or two words)."""
    letters = [char for char in message if char.isalpha()]
    if not letters:
        return False
    latin = sum(bool(_LATIN.match(char)) for char in letters)
    if 1 - latin / len(letters) > NON_LATIN_SHARE:
        return True
    words = [word.lower() for word in _WORD.findall(message)]
    foreign = sum(word in FOREIGN_WORDS for word in words)
    english = sum(word in ENGLISH_WORDS for word in words)
    foreign += sum(bool(_ACCENTED.search(word)) and word not in FOREIGN_WORDS for word in words)
    if _INVERTED_MARKS.search(message):  # "¿Qué …?", "¡Hola!"
        return True
    return foreign > 2 * english and (foreign >= 2 or len(words) <= 2)


def language_reply(message: str, persona: str) -> str | None:
    """The reply to a message in another language (which language the models speak); None for English."""
    return LANGUAGE_REPLIES[persona] if is_other_language(message) else None


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
    # The model's own confidence: mean log-probability per token of the reply it wrote (None: no model
    # reply, e.g. the other-language rule answered); `unsure` when it is below the checkpoint's threshold.
    confidence: float | None = None
    unsure: bool = False


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
    fixed = language_reply(request.message, request.persona)
    if fixed is not None:
        yield ChatReply(text=fixed, done=True, notes=[OTHER_LANGUAGE_NOTE])
        return
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
    confidence = reply_confidence(numpy_model, decoded.memory, tokens)
    threshold = unsure_threshold(loaded.checkpoint.meta)
    unsure = threshold is not None and confidence < threshold
    notes = [_context_note(tokenizer, turns, config.max_source_tokens),
             _cut_note(decoded.stop_reason, len(tokens), deadline_s),
             UNSURE_NOTE.format(confidence=math.exp(confidence)) if unsure else None]
    yield ChatReply(
        text=tokenizer.decode(tokens), done=True,
        source_pieces=[readable_piece(tokenizer.piece(i)) for i in source],
        reply_pieces=[readable_piece(tokenizer.piece(i)) for i in tokens],
        attention=attention_map(numpy_model, decoded.memory, BOS_ID, tokens), candidates=decoded.candidates,
        notes=[note for note in notes if note], confidence=confidence, unsure=unsure)


OTHER_LANGUAGE_NOTE = ("Your message looks written in another language: the chatbot reads English only, "
                       "so a fixed rule answered, not the model.")
UNSURE_NOTE = ("The chatbot is not sure of this reply: it gave its words {confidence:.0%} probability each "
               "on average, less than its replies that held-out checks found right usually get.")
UNSURE_THRESHOLD_KEY = "unsure_threshold"  # in config.json's metrics: mean log-probability per token


def reply_confidence(numpy_model, memory, tokens: list[int]) -> float:
    """The model's own confidence in a reply: the mean log-probability per token of `tokens` and the
    end symbol, teacher-forced (the same whether the reply was found by beam search, greedy or sampling)."""
    log_probs, _ = teacher_forced(numpy_model, memory, BOS_ID, [*tokens, EOS_ID])
    return float(log_probs.mean()) if len(log_probs) else 0.0


def unsure_threshold(meta: dict) -> float | None:
    """The checkpoint's threshold on `reply_confidence` (chosen on validation data), or None if it has none."""
    value = (meta.get("metrics") or {}).get(UNSURE_THRESHOLD_KEY)
    return float(value) if value is not None else None


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
