"""tf.data pipelines: language-model windows over a token stream."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from .tokenizer import BOS_ID, Tokenizer


def encode_documents(tokenizer: Tokenizer, texts) -> np.ndarray:
    """One int32 stream: each document begins with BOS, as generation and evaluation do."""
    parts = [np.asarray([BOS_ID] + tokenizer.encode(text), dtype=np.int32) for text in texts]
    return np.concatenate(parts) if parts else np.zeros(0, np.int32)


def language_model_windows(stream: np.ndarray, *, seq_len: int, batch_size: int,
                           shuffle: bool, seed: int = 0) -> tf.data.Dataset:
    """Batches of (inputs, targets), each (batch, seq_len), targets shifted by one token.

    Windows start every `seq_len` tokens; training shuffles them anew each epoch.
    """
    num_windows = (len(stream) - 1) // seq_len
    if num_windows < 1:
        raise ValueError(f"text too short for one window of {seq_len} tokens")
    stream_tensor = tf.constant(stream[: num_windows * seq_len + 1])
    offsets = tf.range(seq_len + 1, dtype=tf.int64)

    def window(start):
        chunk = tf.gather(stream_tensor, start * seq_len + offsets)  # (seq_len + 1,)
        return chunk[:-1], chunk[1:]

    dataset = tf.data.Dataset.range(num_windows)
    if shuffle:
        dataset = dataset.shuffle(num_windows, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.map(window).batch(batch_size, drop_remainder=shuffle).prefetch(2)
    options = tf.data.Options()
    options.autotune.enabled = False  # its thread idles for seconds after the last step
    options.deterministic = True
    return dataset.with_options(options)
