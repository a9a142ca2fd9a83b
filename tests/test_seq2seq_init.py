"""A new seq2seq model starts where gradient descent can move it (issue 13: the unigram plateau)."""
import numpy as np

from rnn_demo.config import Seq2SeqConfig
from rnn_demo.models.seq2seq import build_seq2seq


def test_a_new_model_s_logits_depend_on_its_input():
    # With Keras's default U(-0.05, 0.05) embeddings the shipped sizes gave logits of standard deviation
    # 0.003 (every gradient as small) and each run sat on the unigram plateau for thousands of steps;
    # from N(0, 1) they are 0.08.
    model = build_seq2seq(Seq2SeqConfig())
    rng = np.random.default_rng(0)
    source = rng.integers(4, 4000, size=(8, 12)).astype("int32")
    target = rng.integers(4, 4000, size=(8, 6)).astype("int32")
    logits = np.asarray(model((source, target)))
    assert logits.std() > 0.04
    # and what it predicts differs from one input to the next, not only across the vocabulary
    assert np.abs(logits - logits.mean(axis=(0, 1))).mean() > 0.03
