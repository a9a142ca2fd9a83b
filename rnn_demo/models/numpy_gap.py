"""The gap filler in NumPy (`gap_words.GapWords`'s weights by name, no TensorFlow): one gap's word probabilities."""
from __future__ import annotations

from typing import Mapping

import numpy as np

from ..data.encoding import word_key
from ..tokenizer import BOS_ID, EOS_ID
from .numpy_step import _keras_or_named, fold_gru_biases, gru_cell, rnn_weights
from .weights import take


class NumpyGapWords:
    """`probabilities(left_ids, right_ids)`: the network's chance of each of `config.words` standing in the gap;
    `mixed_probabilities` adds the counts of the training sentences (`counts`, a `GapCounts`) as the app serves."""

    counts = None  # the checkpoint's `GapCounts`, set by whoever loads it; None: the network alone

    def __init__(self, model, weights: Mapping[str, np.ndarray] | None = None):
        """`NumpyGapWords(keras_model)`, or `NumpyGapWords(config, weights)` with the weights by name as a
        checkpoint holds them (WeightError if they do not fit the config)."""
        config, weights = _keras_or_named(model, weights)
        self.config = config
        self.word_index = {word_key(word): index for index, word in enumerate(config.words)}
        self.embedding = take(weights, "embedding/embeddings", (config.vocab_size, config.embedding_dim))
        self.sides = [self._gru(weights, name) for name in ("forward", "backward")]
        self.hidden_kernel = take(weights, "hidden/kernel", (2 * config.units, config.hidden_units))
        self.hidden_bias = take(weights, "hidden/bias", (config.hidden_units,))
        self.words_kernel = take(weights, "words/kernel", (config.hidden_units, len(config.words)))
        self.words_bias = take(weights, "words/bias", (len(config.words),))

    def _gru(self, weights, name: str) -> tuple[np.ndarray, ...]:
        kernel, recurrent, input_bias, recurrent_bias = rnn_weights(weights, name, "gru", self.config.embedding_dim,
                                                                    self.config.units)
        return (kernel, recurrent, *fold_gru_biases(input_bias, recurrent_bias))

    def _read(self, side: int, ids: list[int]) -> np.ndarray:
        """The final state of one GRU after reading `ids`."""
        kernel, recurrent, input_bias, candidate_bias = self.sides[side]
        projected = self.embedding[np.asarray(ids, dtype=np.int64)] @ kernel + input_bias
        h = np.zeros(self.config.units, dtype=np.float32)
        for x in projected:
            h = gru_cell(x, h, recurrent, candidate_bias)
        return h

    def logits(self, left_ids: list[int], right_ids: list[int]) -> np.ndarray:
        """The words' logits for a gap between `left_ids` and `right_ids` (cut to the nearest
        `max_side_tokens` on each side)."""
        keep = self.config.max_side_tokens
        both = np.concatenate([self._read(0, [BOS_ID, *left_ids[-keep:]]),
                               self._read(1, [EOS_ID, *right_ids[:keep][::-1]])])
        hidden = np.tanh(both @ self.hidden_kernel + self.hidden_bias)
        return hidden @ self.words_kernel + self.words_bias

    def probabilities(self, left_ids: list[int], right_ids: list[int]) -> np.ndarray:
        """The softmax of `logits`: one probability per word, summing to 1 (the unknown word's included)."""
        logits = self.logits(left_ids, right_ids).astype(np.float64)
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()

    def mixed_probabilities(self, left_ids: list[int], right_ids: list[int], left: str, right: str) -> np.ndarray:
        """What the app serves for the gap between the texts `left` and `right` (encoded as `left_ids`,
        `right_ids`): `probabilities` mixed with the counts' by `config.counts_weight`, or alone without counts."""
        from .gap_counts import mixed

        network = self.probabilities(left_ids, right_ids)
        if self.counts is None or not self.config.counts_weight:
            return network
        return mixed(network, self.counts.probabilities(left, right), self.config.counts_weight)
