"""tf.data pipelines for training: language-model windows over a token stream, seq2seq exchange batches."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..tokenizer import BOS_ID


def language_model_windows(stream: np.ndarray, *, seq_len: int, batch_size: int,
                           shuffle: bool, seed: int = 0) -> "tf.data.Dataset":
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


def _pad(rows: list[list[int]]) -> np.ndarray:
    batch = np.zeros((len(rows), max(map(len, rows))), dtype=np.int32)
    for index, row in enumerate(rows):
        batch[index, :len(row)] = row
    return batch


def seq2seq_batches(pairs, *, batch_size: int, shuffle: bool, seed: int = 0) -> "tf.data.Dataset":
    """((source, decoder input), decoder target) batches, each padded with 0 to its longest row.

    The decoder input is BOS + target[:-1] (teacher forcing); pad positions are ignored by the
    loss. Training batches are drawn at random, anew each epoch. (Batches of similar length pad
    less, but here they also group answers of one kind: with them, a small model's loss on the
    country questions stayed at 5.0 nats/token after 150 steps; with random batches it reached 2.9.)
    """

    rng = np.random.default_rng(seed) if shuffle else None

    def batches():
        order = rng.permutation(len(pairs)) if rng is not None else np.arange(len(pairs))
        stop = len(order) - len(order) % batch_size if rng is not None else len(order)
        for start in range(0, stop, batch_size):
            batch = order[start:start + batch_size]
            sources = _pad([pairs[i][0] for i in batch])
            targets_in = _pad([[BOS_ID] + pairs[i][1][:-1] for i in batch])
            targets_out = _pad([pairs[i][1] for i in batch])
            yield (sources, targets_in), targets_out

    spec = tf.TensorSpec([None, None], tf.int32)
    dataset = tf.data.Dataset.from_generator(batches, output_signature=((spec, spec), spec))
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(2).with_options(options)
