"""tf.data pipelines for training: language-model windows, seq2seq exchange batches, gap-filler sentences."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..tokenizer import BOS_ID, EOS_ID


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


def language_model_lanes(stream: np.ndarray, *, seq_len: int, batch_size: int, shuffle: bool, seed: int = 0,
                         reset_share: float = 0.0) -> "tf.data.Dataset":
    """Batches ((inputs, fresh), targets) whose rows carry a state from one batch to the next.

    The stream is cut into `batch_size` lanes of equal length, each read in order, `seq_len` tokens a
    batch: row b of a batch continues row b of the batch before (truncated backpropagation through
    time). `fresh` (batch,) is 1.0 where a row's state starts from zero: every row at the first batch of
    a pass, and a share `reset_share` of the rows, drawn at random, at the others.

    Args:
        stream: the encoded text.
        seq_len: tokens a row, a batch.
        batch_size: lanes.
        shuffle: training: passes without end, each starting at a random offset below `seq_len` so the
            windows' boundaries move from pass to pass. Else one pass from the first token.
        seed: of the offsets and the rows drawn to restart.
        reset_share: the share of rows that restart from zero at a batch other than the first.
    """
    def steps_after(offset: int) -> int:  # batches of one pass that starts `offset` tokens in
        return (len(stream) - 1 - offset) // (batch_size * seq_len)

    if steps_after(seq_len - 1) < 1:  # the latest start a pass can have
        raise ValueError(f"text too short for {batch_size} lanes of {seq_len} tokens")
    random = np.random.default_rng(seed)

    def passes():
        while True:
            offset = int(random.integers(seq_len)) if shuffle else 0
            steps = steps_after(offset)
            lanes = stream[offset:offset + batch_size * steps * seq_len + 1]
            inputs = lanes[:-1].reshape(batch_size, steps * seq_len)
            targets = lanes[1:].reshape(batch_size, steps * seq_len)
            for step in range(steps):
                window = slice(step * seq_len, (step + 1) * seq_len)
                fresh = (np.ones(batch_size) if step == 0 else
                         (random.random(batch_size) < reset_share)).astype(np.float32)
                yield (inputs[:, window], fresh), targets[:, window]
            if not shuffle:
                return

    ids = tf.TensorSpec((batch_size, seq_len), tf.int32)
    dataset = tf.data.Dataset.from_generator(
        passes, output_signature=((ids, tf.TensorSpec((batch_size,), tf.float32)), ids))
    if not shuffle:  # one pass of known length: Keras's mean loss over a dataset of unknown length counts a batch too many
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(steps_after(0)))
    options = tf.data.Options()
    options.autotune.enabled = False  # as language_model_windows
    return dataset.prefetch(2).with_options(options)


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


# Training batches of the gap filler are cut from pools of this many batches' sentences sorted by length: random
# batches (padded to their longest sentence) took 0.61 s a step of 128 sentences, sorted ones half of that.
# Pools, not the whole set: sentences of one fact phrasing have similar lengths, and one batch of them all
# would give a step of one kind (see `seq2seq_batches`).
GAP_BATCH_POOL = 16


def gap_word_batches(sentences, *, batch_size: int, shuffle: bool, seed: int = 0,
                     weights=None) -> "tf.data.Dataset":
    """((forward ids, backward ids, left positions, right positions), word indices[, gap weights]) batches of
    the gap filler (`models.gap_words.GapWords`): every gap of `batch_size` sentences at once.

    Args:
        sentences: (ids, [(pieces before the gap, pieces after it, word index)]) of each sentence
            (`encoding.word_gaps`, `encoding.span_gap`).
        batch_size: sentences a batch.
        shuffle: draw the sentences at random, anew each pass (and drop the last partial batch).
        seed: the shuffle's seed.
        weights: each sentence's weight in the loss, given to each of its gaps; None: no weights.
    """
    rng = np.random.default_rng(seed) if shuffle else None

    def batches():
        order = rng.permutation(len(sentences)) if rng is not None else np.arange(len(sentences))
        stop = len(order) - len(order) % batch_size if rng is not None else len(order)
        starts = list(range(0, stop, batch_size))
        if rng is not None:  # batches of similar lengths, from a pool of random sentences, in random order
            pool = GAP_BATCH_POOL * batch_size
            order = np.concatenate([sorted(order[i:i + pool], key=lambda row: len(sentences[row][0]))
                                    for i in range(0, stop, pool)]).astype(np.int64)
            rng.shuffle(starts)
        for start in starts:
            rows = [sentences[i] for i in order[start:start + batch_size]]
            forward = _pad([[BOS_ID, *ids] for ids, _ in rows])
            backward = _pad([[EOS_ID, *ids[::-1]] for ids, _ in rows])
            gaps = [(row, before, after, word) for row, (_, found) in enumerate(rows) for before, after, word in found]
            left = np.array([(row, before) for row, before, _, _ in gaps], dtype=np.int32).reshape(-1, 2)
            right = np.array([(row, after) for row, _, after, _ in gaps], dtype=np.int32).reshape(-1, 2)
            inputs, words = (forward, backward, left, right), np.array([word for *_, word in gaps], dtype=np.int32)
            if weights is None:
                yield inputs, words
            else:
                chosen = order[start:start + batch_size]
                yield inputs, words, np.array([weights[chosen[row]] for row, *_ in gaps], dtype=np.float32)

    ids, positions = tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, 2], tf.int32)
    targets = (tf.TensorSpec([None], tf.int32),) + ((tf.TensorSpec([None], tf.float32),) if weights is not None else ())
    dataset = tf.data.Dataset.from_generator(batches, output_signature=((ids, ids, positions, positions), *targets))
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(2).with_options(options)
