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
        self.sampled = None  # training only: a `SampledWords` puts a sampled softmax in place of the full one

    def sample_words(self, sampled: "SampledWords | None") -> "GapWords":
        """Trains with `sampled` (None: the full softmax over every word). Evaluation always uses every word."""
        self.sampled = sampled
        return self

    def call(self, inputs, training=False):
        forward_ids, backward_ids, left, right = inputs
        forward = self.forward(self.dropout(self.embedding(forward_ids), training=training), training=training)
        backward = self.backward(self.dropout(self.embedding(backward_ids), training=training), training=training)
        both = ops.concatenate([_gather_rows(forward, left), _gather_rows(backward, right)], -1)
        hidden = self.dropout(self.hidden(self.dropout(both, training=training)), training=training)
        if training and self.sampled is not None:
            return hidden  # compute_loss scores it against a sample of the words only
        return self.words(hidden)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not (training and self.sampled is not None):
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.sampled.loss(y_pred, y, self.words.kernel, self.words.bias, sample_weight)

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


class SampledWords:
    """A sampled softmax for training (Jean et al. 2015): each batch scores its gaps against the words that
    are the answer of some gap in the batch, plus `negatives` words drawn at random, instead of all of them.

    Every word's logit is lowered by the log of the chance that it is among a batch's candidates (the "log Q"
    correction), so that the few candidates stand for the whole vocabulary without favouring the words that
    are seldom among them. With 8,000 words the full softmax is about half of a training step (measured:
    0.27 s a step of 128 sentences against 0.15 s with 500 words).

    Args:
        counts: how often each word is a gap's answer in the training rows.
        gaps_per_batch: the mean number of gaps a batch holds.
        negatives: words drawn at random (with replacement, repeats dropped) for each batch.
        seed: of the draws.
    """

    def __init__(self, counts, *, gaps_per_batch: float, negatives: int, seed: int):
        counts = np.asarray(counts, dtype=np.float64)
        expected = gaps_per_batch * counts / max(counts.sum(), 1.0)  # a word's answers in one batch, on average
        missed_as_answer = np.exp(-expected)  # Poisson: no gap of the batch has it as answer
        missed_as_negative = (1.0 - 1.0 / len(counts)) ** negatives
        chance = 1.0 - missed_as_answer * missed_as_negative
        self.log_chance = np.log(np.maximum(chance, 1e-12)).astype(np.float32)
        self.negatives = negatives
        self.seed_generator = keras.random.SeedGenerator(seed)

    def loss(self, hidden, words, kernel, bias, sample_weight=None):
        """Mean (weighted, over the gaps as Keras's losses reduce) cross-entropy of `words` (gaps,) among the
        batch's candidates, given the last hidden layer (gaps, hidden_units) and the word layer's weights."""
        import tensorflow as tf  # training runs on TensorFlow

        size = len(self.log_chance)
        words = tf.cast(tf.reshape(words, [-1]), tf.int32)
        drawn = keras.random.randint((self.negatives,), 0, size, seed=self.seed_generator, dtype="int32")
        candidates, _ = tf.unique(tf.concat([words, drawn], 0))
        where = tf.scatter_nd(candidates[:, None], tf.range(tf.size(candidates)), [size])  # word → its column
        logits = (tf.matmul(hidden, tf.gather(kernel, candidates, axis=1)) + tf.gather(bias, candidates)
                  - tf.gather(self.log_chance, candidates))
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.gather(where, words), logits=logits)
        if sample_weight is not None:
            losses = losses * tf.cast(tf.reshape(sample_weight, [-1]), losses.dtype)
        return tf.reduce_sum(losses) / tf.cast(tf.size(words), losses.dtype)
