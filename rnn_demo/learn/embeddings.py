"""A language model's embedding space: nearest pieces of a word, and a 2-D PCA map of the frequent pieces.

Kinds on the map, by simple rules on a piece's text (spaces stripped), checked in this order:
- punctuation: every character is a punctuation mark;
- name: a capitalised word whose lower-case form is a word of some speaker's name in the plays
  (e.g. "Romeo", "Antonio");
- verb?: a lower-case word ending in -eth, -est, -ing or -ed (a suffix rule: it catches many verbs,
  "speaketh", "loving", and some others, hence the question mark);
- other: the rest.
"""
from __future__ import annotations

import functools
import string

import numpy as np

from ..data import corpora

KINDS = ("punctuation", "name", "verb?", "other")
VERB_SUFFIXES = ("eth", "est", "ing", "ed")
MAP_PIECES = 300
NEIGHBOURS = 10
FREQUENCY_SAMPLE_CHARS = 200_000  # of the training plays, to rank the pieces by frequency
MIN_VERB_LETTERS = 5


@functools.lru_cache(maxsize=1)
def speaker_words() -> frozenset[str]:
    """Lower-case words of the speakers' names in the plays (e.g. "romeo", "citizen")."""
    words = set()
    for play in corpora.plays():
        for scene in corpora.scenes(play.text):
            words.update(word.lower() for speech in scene for word in speech.speaker.split() if len(word) > 2)
    return frozenset(words)


def kind_of(piece: str) -> str:
    """The piece's kind by the rules of the module docstring."""
    text = piece.strip()
    if text and all(ch in string.punctuation for ch in text):
        return "punctuation"
    if text.isalpha() and text[0].isupper() and text[1:].islower() and text.lower() in speaker_words():
        return "name"
    if text.isalpha() and text.islower() and len(text) >= MIN_VERB_LETTERS and text.endswith(VERB_SUFFIXES):
        return "verb?"
    return "other"


def word_vector(embedding: np.ndarray, ids: list[int]) -> np.ndarray:
    """A word's vector: the mean of its pieces' embeddings (a one-piece word: its own)."""
    if not ids:
        raise ValueError("the word has no pieces")
    return embedding[ids].mean(axis=0)


def neighbours(embedding: np.ndarray, tokenizer, word: str, k: int = NEIGHBOURS) -> list[tuple[str, float]]:
    """The k pieces nearest to `word` by cosine similarity (its own pieces left out), with their similarity."""
    ids = tokenizer.encode(word)
    vector = word_vector(embedding, ids)
    norms = np.linalg.norm(embedding, axis=1) * np.linalg.norm(vector)
    similarity = embedding @ vector / np.maximum(norms, 1e-9)
    order = [i for i in np.argsort(-similarity) if i not in ids and tokenizer.piece_texts[i]]
    return [(tokenizer.piece_texts[i], round(float(similarity[i]), 3)) for i in order[:k]]


def frequent_pieces(tokenizer, count: int = MAP_PIECES) -> list[int]:
    """The `count` commonest word pieces (with text) in the start of the training plays."""
    counts = np.zeros(tokenizer.vocab_size, np.int64)
    budget = FREQUENCY_SAMPLE_CHARS
    for play in corpora.play_split("train"):
        ids = tokenizer.encode(play.text[:budget])
        np.add.at(counts, ids, 1)
        budget -= min(budget, len(play.text))
        if budget <= 0:
            break
    order = [int(i) for i in np.argsort(-counts, kind="stable") if counts[i] and tokenizer.piece_texts[i]
             and tokenizer.piece_texts[i].strip()]
    return order[:count]


def pca_map(embedding: np.ndarray, tokenizer, ids: list[int]) -> dict:
    """The pieces' embeddings projected on their first two principal components.

    Returns:
        {"points": [(piece, x, y, kind)], "explained": share of variance of each axis}.
    """
    rows = embedding[ids] - embedding[ids].mean(axis=0)
    _, singular, components = np.linalg.svd(rows, full_matrices=False)
    xy = rows @ components[:2].T
    explained = (singular[:2] ** 2 / (singular ** 2).sum()).round(3).tolist()
    points = [(tokenizer.piece_texts[i], float(x), float(y), kind_of(tokenizer.piece_texts[i]))
              for i, (x, y) in zip(ids, xy)]
    return {"points": points, "explained": explained}
