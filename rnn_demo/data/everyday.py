"""Everyday English written by people: the conversations of the `chitchat-dataset` package.

7,168 typed conversations between two people (the BYU Chit-Chat Challenge, MIT licence), read
from the package's `dataset.json`. Whole conversations are split by a stable hash of their id:
a tenth is held out, half of it for validation (early stopping, calibration, the chatbot's
"unsure" threshold) and half for the fixed test sets in `data/heldout/` (never trained on,
never used to choose anything). A sentence typed in a test conversation is left out of the
training and validation sentences wherever else it occurs (`sentences`, compared `normalised`).
"""
from __future__ import annotations

import functools
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path

from . import corpora

PACKAGE = "chitchat_dataset"
TEST_BUCKETS = range(0, 5)  # of 100, by the hash of a conversation's id: the fixed test sets
VALIDATION_BUCKETS = range(5, 10)
MAX_TURN_CHARS = 300
SENTENCE_WORDS = (4, 20)  # (fewest, most) words of a gap sentence
MAX_REPLY_WORDS = 16  # longer turns are not used as chatbot replies
_URL_OR_CODE = re.compile(r"https?:|www\.|[<>{}\[\]|\\=*#@]")
_LETTERS = re.compile(r"[A-Za-z]")
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Conversation:
    """One typed conversation: its id in the package and its turns, oldest first."""

    key: str
    turns: tuple[str, ...]  # each turn joins one person's consecutive messages with a space


def _package_dir() -> Path:
    """The installed package's folder, found without importing it (its import reads nothing, but need not run)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the '{PACKAGE.replace('_', '-')}' package is not installed: "
                                "pip install -r requirements.txt")
    return Path(list(spec.submodule_search_locations)[0])


def _clean(text: str) -> str:
    return " ".join(text.split())


@functools.lru_cache(maxsize=None)
def conversations() -> tuple[Conversation, ...]:
    """Every conversation of the package, sorted by id; turns stripped of runs of spaces."""
    data = json.loads((_package_dir() / "dataset.json").read_text(encoding="utf-8"))
    found = []
    for key in sorted(data):
        turns = tuple(_clean(" ".join(message["text"] for message in turn)) for turn in data[key]["messages"])
        found.append(Conversation(key, tuple(turn for turn in turns if turn)))
    return tuple(found)


def bucket(conversation: Conversation) -> int:
    """0–99, fixed by the conversation's id: which split it belongs to."""
    return corpora._stable_bucket("everyday " + conversation.key)


def split_of(conversation: Conversation) -> str:
    """"test" (the fixed held-out files), "validation" or "train"."""
    position = bucket(conversation)
    if position in TEST_BUCKETS:
        return "test"
    return "validation" if position in VALIDATION_BUCKETS else "train"


def conversation_split(split: str) -> tuple[Conversation, ...]:
    """The conversations of `split`: "train", "validation", or "test" (only `data/heldout` reads it)."""
    if split != "test":
        corpora.check_split(split)
    return tuple(conversation for conversation in conversations() if split_of(conversation) == split)


def is_plain_text(text: str) -> bool:
    """Typed English prose: letters, no links, markup or code, not too long."""
    return (len(text) <= MAX_TURN_CHARS and bool(_LETTERS.search(text)) and not _URL_OR_CODE.search(text)
            and text.isascii())


def normalised(text: str) -> str:
    """`text` as compared for overlap between trained and held-out data: lowercase, apostrophes dropped,
    other punctuation and runs of spaces as one space ("What's up?!" and "whats up" are the same)."""
    return " ".join(_NOT_WORD.split(text.lower().replace("'", "").replace("\u2019", ""))).strip()


def _sentences_of(found_in: tuple[Conversation, ...]) -> tuple[str, ...]:
    """Distinct sentences of 4–20 words from the plain-text turns of `found_in`, in corpus order."""
    from .fill_sentences import WORD, sentences as split_sentences

    found: dict[str, None] = {}
    for conversation in found_in:
        for turn in filter(is_plain_text, conversation.turns):
            for sentence in split_sentences(turn):
                if SENTENCE_WORDS[0] <= len(WORD.findall(sentence)) <= SENTENCE_WORDS[1]:
                    found.setdefault(sentence)
    return tuple(found)


@functools.lru_cache(maxsize=None)
def test_sentences() -> tuple[str, ...]:
    """The sentences of the test conversations: only `data/heldout` samples them, and `sentences` leaves them out."""
    return _sentences_of(conversation_split("test"))


@functools.lru_cache(maxsize=None)
def sentences(split: str) -> tuple[str, ...]:
    """Distinct sentences of 4–20 words from the conversations of `split` ("train" or "validation"), in
    corpus order, without any sentence that also occurs (`normalised`) in a test conversation: the same
    sentence is often typed in several conversations, and the fixed test gaps are never trained on."""
    corpora.check_split(split)
    held_out = {normalised(sentence) for sentence in test_sentences()}
    return tuple(sentence for sentence in _sentences_of(conversation_split(split))
                 if normalised(sentence) not in held_out)


def reply_fits(turn: str) -> bool:
    """Whether a turn can be a chatbot reply: plain text of at most `MAX_REPLY_WORDS` words."""
    return is_plain_text(turn) and len(turn.split()) <= MAX_REPLY_WORDS
