"""The visitor's model: the NumPy step that serves it gives Keras's logits, for every cell (SimpleRNN included)."""
import numpy as np
import pytest

from rnn_demo.models.numpy_step import NumpyLanguageModel
from rnn_demo.usertrain import model as user_model
from rnn_demo.usertrain.settings import UserModelConfig


@pytest.mark.parametrize("cell", ["simple_rnn", "gru", "lstm"])
def test_numpy_step_matches_keras(cell):
    config = UserModelConfig(cell, vocab_size=30, embedding_dim=8, units=12, num_layers=2)
    keras_model = user_model.build(config)
    tokens = np.random.default_rng(0).integers(0, 30, size=15)
    expected = np.asarray(keras_model(tokens[None, :]))[0, -1]  # (vocab,)
    fast = NumpyLanguageModel(keras_model)
    logits, _ = fast.step(tokens.tolist(), fast.initial_state())
    np.testing.assert_allclose(logits, expected, atol=1e-4)
