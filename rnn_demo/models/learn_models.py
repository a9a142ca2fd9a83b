"""The Learn tab's Keras models (the references; the page serves their NumPy twins in learn/numpy_models.py).

Each is a functional model whose layers are named, so its weights are stored and read by name.
"""
from __future__ import annotations

import keras
from keras import layers

from ..learn import scenes
from ..learn.config import CaptionConfig, CopyConfig, GenreConfig, LearnConfig

COPY_LAYERS = {"simple_rnn": layers.SimpleRNN, "gru": layers.GRU, "lstm": layers.LSTM}


def build_caption_model(config: CaptionConfig) -> keras.Model:
    """(image (s, s, 3), words in (w,)) → next-word logits (w, vocab): CNN encoder → GRU decoder."""
    vocab = config.caption_vocab or len(scenes.VOCABULARY)
    image = keras.Input((config.image_size, config.image_size, 3), name="image")
    words = keras.Input((config.max_words,), dtype="int32", name="words")
    x = layers.Conv2D(config.filters, 3, padding="same", activation="relu", name="conv_1")(image)
    x = layers.MaxPooling2D(2, name="pool_1")(x)
    x = layers.Conv2D(2 * config.filters, 3, padding="same", activation="relu", name="conv_2")(x)
    x = layers.MaxPooling2D(2, name="pool_2")(x)  # (s/4, s/4, 2·filters)
    state = layers.Dense(config.caption_units, activation="tanh", name="image_state")(layers.Flatten()(x))
    embedded = layers.Embedding(vocab, config.word_dim, name="word_embedding")(words)
    sequence = layers.GRU(config.caption_units, return_sequences=True, name="decoder")(embedded, initial_state=state)
    model = keras.Model([image, words], layers.Dense(vocab, name="readout")(sequence), name="caption")
    model.config = config
    return model


def build_genre_model(config: GenreConfig) -> keras.Model:
    """Token ids (max_tokens,), right-padded with 0 → genre logits (classes,).

    `gru`: embedding → GRU, whose last state (at the last real token) is read out (many-to-one).
    `bag`: the mean of the embeddings → a hidden ReLU layer (one-to-one: no recurrence, no order).
    """
    tokens = keras.Input((config.max_tokens,), dtype="int32", name="tokens")
    embedded = layers.Embedding(config.vocab_size, config.genre_dim, mask_zero=True, name="embedding")(tokens)
    if config.kind == "gru":
        summary = layers.GRU(config.genre_units, name="rnn")(embedded)
    else:
        mean = layers.GlobalAveragePooling1D(name="mean")(embedded)
        summary = layers.Dense(config.genre_units, activation="relu", name="hidden")(mean)
    summary = layers.Dropout(config.genre_dropout, name="dropout")(summary)
    model = keras.Model(tokens, layers.Dense(config.classes, name="readout")(summary), name=f"genre_{config.kind}")
    model.config = config
    return model


def build_copy_model(config: CopyConfig) -> keras.Model:
    """(steps, symbols + 1) one-hot symbols with a mark bit → logits of the marked symbol (symbols,)."""
    inputs = keras.Input((None, config.symbols + 1), name="inputs")
    last = COPY_LAYERS[config.cell](config.copy_units, name="rnn")(inputs)
    model = keras.Model(inputs, layers.Dense(config.symbols, name="readout")(last), name=f"copy_{config.cell}")
    model.config = config
    return model


def build_nothing(config: LearnConfig):
    """The `learn` family names the suite for the command line; each checkpoint is of its own family."""
    raise TypeError(f"the Learn suite ({config.part}) is several models; no checkpoint is of the 'learn' family")
