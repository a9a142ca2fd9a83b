"""The Keras model of a visitor's text: embedding → stacked SimpleRNN, GRU or LSTM → projection (training only)."""
from __future__ import annotations

import keras
import numpy as np
from keras import layers

from .settings import MOMENTUM, UserModelConfig

CELL_LAYERS = {"simple_rnn": layers.SimpleRNN, "gru": layers.GRU, "lstm": layers.LSTM}


class UserLanguageModel(keras.Model):
    """Predicts the next token at every position. Its weights have the shipped language model's names, and the
    projection reads every layer's output as there, so `NumpyLanguageModel` serves it without TensorFlow."""

    def __init__(self, config: UserModelConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.embedding = layers.Embedding(config.vocab_size, config.embedding_dim, name="embedding")
        cell = CELL_LAYERS[config.cell]
        self.rnn_layers = [cell(config.units, return_sequences=True, name=f"rnn_{index}")
                           for index in range(config.num_layers)]
        self.dropout = layers.Dropout(config.dropout, name="dropout")
        self.projection = layers.Dense(config.vocab_size, name="projection")

    def call(self, tokens, training=False):
        x = self.embedding(tokens)  # (batch, time, embedding_dim)
        outputs = []
        for rnn in self.rnn_layers:
            x = self.dropout(rnn(x, training=training), training=training)  # (batch, time, units)
            outputs.append(x)
        skip = outputs[0] if len(outputs) == 1 else keras.ops.concatenate(outputs, axis=-1)
        return self.projection(skip)  # (batch, time, vocab)


def build(config: UserModelConfig) -> UserLanguageModel:
    model = UserLanguageModel(config, name=f"user_model_{config.cell}")
    model(np.zeros((1, 1), dtype="int32"))
    return model


def optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    """SGD, SGD with momentum, or Adam; gradients clipped to norm 1 (RNNs' exploding gradients)."""
    if name == "adam":
        return keras.optimizers.Adam(learning_rate, clipnorm=1.0)
    return keras.optimizers.SGD(learning_rate, momentum=MOMENTUM if name == "momentum" else 0.0, clipnorm=1.0)


def compile_model(model: UserLanguageModel, optimizer_name: str, learning_rate: float, *,
                  steps_per_execution: int = 1) -> None:
    model.compile(optimizer=optimizer(optimizer_name, learning_rate), steps_per_execution=steps_per_execution,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
