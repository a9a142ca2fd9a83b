"""The seq2seq family: bidirectional GRU encoder, GRU decoder with additive (Bahdanau) attention."""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from ..config import Seq2SeqConfig

NEG_INF = -1e9
# Keras draws embeddings from U(-0.05, 0.05): with them the logits of a new model had a standard
# deviation of 0.004, every gradient was as small, and each run from random weights sat on the
# unigram plateau (5.3–5.6 nats per token) for thousands of steps (issue 13: the chatbot left it
# after about 5,400, the gap filler after 3,000). Drawn from N(0, 1), as PyTorch does, the same
# chatbot recipe was at 3.81, 2.19 and 1.54 nats after 75, 150 and 225 steps (measured 2026-12-03).
EMBEDDING_INIT_STDDEV = 1.0


class Seq2Seq(keras.Model):
    """Reads a source sequence, writes a target one token at a time while attending to the source.

    Attention scores are additive, v·tanh(W_k·encoder + W_q·decoder), as in Bahdanau et al.;
    like the TensorFlow NMT tutorial, the decoder GRU runs first and its outputs query the
    encoder, so teacher-forced training runs the whole target sequence in one RNN call.
    """

    def __init__(self, config: Seq2SeqConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.embedding = layers.Embedding(
            config.vocab_size, config.embedding_dim, name="embedding",
            embeddings_initializer=keras.initializers.RandomNormal(stddev=EMBEDDING_INIT_STDDEV))
        self.encoder = layers.Bidirectional(
            # Named, so that its weights are `encoder/forward_gru/…` in every process (checkpoints store them by
            # name; an unnamed GRU is `gru_1`, `gru_2`… after the first model a process builds).
            layers.GRU(config.encoder_units, return_sequences=True, return_state=True, name="gru"), name="encoder")
        self.bridge = layers.Dense(config.decoder_units, activation="tanh", name="bridge")
        self.decoder = layers.GRU(config.decoder_units, return_sequences=True, return_state=True, name="decoder")
        self.attention_keys = layers.Dense(config.attention_units, use_bias=False, name="attention_keys")
        self.attention_query = layers.Dense(config.attention_units, name="attention_query")
        self.attention_score = layers.Dense(1, use_bias=False, name="attention_score")
        self.combine = layers.Dense(config.decoder_units, activation="tanh", name="combine")
        self.dropout = layers.Dropout(config.dropout, name="dropout")
        self.projection = layers.Dense(config.vocab_size, name="projection")

    def encode(self, source, training=False):
        """source (batch, src) ids, 0 = pad → (memory (batch, src, 2·enc), keys (batch, src, att),
        mask (batch, src), initial decoder state (batch, dec))."""
        mask = ops.not_equal(source, 0)
        x = self.dropout(self.embedding(source), training=training)
        memory, forward, backward = self.encoder(x, mask=mask, training=training)
        return memory, self.attention_keys(memory), mask, self.bridge(ops.concatenate([forward, backward], -1))

    def attend(self, queries, memory, keys, mask):
        """queries (batch, tgt, dec) → (context (batch, tgt, 2·enc), weights (batch, tgt, src))."""
        q = self.attention_query(queries)[:, :, None, :]  # (batch, tgt, 1, att)
        scores = self.attention_score(ops.tanh(q + keys[:, None, :, :]))[..., 0]  # (batch, tgt, src)
        scores = ops.where(mask[:, None, :], scores, NEG_INF)
        weights = ops.softmax(scores, axis=-1)
        return ops.matmul(weights, memory), weights

    def decode(self, target_in, state, memory, keys, mask, training=False):
        """Teacher-forced decoding: (logits (batch, tgt, vocab), last state, attention weights)."""
        y = self.dropout(self.embedding(target_in), training=training)
        outputs, state = self.decoder(y, initial_state=state, training=training)
        context, weights = self.attend(outputs, memory, keys, mask)
        features = self.combine(ops.concatenate([outputs, context], -1))
        return self.projection(self.dropout(features, training=training)), state, weights

    def call(self, inputs, training=False):
        source, target_in = inputs
        memory, keys, mask, state = self.encode(source, training=training)
        logits, _, _ = self.decode(target_in, state, memory, keys, mask, training=training)
        return logits

    def build_weights(self) -> "Seq2Seq":
        """Creates the variables by running one dummy batch (needed before `load_weights`)."""
        self((np.ones((1, 2), dtype="int32"), np.ones((1, 1), dtype="int32")))
        return self


def build_seq2seq(config: Seq2SeqConfig) -> Seq2Seq:
    return Seq2Seq(config, name="seq2seq").build_weights()
