"""The gap filler: a GRU reads the text before the gap forwards, another the text after it backwards, and
a dense layer on their two final states gives one probability to every word it knows.

Trained on every word of a sentence at once: the forward GRU runs over the whole sentence once, and its
state just before each word is that word's left side; the backward GRU runs from the sentence's end, and its
state just after each word is the right side. A sentence of ten words is ten gaps for the price of one
reading (context2vec, Melamud et al. 2016, trains the same way). Serving reads one gap's two sides only
(`numpy_gap.NumpyGapWords`): the same states, since each side is encoded as the whole sentence encodes it
(`data.encoding.word_gaps`).
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from ..config import GapWordsConfig
from .seq2seq import EMBEDDING_INIT_STDDEV


class GapWords(keras.Model):
    """(forward ids, backward ids, left positions, right positions) → word logits of each gap.

    Inputs:
        forward: (batch, time) ids, BOS then the sentence's pieces, padded after with 0.
        backward: (batch, time) ids, EOS then the sentence's pieces last to first, padded after with 0.
        left: (gaps, 2) [row, pieces before the gap]: the forward state read there.
        right: (gaps, 2) [row, pieces after the gap]: the backward state read there.
    Padding comes after what either GRU reads for any gap, so no mask is needed.
    """

    def __init__(self, config: GapWordsConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.embedding = layers.Embedding(
            config.vocab_size, config.embedding_dim, name="embedding",
            embeddings_initializer=keras.initializers.RandomNormal(stddev=EMBEDDING_INIT_STDDEV))
        # Named, so that the weights are `forward/gru_cell/…` in every process (checkpoints store them by name).
        self.forward = layers.GRU(config.units, return_sequences=True, name="forward")
        self.backward = layers.GRU(config.units, return_sequences=True, name="backward")
        self.hidden = layers.Dense(config.hidden_units, activation="tanh", name="hidden")
        self.words = layers.Dense(len(config.words), name="words")
        self.dropout = layers.Dropout(config.dropout, name="dropout")

    def call(self, inputs, training=False):
        forward_ids, backward_ids, left, right = inputs
        forward = self.forward(self.dropout(self.embedding(forward_ids), training=training), training=training)
        backward = self.backward(self.dropout(self.embedding(backward_ids), training=training), training=training)
        both = ops.concatenate([_gather_rows(forward, left), _gather_rows(backward, right)], -1)
        hidden = self.hidden(self.dropout(both, training=training))
        return self.words(self.dropout(hidden, training=training))

    def build_weights(self) -> "GapWords":
        """Creates the variables by running one dummy batch (needed before weights are assigned)."""
        ids = np.ones((1, 2), dtype="int32")
        self((ids, ids, np.zeros((1, 2), dtype="int32"), np.zeros((1, 2), dtype="int32")))
        return self


def _gather_rows(sequences, positions):
    """sequences (batch, time, units), positions (gaps, 2) [row, time] → (gaps, units)."""
    time = ops.shape(sequences)[1]
    flat = ops.reshape(sequences, (-1, ops.shape(sequences)[2]))
    return ops.take(flat, positions[:, 0] * time + positions[:, 1], axis=0)


def build_gap_words(config: GapWordsConfig) -> GapWords:
    """A new gap filler of `config`, its weights created."""
    if len(config.words) < 2:
        raise ValueError("a gap filler needs its words (config.words): the unknown word and at least one more")
    return GapWords(config, name="gap_words").build_weights()
