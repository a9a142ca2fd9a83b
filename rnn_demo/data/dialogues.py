"""Chatbot dialogue data: (context, reply) exchanges from chats, country facts and plays."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Callable

from . import chat_kinds, corpora, everyday

MODERN = "modern"
SHAKESPEARE = "shakespeare"
SOURCES = ("chat", "facts", "plays", "smalltalk", "everyday", "kinds")  # also the order of `exchanges`

MAX_CONTEXT_TURNS = 3
MAX_SPEECH_CHARS = 300
MAX_LANGUAGES_LISTED = 3
MAX_NEIGHBOURS_LISTED = 4


@dataclass(frozen=True)
class Exchange:
    """One reply to a conversation so far."""

    persona: str  # "modern" or "shakespeare"
    context: tuple[str, ...]  # previous turns, oldest first; the last is the message answered
    reply: str
    source: str  # one of SOURCES
    template: str = ""  # the question phrasing's id, e.g. "capital/3"; for "kinds", the Talk's template


# --- modern chat -----------------------------------------------------------------------


def _is_dialogue(turns: tuple[str, ...]) -> bool:
    # One corpus entry is a string split into characters, with "" for its spaces.
    return all(turns)


def chat_exchanges(split: str) -> tuple[Exchange, ...]:
    """Every turn after the first of each chatterbot conversation, with up to 3 turns before it.

    Args:
        split: "train" or "validation" (conversations held out by `corpora.chat_split`).

    Returns:
        Exchanges of the "modern" persona, in corpus order.
    """
    corpora.check_split(split)
    found = []
    for turns in filter(_is_dialogue, corpora.chat_split(split)):
        for i in range(1, len(turns)):
            context = turns[max(0, i - MAX_CONTEXT_TURNS):i]
            found.append(Exchange(MODERN, context, turns[i], "chat"))
    return tuple(found)


# --- country facts ---------------------------------------------------------------------


def _listing(items: list[str], limit: int, others: str) -> str:
    """"A", "A and B", "A, B and C", or "A, B and 3 other countries" past `limit` items."""
    if len(items) <= limit + 1:  # never "and 1 other countries"
        shown = list(items)
    else:
        shown = [*items[:limit], f"{len(items) - limit} other {others}"]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _capital_answer(fact: dict) -> str:
    return f"The capital of {fact['name']} is {fact['capital']}."


def _region_answer(fact: dict) -> str:
    return f"{fact['name']} is in {fact['subregion'] or fact['region']}."


def _demonym_answer(fact: dict) -> str:
    return f"People from {fact['name']} are called {fact['demonym']}."


def _currency_answer(fact: dict) -> str:
    currencies = fact["currencies"]
    if len(currencies) == 1:
        return f"The currency of {fact['name']} is the {currencies[0]}."
    named = _listing([f"the {currency}" for currency in currencies], len(currencies), "currencies")
    return f"The currencies of {fact['name']} are {named}."


def _languages_answer(fact: dict) -> str:
    spoken = _listing(fact["languages"], MAX_LANGUAGES_LISTED, "languages")
    return f"People in {fact['name']} speak {spoken}."


def _neighbours_answer(fact: dict) -> str:
    neighbours = _listing(fact["borders"], MAX_NEIGHBOURS_LISTED, "countries")
    return f"{fact['name']} borders {neighbours}."


@dataclass(frozen=True)
class FactQuestions:
    """The ways to ask for one kind of fact, and how to answer them."""

    kind: str  # the template id prefix, e.g. "capital"
    field: str  # the fact's field the answer needs; countries where it is empty are skipped
    phrasings: tuple[str, ...]  # `{name}` is the country; ids are "kind/index"
    held_out: tuple[int, ...]  # indices of the phrasings kept for validation
    answer: Callable[[dict], str]

    def template(self, index: int) -> str:
        return f"{self.kind}/{index}"


# Phrasings 0-11 of "capital" came first; the later ones were added when the first chatbot that
# knew every capital still failed two held-out phrasings ("Do you know the capital of …?",
# "Can you tell me what the capital of … is?": 35% right). The held-out capital phrasings stay
# unseen; their frames ("Do you know …", "Can you tell me what … is") now occur with other facts.
FACT_QUESTIONS = (
    FactQuestions("capital", "capital", (
        "What is the capital of {name}?",
        "what's the capital city of {name}",
        "Which city is the capital of {name}?",
        "Tell me the capital of {name}.",
        "{name}'s capital?",
        "capital of {name}?",
        "Name the capital of {name}.",
        "Where is the seat of government of {name}?",
        "Do you know the capital of {name}?",
        "What city is {name}'s capital?",
        "Can you tell me what the capital of {name} is?",
        "What's the capital of {name}?",
        "Could you tell me the capital of {name}?",
        "I'd like to know the capital of {name}.",
        "I wonder what the capital of {name} is.",
        "Any idea what {name}'s capital is?",
        "Please tell me the capital city of {name}.",
        "And the capital of {name}?",
    ), held_out=(2, 8, 10), answer=_capital_answer),
    FactQuestions("region", "region", (
        "Where is {name}?",
        "Where is {name} located?",
        "Which part of the world is {name} in?",
        "What region is {name} in?",
        "where in the world is {name}",
        "In which region of the world is {name}?",
        "Where can I find {name} on a map?",
        "{name} is in which region?",
        "Do you know where {name} is?",
        "Can you tell me where {name} is?",
    ), held_out=(2, 6), answer=_region_answer),
    FactQuestions("demonym", "demonym", (
        "What do you call people from {name}?",
        "What are people from {name} called?",
        "What is the demonym for {name}?",
        "How do you call someone from {name}?",
        "what are the people of {name} called",
        "What is a person from {name} called?",
        "Someone from {name} is called what?",
        "What word describes the people of {name}?",
        "Do you know what people from {name} are called?",
        "Can you tell me what the people of {name} are called?",
    ), held_out=(3, 6), answer=_demonym_answer),
    FactQuestions("currency", "currencies", (
        "What is the currency of {name}?",
        "What money do they use in {name}?",
        "Which currency is used in {name}?",
        "what's the currency in {name}",
        "What do people pay with in {name}?",
        "currency of {name}?",
        "What money should I bring to {name}?",
        "Tell me the currency of {name}.",
        "Do you know the currency of {name}?",
        "Can you tell me what the currency of {name} is?",
    ), held_out=(2, 6), answer=_currency_answer),
    FactQuestions("languages", "languages", (
        "What language do they speak in {name}?",
        "Which languages are spoken in {name}?",
        "What do people speak in {name}?",
        "what languages are spoken in {name}",
        "What is the language of {name}?",
        "Which language is spoken in {name}?",
        "What language do people in {name} speak?",
        "Tell me the languages of {name}.",
        "Do you know the language of {name}?",
        "Can you tell me what the language of {name} is?",
    ), held_out=(2, 6), answer=_languages_answer),
    FactQuestions("neighbours", "borders", (
        "Which countries border {name}?",
        "What are the neighbours of {name}?",
        "What countries are next to {name}?",
        "Who are {name}'s neighbours?",
        "which countries share a border with {name}",
        "What does {name} border?",
        "Name the neighbours of {name}.",
        "What are the neighbouring countries of {name}?",
        "Do you know the neighbours of {name}?",
        "Can you tell me what the neighbours of {name} are?",
    ), held_out=(2, 6), answer=_neighbours_answer),
)


def _phrasings(questions: FactQuestions, split: str) -> list[int]:
    """Indices of the phrasings of `split`: the held-out ones for validation, the rest for train."""
    held_out = split == "validation"
    return [i for i in range(len(questions.phrasings)) if (i in questions.held_out) == held_out]


def _fact_exchanges(fact: dict, questions: FactQuestions, split: str) -> list[Exchange]:
    if not fact[questions.field]:
        return []
    reply = questions.answer(fact)
    found = []
    for i in _phrasings(questions, split):
        phrasing = questions.phrasings[i]
        found.append(Exchange(MODERN, (phrasing.format(name=fact["name"]),), reply, "facts", questions.template(i)))
        # The Shakespearean persona answers facts too, in its own voice ("Marry, the capital of Peru is Lima.").
        found.append(Exchange(SHAKESPEARE, (phrasing.format(name=fact["name"]),),
                              chat_kinds.shakespearean(reply, phrasing + fact["name"]), "facts", questions.template(i)))
        if split == "train" and (phrasing[0].islower() or questions.kind == "capital"):
            # As people type: the name in lowercase in lowercase phrasings, and every capital
            # question all in lowercase (held-out lowercase capitals: 6% right before, 60% after
            # the first of these, the name-only one).
            lowered = phrasing.format(name=fact["name"].lower())
            found.append(Exchange(MODERN, (lowered if phrasing[0].islower() else lowered.lower(),), reply,
                                  "facts", questions.template(i)))
    return found


def country_exchanges(split: str) -> tuple[Exchange, ...]:
    """Questions about every country with full-sentence answers from its facts.

    Args:
        split: "train" (the phrasings not held out) or "validation" (only the held-out ones);
            both cover every country.

    Returns:
        Exchanges of the "modern" persona, by country, then fact kind, then phrasing.
    """
    corpora.check_split(split)
    found = []
    for fact in corpora.country_facts():
        for questions in FACT_QUESTIONS:
            found.extend(_fact_exchanges(fact, questions, split))
    return tuple(found)


def capital_answer_is_correct(reply: str, fact: dict) -> bool:
    """Whether `reply` names the country's capital (case-insensitive)."""
    return fact["capital"].casefold() in reply.casefold()


def heldout_capital_questions(*, lowercase: bool = False) -> list[tuple[str, dict]]:
    """(question, fact) for every held-out capital phrasing and every country: answer accuracy.

    Args:
        lowercase: the whole question in lowercase, as people type ("which city is the capital of peru?").
    """
    capital = next(questions for questions in FACT_QUESTIONS if questions.kind == "capital")
    return [
        (question.lower() if lowercase else question, fact)
        for fact in corpora.country_facts()
        for i in capital.held_out
        for question in [capital.phrasings[i].format(name=fact["name"])]
    ]


# --- Shakespearean dialogue ------------------------------------------------------------

def _fits(text: str) -> bool:
    return 0 < len(text) <= MAX_SPEECH_CHARS


def _scene_exchanges(scene: list[corpora.Speech]) -> list[Exchange]:
    return [
        Exchange(SHAKESPEARE, (said.text,), answer.text, "plays")
        for said, answer in zip(scene, scene[1:])
        if said.speaker != answer.speaker and _fits(said.text) and _fits(answer.text)
    ]


@functools.lru_cache(maxsize=None)
def play_exchanges(split: str) -> tuple[Exchange, ...]:
    """Consecutive speeches by different speakers in one scene, each side ≤ 300 characters.

    Args:
        split: "train" or "validation" (the plays of `corpora.play_split`).

    Returns:
        Exchanges of the "shakespeare" persona, by play (sorted by name), in play order.
    """
    corpora.check_split(split)
    return tuple(
        exchange
        for play in corpora.play_split(split)
        for scene in corpora.scenes(play.text)
        for exchange in _scene_exchanges(scene)
    )


# --- small talk ------------------------------------------------------------------------
# The chat corpus holds a handful of greetings, so the first chatbots answered "Good morning!"
# with "I've". Greetings, farewells and thanks are built here from parts, with replies in both
# voices; a fixed fifth of the messages (by hash), and every message in `GREETINGS`,
# is held out to measure whether the kind of reply is right for messages never trained on.

GREETING, WELLBEING, THANKS, FAREWELL = "greeting", "wellbeing", "thanks", "farewell"
SMALLTALK_HELD_OUT_PERCENT = 20

_HELLOS = ("Hello", "Hi", "Hey", "Hiya", "Howdy", "Greetings", "Hello again", "Hey hey", "Heya")
_TIMES = {"morning": ("Good morning", "Morning"), "afternoon": ("Good afternoon", "Afternoon"),
          "evening": ("Good evening", "Evening"), "day": ("Good day", "G'day")}
_ADDRESSES = ("", " there", " friend", " everyone", " bot", " buddy", " you", " my friend")
_ENDINGS = ("", "!", ".", "!!")
_ASK_WELLBEING = (", how are you?", "! How are you doing?", ", how's it going?", "! How have you been?",
                  ", how are things?")
_ASK_WELLBEING_ALONE = ("How are you?", "How are you doing?", "How's it going?", "How have you been?",
                        "How are things?", "How are you today?", "Are you well?", "How do you feel today?",
                        "How is your day going?", "How are you doing today?")
_MEETS = (", nice to meet you", "! Pleased to meet you.", ", good to see you")
_THANKS = ("Thank you", "Thanks", "Thanks a lot", "Thank you so much", "Many thanks", "Thank you very much",
           "Thanks for your help", "Thanks for the help", "Thank you for your help", "Thanks so much",
           "Cheers, thanks", "Much appreciated")
_FAREWELLS = ("Bye", "Goodbye", "Bye bye", "See you later", "See you", "Farewell", "Talk to you later",
              "Catch you later", "I have to go now", "I'm off", "See you soon", "Take care", "Good night",
              "Have a nice day", "So long")

# Replies: the first list for the modern persona, the second for the Shakespearean one.
_HELLO_REPLIES = (("Hello!", "Hi there!", "Hello! How can I help you?", "Hi! What shall we talk about?"),
                  ("Good morrow to you!", "Well met, friend!", "God save you, sir!", "Good day, good sir."))
_TIME_REPLIES = {"morning": (("Good morning!", "Good morning to you too!"), ("Good morrow!", "Good morrow, friend.")),
                 "afternoon": (("Good afternoon!", "Good afternoon to you too!"), ("Good den, sir!", "God ye good den.")),
                 "evening": (("Good evening!", "Good evening to you too!"), ("Good even, friend!", "Good even to you.")),
                 "day": (("Good day to you!", "Hello, good day!"), ("Good day, good sir.", "Good day to you!"))}
_WELLBEING_REPLIES = (("I am doing well, thank you. How are you?", "Very well, thanks. And you?",
                       "I'm fine, thank you. How about you?"),
                      ("Well, I thank you. How fare you?", "I am well, sir. And you?", "Very well, I thank you."))
_MEET_REPLIES = (("Nice to meet you too!", "Good to meet you as well."), ("Well met, sir!", "The pleasure is mine."))
_THANKS_REPLIES = (("You're welcome!", "My pleasure.", "Glad I could help!", "You are welcome."),
                   ("You are welcome, sir.", "'Tis nothing, friend.", "No thanks are due, good sir."))
_FAREWELL_REPLIES = (("Goodbye!", "Bye! Talk to you soon.", "See you later!", "Take care, goodbye!"),
                     ("Farewell!", "Adieu, adieu!", "Farewell, good friend.", "Fare you well, sir."))
_GOOD_NIGHT_REPLIES = (("Good night!", "Good night, sleep well!"), ("Good night, sweet friend.", "Good night, sir."))

# Words whose presence makes a reply of each kind (lowercase, matched as whole words or phrases).
SMALLTALK_MARKERS = {
    GREETING: ("hello", "hi", "hey", "greetings", "good morning", "good afternoon", "good evening", "good day",
               "good morrow", "well met", "good den", "good even", "god save you"),
    WELLBEING: ("well", "fine", "good", "great"),
    THANKS: ("welcome", "pleasure", "glad", "no thanks", "'tis nothing"),
    FAREWELL: ("bye", "goodbye", "farewell", "adieu", "good night", "see you", "fare you well", "take care"),
}


@dataclass(frozen=True)
class SmallTalk:
    """One small-talk message, the kind of reply it asks for, and a reply in each persona."""

    message: str
    kind: str  # GREETING, WELLBEING, THANKS or FAREWELL
    replies: tuple[str, str]  # (modern, shakespeare)


def _pick(options: tuple[str, ...], key: str) -> str:
    return options[corpora._stable_bucket(key) % len(options)]


def _replies(choices: tuple[tuple[str, ...], tuple[str, ...]], message: str) -> tuple[str, str]:
    return _pick(choices[0], message), _pick(choices[1], message)


def _greetings() -> list[SmallTalk]:
    openers = [(hello, _HELLO_REPLIES) for hello in _HELLOS]
    openers += [(opener, _TIME_REPLIES[time]) for time, names in _TIMES.items() for opener in names]
    found = []
    for opener, replies in openers:
        for address in _ADDRESSES:
            for ending in _ENDINGS:
                message = opener + address + ending
                found.append(SmallTalk(message, GREETING, _replies(replies, message)))
            for tails, tail_replies in ((_ASK_WELLBEING, _WELLBEING_REPLIES), (_MEETS, _MEET_REPLIES)):
                for tail in tails:  # "Hi there, how are you?" → a short hello, then the answer
                    message = opener + address + tail
                    modern, old = _replies((replies[0][:2], replies[1]), message)
                    answer = _replies(tail_replies, message)
                    found.append(SmallTalk(message, GREETING, (f"{modern} {answer[0]}", f"{old} {answer[1]}")))
    return found


def _phrases(parts: tuple[str, ...], kind: str, replies) -> list[SmallTalk]:
    return [SmallTalk(part + address + ending, kind, _replies(replies(part), part + address + ending))
            for part in parts for address in _ADDRESSES for ending in _ENDINGS]


@functools.lru_cache(maxsize=None)
def smalltalk() -> tuple[SmallTalk, ...]:
    """Every small-talk message built from the parts above, with lowercase twins of some."""
    found = _greetings()
    found += [SmallTalk(ask, WELLBEING, _replies(_WELLBEING_REPLIES, ask)) for ask in _ASK_WELLBEING_ALONE]
    found += _phrases(_THANKS, THANKS, lambda part: _THANKS_REPLIES)
    found += _phrases(_FAREWELLS, FAREWELL,
                      lambda part: _GOOD_NIGHT_REPLIES if part == "Good night" else _FAREWELL_REPLIES)
    lowered = [SmallTalk(talk.message.lower(), talk.kind, talk.replies) for talk in found
               if corpora._stable_bucket("lower " + talk.message) < 30]
    unique = {talk.message: talk for talk in found + lowered}
    return tuple(unique.values())


# Greetings a person types first; held out so that the chatbot's metrics show how it answers them.
GREETINGS = ("Hello", "Hi, how are you?", "Good morning!", "Hey there")
# Also held out, whatever their hash: a question of each kind with few messages (wellbeing has ten).
ALSO_HELD_OUT = ("How is your day going?",)


def _smalltalk_split(talk: SmallTalk) -> str:
    # By the message as compared (`everyday.normalised`): "Hi friend", "hi friend!" and "Hi friend."
    # are one message, all trained or all held out.
    message = everyday.normalised(talk.message)
    held_out = (message in {everyday.normalised(greeting) for greeting in GREETINGS + ALSO_HELD_OUT}
                or corpora._stable_bucket("smalltalk " + message) < SMALLTALK_HELD_OUT_PERCENT)
    return "validation" if held_out else "train"


def smalltalk_of(split: str) -> tuple[SmallTalk, ...]:
    """The small-talk messages of `split` (validation: a fifth by hash, plus `GREETINGS` and `ALSO_HELD_OUT`)."""
    corpora.check_split(split)
    return tuple(talk for talk in smalltalk() if _smalltalk_split(talk) == split)


def smalltalk_exchanges(split: str) -> tuple[Exchange, ...]:
    """Each small-talk message of `split` answered in both personas, alone and after an earlier exchange
    (`_after_earlier`)."""
    found = []
    for talk in smalltalk_of(split):
        for p, (persona, reply) in enumerate(zip((MODERN, SHAKESPEARE), talk.replies)):
            found.append(Exchange(persona, (talk.message,), reply, "smalltalk", talk.kind))
            context = _after_earlier(split, p, talk.message)
            if context:
                found.append(Exchange(persona, context, reply, "smalltalk", talk.kind))
    return tuple(found)


def reply_kind_is_right(reply: str, kind: str) -> bool:
    """Whether `reply` contains a word or phrase of its kind (`SMALLTALK_MARKERS`), e.g. a greeting."""
    words = " " + " ".join(re.findall(r"[a-z']+", reply.lower())) + " "
    return any(f" {marker} " in words for marker in SMALLTALK_MARKERS[kind])


# --- everyday conversations and the kinds of message visitors type ----------------------


@functools.lru_cache(maxsize=None)
def everyday_exchanges(split: str) -> tuple[Exchange, ...]:
    """Each short plain turn of the everyday conversations of `split`, with up to 2 turns before it.

    Args:
        split: "train" or "validation" (`everyday.conversation_split`; the test conversations are never read here).

    Returns:
        Exchanges of the "modern" persona, in corpus order.
    """
    corpora.check_split(split)
    found = []
    for conversation in everyday.conversation_split(split):
        turns = conversation.turns
        for i in range(1, len(turns)):
            context = turns[max(0, i - MAX_CONTEXT_TURNS):i]
            if everyday.reply_fits(turns[i]) and all(everyday.is_plain_text(turn) for turn in context):
                found.append(Exchange(MODERN, context, turns[i], "everyday"))
    return tuple(found)


@functools.lru_cache(maxsize=None)
def kind_exchanges(split: str) -> tuple[Exchange, ...]:
    """The messages of `chat_kinds` of `split` (self, feelings, likes, jokes, facts, follow-ups), in both
    voices, each single message also after an unrelated earlier exchange of the same split."""
    corpora.check_split(split)
    found = []
    for talk in chat_kinds.talk_of(split):
        for p, (persona, reply) in enumerate(zip((MODERN, SHAKESPEARE), talk.replies)):
            found.append(Exchange(persona, talk.context, reply, "kinds", talk.template))
            context = _after_earlier(split, p, talk.context[0]) if len(talk.context) == 1 else None
            if context:
                found.append(Exchange(persona, context, reply, "kinds", talk.template))
    return tuple(found)


@functools.lru_cache(maxsize=None)
def _earlier_exchanges(split: str) -> tuple[tuple, tuple]:
    """(message, replies in both voices) of every single-message kind of `split`, and of its small talk."""
    kinds = tuple((talk.context[0], talk.replies) for talk in chat_kinds.talk_of(split) if len(talk.context) == 1)
    return kinds, tuple((talk.message, talk.replies) for talk in smalltalk_of(split))


def _after_earlier(split: str, persona_index: int, message: str) -> tuple[str, str, str] | None:
    """`message` after an unrelated exchange of `split` (its message and the reply in the same voice), or
    None when the one drawn is the message itself.

    A page's chat has history: the first chatbots answered every second message "I am not.", and one
    whose earlier turns came from the kinds alone answered "Who are you?" after "Hello" / "Hey!" with
    "I'm doing great." (issue 13). Half the earlier exchanges are small talk, as in a visitor's chat.
    """
    draw = corpora._stable_hash(f"earlier {persona_index} {message}")
    pool = _earlier_exchanges(split)[draw % 2]
    earlier_message, replies = pool[(draw // 2) % len(pool)]
    if earlier_message == message:
        return None
    return earlier_message, replies[persona_index], message


# --- everything ------------------------------------------------------------------------

_BY_SOURCE = {"chat": chat_exchanges, "facts": country_exchanges, "plays": play_exchanges,
              "smalltalk": smalltalk_exchanges, "everyday": everyday_exchanges, "kinds": kind_exchanges}


def exchanges(split: str) -> tuple[Exchange, ...]:
    """All exchanges of `split`, source after source in the order of SOURCES."""
    return tuple(exchange for source in SOURCES for exchange in _BY_SOURCE[source](split))


def summary() -> dict[str, dict[str, int]]:
    """Number of exchanges per split and source, e.g. `{"train": {"chat": …, …}, …}`."""
    return {
        split: {source: len(_BY_SOURCE[source](split)) for source in SOURCES} for split in corpora.SPLITS
    }


def exchanges_of(source: str, split: str) -> tuple[Exchange, ...]:
    """The exchanges of one source (one of SOURCES) and split."""
    if source not in _BY_SOURCE:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    return _BY_SOURCE[source](split)
