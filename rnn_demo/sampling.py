"""Next-token choice from logits: greedy, temperature, top-k, top-p, repetition penalty; seeded."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class SamplingSettings:
    """Temperature 0 means greedy; top_k 0 and top_p 1 mean no truncation; penalty 1 means none."""

    temperature: float = 0.8
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0


def apply_repetition_penalty(logits: np.ndarray, previous: Sequence[int], penalty: float) -> np.ndarray:
    """Makes already-seen tokens less likely (CTRL-style: positive logits ÷ penalty, negative ×)."""
    if penalty == 1.0 or len(previous) == 0:
        return logits
    logits = logits.copy()
    seen = np.unique(np.asarray(previous, dtype=np.int64))
    values = logits[seen]
    logits[seen] = np.where(values > 0, values / penalty, values * penalty)
    return logits


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


def truncate(probs: np.ndarray, top_k: int, top_p: float) -> np.ndarray:
    """Zeroes all but the top-k tokens and the smallest set whose mass reaches top_p; renormalises."""
    if not 0 < top_k < len(probs) and top_p >= 1.0:
        return probs
    keep = np.ones_like(probs, dtype=bool)
    order = np.argsort(-probs, kind="stable")
    if 0 < top_k < len(probs):
        keep[order[top_k:]] = False
    if top_p < 1.0:
        cumulative = np.cumsum(probs[order])
        cutoff = int(np.searchsorted(cumulative, top_p)) + 1  # include the token that crosses top_p
        keep[order[cutoff:]] = False
    truncated = np.where(keep, probs, 0.0)
    return truncated / truncated.sum()


class Sampler:
    """Chooses next tokens; the same seed and settings give the same choices."""

    def __init__(self, settings: SamplingSettings, seed: int = 0):
        self.settings = settings
        self.rng = np.random.default_rng(seed)

    def distribution(self, logits: np.ndarray, previous: Sequence[int] = ()) -> np.ndarray:
        """The probabilities the next choice is drawn from (after penalty, temperature, truncation)."""
        settings = self.settings
        logits = apply_repetition_penalty(np.asarray(logits, dtype=np.float64), previous,
                                          settings.repetition_penalty)
        if settings.temperature == 0:
            probs = np.zeros_like(logits)
            probs[int(np.argmax(logits))] = 1.0
            return probs
        return truncate(softmax(logits / settings.temperature), settings.top_k, settings.top_p)

    def __call__(self, logits: np.ndarray, previous: Sequence[int] = ()) -> int:
        settings = self.settings
        if settings.temperature == 0:
            return int(np.argmax(apply_repetition_penalty(logits, previous, settings.repetition_penalty)))
        if settings.top_k == 0 and settings.top_p >= 1.0 and settings.repetition_penalty == 1.0:
            # The common case, drawn in a few float32 operations (it runs once per streamed token).
            # models/compiled_rnn.py's `_choose` draws the same way inside its compiled loop: keep them alike.
            weights = np.multiply(logits, np.float32(1.0 / settings.temperature), dtype=np.float32)
            weights -= weights.max()
            np.exp(weights, out=weights)
            cumulative = weights.cumsum()
        else:
            cumulative = np.cumsum(self.distribution(logits, previous))
        # Inverse-CDF draw: the same as rng.choice(p=probs), without its per-call checks.
        index = int(np.searchsorted(cumulative, self.rng.random() * cumulative[-1], side="right"))
        return min(index, len(cumulative) - 1)
