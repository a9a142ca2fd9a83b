"""Which word stood between which neighbours in the gap filler's training sentences: counts that the served
filler mixes into its network's probabilities (`NumpyGapWords.mixed_probabilities`).

The network reads the whole sentence on each side but, trained for under an hour, remembers few exact word
sequences; the counts remember all of them and nothing else. For a gap they give the words seen there before,
from the most specific neighbours that were seen to the least: two words on each side ("wide", contexts seen
at least twice, `MIN_SEEN`), one word on each side ("pair"), the word before or the word after alone ("left",
"right", averaged), and every filler's own frequency. Each level is smoothed towards the next by Witten-Bell's
rule: a context seen n times with t different words keeps n / (n + t) of its own counts (a context followed by
many different words is trusted less). Mixing two estimates that err differently is the classic use of counts
beside a neural model (Mikolov et al. 2011 mixed an RNN with a Kneser-Ney 5-gram); the weight of the counts is
chosen on validation gaps by the likelihood of the right answers (`choose_weight`).

A context is stored as a 32-bit hash of its words (BLAKE2b), in sorted arrays read with NumPy alone:
"<order>/keys" (uint32), "<order>/starts" (uint32, one more than the keys: where each context's words begin),
"<order>/words" (uint16, indices into the filler's words) and "<order>/counts" (uint16, or uint32 where a count
does not fit), and "unigram/counts". 32 bits keep the file under a hosted Space's 10 MiB: of the ~0.5 M
contexts about 30 pairs share a hash (their counts are summed), and a context never seen finds another's
counts about once in 10,000 gaps (a randomised language model's trade, Talbot and Osborne 2007).
"""
from __future__ import annotations

import collections
import hashlib
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from ..data.encoding import word_key
from ..data.fill_sentences import WORD

ORDERS = ("left", "right", "pair", "wide")
# The fewest times a context must have been seen to be kept: two words each side seen once are most such
# contexts (0.95 M of 1.0 M here) and their word is mostly the network's guess too.
MIN_SEEN = {"left": 1, "right": 1, "pair": 1, "wide": 2}
START, END = "\x02", "\x03"  # the sentence's edges, as neighbours
UNIGRAM_PRIOR = 0.5  # added to every filler's count: a word never seen still has a chance
WEIGHTS_GRID = tuple(round(0.05 * step, 2) for step in range(0, 17))  # the mixing weights tried, 0 to 0.8


def _key(order: str, words: tuple[str, ...]) -> int:
    text = "\x1f".join((order, *words)).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=4).digest(), "little")


def neighbours(left: str, right: str) -> tuple[str, str, str, str]:
    """(second word before, word before, word after, second word after) of a gap, as `word_key`s; the
    sentence's edges stand in where a side has fewer words."""
    before = [START, START, *(word_key(word) for word in WORD.findall(left))]
    after = [*(word_key(word) for word in WORD.findall(right)), END, END]
    return before[-2], before[-1], after[0], after[1]


def _contexts(far_left: str, near_left: str, near_right: str, far_right: str) -> dict[str, tuple[str, ...]]:
    return {"left": (near_left,), "right": (near_right,), "pair": (near_left, near_right),
            "wide": (far_left, near_left, near_right, far_right)}


class GapCounts:
    """`probabilities(left, right)`: the counts' chance of each filler in a gap, from the tables (see above)."""

    def __init__(self, tables: Mapping[str, np.ndarray], size: int):
        self.size = size  # how many fillers (the filler's `words`)
        self.tables = {name: np.asarray(array) for name, array in tables.items()}
        unigram = self.tables["unigram/counts"].astype(np.float64) + UNIGRAM_PRIOR
        if unigram.shape != (size,):
            raise ValueError(f"unigram/counts has shape {unigram.shape}, the filler has {size} words")
        self.unigram = unigram / unigram.sum()

    @classmethod
    def build(cls, sentences: Iterable[str], words: tuple[str, ...]) -> "GapCounts":
        """The counts of every word of `sentences` that is one of `words` (the unknown word, index 0, left out)."""
        index = {word_key(word): i for i, word in enumerate(words)}
        seen = {order: collections.defaultdict(collections.Counter) for order in ORDERS}
        unigram = np.zeros(len(words), np.int64)
        for sentence in sentences:
            found = [word_key(word) for word in WORD.findall(sentence)]
            padded = [START, START, *found, END, END]
            for position, word in enumerate(found, start=2):
                filler = index.get(word, 0)
                if filler == 0:
                    continue
                unigram[filler] += 1
                contexts = _contexts(*padded[position - 2:position], *padded[position + 1:position + 3])
                for order, context in contexts.items():
                    seen[order][context][filler] += 1
        tables = {"unigram/counts": unigram.astype(np.uint32)}
        for order, by_context in seen.items():
            hashed: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
            for context, counter in by_context.items():
                if sum(counter.values()) >= MIN_SEEN[order]:
                    hashed[_key(order, context)].update(counter)
            kept = sorted(hashed.items(), key=lambda pair: pair[0])
            lengths = np.array([len(counter) for _, counter in kept], np.int64)
            tables[f"{order}/keys"] = np.array([key for key, _ in kept], np.uint32)
            tables[f"{order}/starts"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.uint32)
            tables[f"{order}/words"] = np.array([w for _, counter in kept for w in sorted(counter)], np.uint16)
            counts = np.array([counter[w] for _, counter in kept for w in sorted(counter)], np.int64)
            tables[f"{order}/counts"] = counts.astype(np.uint16 if counts.max(initial=0) < 2**16 else np.uint32)
        return cls(tables, len(words))

    def _seen(self, order: str, context: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray] | None:
        keys = self.tables[f"{order}/keys"]
        key = np.uint32(_key(order, context))
        at = int(np.searchsorted(keys, key))
        if at == len(keys) or keys[at] != key:
            return None
        starts = self.tables[f"{order}/starts"]
        span = slice(int(starts[at]), int(starts[at + 1]))
        return self.tables[f"{order}/words"][span].astype(np.int64), self.tables[f"{order}/counts"][span]

    def _smoothed(self, order: str, context: tuple[str, ...], lower: np.ndarray) -> np.ndarray:
        """Witten-Bell: this context's counts, with the share of its distinct words left to `lower`."""
        seen = self._seen(order, context)
        if seen is None:
            return lower
        words, counts = seen
        total, distinct = float(counts.sum()), len(words)
        found = lower * (distinct / (total + distinct))
        found[words] += counts / (total + distinct)
        return found

    def probabilities(self, left: str, right: str) -> np.ndarray:
        """Each filler's chance in the gap between the texts `left` and `right` (float64, summing to 1)."""
        contexts = _contexts(*neighbours(left, right))
        sides = 0.5 * (self._smoothed("left", contexts["left"], self.unigram)
                       + self._smoothed("right", contexts["right"], self.unigram))
        pair = self._smoothed("pair", contexts["pair"], sides)
        return self._smoothed("wide", contexts["wide"], pair)

    def save(self, path: Path) -> None:
        from safetensors.numpy import save_file

        save_file({name: np.ascontiguousarray(array) for name, array in self.tables.items()}, str(path))

    @classmethod
    def load(cls, path: Path, size: int) -> "GapCounts":
        """The tables of a counts file (ValueError if they do not fit a filler of `size` words)."""
        from safetensors.numpy import load_file

        tables = load_file(str(path))
        expected = {"unigram/counts"} | {f"{order}/{part}" for order in ORDERS
                                         for part in ("keys", "starts", "words", "counts")}
        if set(tables) != expected:
            raise ValueError(f"the counts file holds {sorted(tables)}, not the tables {sorted(expected)}")
        for order in ORDERS:
            keys, starts = tables[f"{order}/keys"], tables[f"{order}/starts"]
            words = tables[f"{order}/words"]
            if (len(starts) != len(keys) + 1 or int(starts[-1]) != len(words)
                    or len(words) != len(tables[f"{order}/counts"]) or (len(words) and int(words.max()) >= size)):
                raise ValueError(f"the counts file's {order} tables do not fit together or the filler's words")
        return cls(tables, size)


def mixed(network: np.ndarray, counts: np.ndarray, weight: float) -> np.ndarray:
    """The served probabilities: (1 - weight) of the network's and `weight` of the counts'."""
    return (1.0 - weight) * network + weight * counts


def choose_weight(pairs: Iterable[tuple[np.ndarray, np.ndarray, int]]) -> dict:
    """The mixing weight of `WEIGHTS_GRID` under which the right answers of validation gaps are likeliest.

    Args:
        pairs: (the network's probabilities, the counts', the answer's index) of each gap whose answer is one
            of the fillers.
    Returns:
        {"weight", "gaps", "log_likelihood": {weight: mean log-probability of the answer}}.
    """
    network, counts, answers = [], [], []
    for net, count, answer in pairs:
        network.append(net[answer])
        counts.append(count[answer])
        answers.append(answer)
    network, counts = np.array(network), np.array(counts)
    scores = {weight: float(np.mean(np.log(np.maximum(mixed(network, counts, weight), 1e-300))))
              for weight in WEIGHTS_GRID}
    best = max(scores, key=lambda weight: (scores[weight], -weight))
    return {"weight": best, "gaps": len(answers), "log_likelihood": {str(w): round(s, 4) for w, s in scores.items()}}
