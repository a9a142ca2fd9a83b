"""What would take the language models to issue 13's 1.90 bits/char: mixtures measured, not shipped.

Each shipped network scores the two held-out plays as `evaluate shakespeare` does (BOS, then the state
carried through the whole play); its probability of every token is then mixed with others':
- a token trigram of the training plays (Witten-Bell: each order interpolated with the one below it,
  down to uniform), a fixed model like the network;
- a cache: how often the token came in the last CACHE_TOKENS tokens of the play being read. Like dynamic
  evaluation it adapts to the held-out text as it reads it, so it is reported beside the others, never
  as the static figure;
- the other network (their average: two networks a token, twice the serving work).
Weights are chosen on Pericles alone (the lowest bits/char on a grid); Timon of Athens is then scored with
them. Nothing here is served: the app's generator samples from the chosen network alone.

    python benchmarks/lm_mixtures.py        # about 2 minutes on 2 cores; TensorFlow is imported
"""
from __future__ import annotations

import collections
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_demo import evaluation  # noqa: E402
from rnn_demo.data import corpora  # noqa: E402
from rnn_demo.serving import Engine  # noqa: E402
from rnn_demo.tokenizer import BOS_ID  # noqa: E402

ORDER = 3  # orders 4-6 measured no better (2026-12-06: 1.9360, 1.9377, 1.9385 at their best, both plays)
CACHE_TOKENS = 500
NETWORKS = ("shakespeare-gru", "shakespeare-lstm")
TUNING_PLAY = "pericles"
NGRAM_WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
CACHE_WEIGHTS = (0.0, 0.03, 0.05, 0.08)
GRU_SHARES = (0.4, 0.5, 0.6)


class TokenNgram:
    """Witten-Bell interpolated token n-gram: p(w | h) = (c(h, w) + T(h) p(w | shorter h)) / (c(h) + T(h)),
    T(h) the number of different tokens seen after h; from uniform over the vocabulary up."""

    def __init__(self, texts, tokenizer, order: int = ORDER):
        self.order, self.vocab = order, tokenizer.vocab_size
        self.counts = [collections.defaultdict(collections.Counter) for _ in range(order)]
        for text in texts:
            ids = [BOS_ID] + tokenizer.encode(text)
            for position in range(1, len(ids)):
                for length in range(min(order, position + 1)):
                    self.counts[length][tuple(ids[position - length:position])][ids[position]] += 1
        self.totals = [{context: (sum(after.values()), len(after)) for context, after in level.items()}
                       for level in self.counts]

    def probability(self, history: list[int], token: int) -> float:
        p = 1.0 / self.vocab
        for length in range(min(self.order, len(history) + 1)):
            context = tuple(history[len(history) - length:])
            after = self.counts[length].get(context)
            if after is None:
                break
            seen, kinds = self.totals[length][context]
            p = (after.get(token, 0) + kinds * p) / (seen + kinds)
        return p

    def probabilities(self, ids: list[int]) -> np.ndarray:
        """p(ids[i] | ids[:i]) for i ≥ 1."""
        return np.array([self.probability(ids[max(0, i - self.order):i], ids[i]) for i in range(1, len(ids))])


def cache_probabilities(ids: list[int], window: int = CACHE_TOKENS) -> np.ndarray:
    """The share of the last `window` tokens (fewer at the start) that equal ids[i], for i ≥ 1."""
    seen = collections.Counter()
    out = np.zeros(len(ids) - 1)
    for i in range(1, len(ids)):
        seen[ids[i - 1]] += 1
        if i > window:
            seen[ids[i - 1 - window]] -= 1
        out[i - 1] = seen[ids[i]] / min(i, window)
    return out


def main() -> None:
    engine = Engine(Path(__file__).resolve().parents[1] / "assets")
    tokenizer = engine.tokenizer
    plays = {play.name: play.text for play in corpora.play_split("validation")}
    ngram = TokenNgram((play.text for play in corpora.play_split("train")), tokenizer)
    probabilities, chars = {}, {name: len(text) for name, text in plays.items()}
    for name, text in plays.items():
        for network in NETWORKS:
            ids, log_p = evaluation.token_log_likelihoods(engine.language_model(network).model, tokenizer, text)
            probabilities[network, name] = np.exp(log_p)
        probabilities["trigram", name] = ngram.probabilities(ids.tolist())
        probabilities["cache", name] = cache_probabilities(ids.tolist())

    def bits_per_char(weights: dict, play: str) -> float:
        mixed = sum(weight * probabilities[source, play] for source, weight in weights.items() if weight)
        return float(-np.log2(mixed).sum() / chars[play])

    def row(label: str, candidates) -> str:
        best = min(candidates, key=lambda weights: bits_per_char(weights, TUNING_PLAY))
        scored = {play: bits_per_char(best, play) for play in plays}
        both = sum(scored[play] * chars[play] for play in plays) / sum(chars.values())
        shown = ", ".join(f"{source} {weight:.2f}" for source, weight in best.items() if weight)
        return (f"| {label} | {shown} | " + " | ".join(f"{scored[play]:.4f}" for play in plays)
                + f" | **{both:.4f}** |")

    def network_with(network, ngram_weights=(0.0,), cache_weights=(0.0,)):
        for lam, mu in itertools.product(ngram_weights, cache_weights):
            yield {network: 1 - lam - mu, "trigram": lam, "cache": mu}

    def both_networks(ngram_weights=(0.0,)):
        for lam, share in itertools.product(ngram_weights, GRU_SHARES):
            yield {NETWORKS[0]: (1 - lam) * share, NETWORKS[1]: (1 - lam) * (1 - share), "trigram": lam}

    print(f"| mixture | weights (chosen on {TUNING_PLAY}) | " + " | ".join(plays) + " | both plays |")
    print("|---|---|" + "---|" * (len(plays) + 1))
    for network in NETWORKS:
        print(row(f"{network} alone", network_with(network)))
        print(row(f"{network} + trigram of the training plays", network_with(network, NGRAM_WEIGHTS)))
        print(row(f"{network} + trigram + cache (adaptive)", network_with(network, NGRAM_WEIGHTS, CACHE_WEIGHTS)))
    print(row("both networks (twice the work a token)", both_networks()))
    print(row("both networks + trigram", both_networks(NGRAM_WEIGHTS)))


if __name__ == "__main__":
    main()
