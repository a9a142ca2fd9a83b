"""Fitting a language model on any texts: start, fit, round, and measure bits per character held out."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from .. import evaluation
from ..config import LanguageModelConfig, TrainingConfig
from ..data.datasets import language_model_lanes, language_model_windows
from ..data.encoding import encode_documents
from ..models.language_model import LanguageModel, build_language_model
from ..tokenizer import Tokenizer
from .callbacks import Throughput, fit_record, standard_callbacks

log = logging.getLogger(__name__)

ROUNDINGS = {"float16": np.float16}
# With `--window-state carried`: the share of rows that restart from a zero state at each training batch (besides
# every row at the start of a pass), so that the model still learns to begin from nothing, as every prompt and
# every held-out play does. One in eight: a row carries its state over 8 windows (1,024 tokens) on average.
RESTART_SHARE = 0.125


@dataclass(frozen=True)
class FittedLanguageModel:
    """A trained language model and what its run measured.

    Attributes:
        model: the Keras model with its best (and, if asked, rounded) weights; `model.config` is its config.
        metrics: held-out bits per character and the figures of the run, as config.json records them.
        bits_per_char_at_start: held-out bits per character of the initial weights, when they came from a
            checkpoint (`initial`); else None.
    """

    model: keras.Model
    metrics: dict
    bits_per_char_at_start: float | None = None


def effective_projection(model) -> np.ndarray:
    """The (layers·units, vocab) matrix a language model maps its layers' outputs with."""
    kernel = np.asarray(model.projection.kernel)
    return kernel if model.bottleneck is None else np.asarray(model.bottleneck.kernel) @ kernel


def round_matrices(model, precision: str) -> int:
    """Rounds every weight matrix of a language model but its embedding to the nearest `precision`
    value, kept in float32; returns the number of weights rounded. The embedding is left alone:
    the serving steps read one row of it per token, already multiplied into a float32 table."""
    if precision not in ROUNDINGS:
        raise ValueError(f"--round-matrices must be one of {sorted(ROUNDINGS)} or empty, not {precision!r}")
    kind = ROUNDINGS[precision]
    count = 0
    for weight in model.weights:
        if len(weight.shape) != 2 or weight.path == model.embedding.embeddings.path:
            continue
        values = np.asarray(weight, dtype=np.float32)
        rounded = values.astype(kind)
        if not np.isfinite(rounded).all():
            raise ValueError(f"{weight.path} has values beyond {precision}'s range")
        weight.assign(rounded.astype(np.float32))
        count += values.size
    return count


def initialise_from(model, source) -> None:
    """Starts `model` from a trained language model of the same cell and sizes.

    Embedding and RNN weights are copied. When `model` reads the layers' outputs through a
    bottleneck of rank r, its two matrices start as the source projection's best rank-r
    approximation (truncated SVD, the singular values split evenly between them): the model
    starts near the source's quality and training only has to recover the difference.
    """
    if (source.config.cell, source.config.units, source.config.num_layers, source.config.embedding_dim) != (
            model.config.cell, model.config.units, model.config.num_layers, model.config.embedding_dim):
        raise ValueError("--init-from needs a checkpoint with the same cell, units, layers and embedding size")
    model.embedding.set_weights(source.embedding.get_weights())
    for target_rnn, source_rnn in zip(model.rnn_layers, source.rnn_layers):
        target_rnn.set_weights(source_rnn.get_weights())
    full = effective_projection(source)  # (layers·units, vocab)
    bias = np.asarray(source.projection.bias)
    if model.bottleneck is None:
        model.projection.set_weights([full, bias])
        return
    rank = model.config.projection_rank
    u, singular, vt = np.linalg.svd(full, full_matrices=False)
    root = np.sqrt(singular[:rank])
    model.bottleneck.set_weights([u[:, :rank] * root])
    model.projection.set_weights([root[:, None] * vt[:rank], bias])


class CarriedStateModel(LanguageModel):
    """A language model that trains on lanes (`data.datasets.language_model_lanes`): each batch's rows start from
    the states the previous batch's rows ended in, zeroed where the batch marks a row fresh; training and
    validation each carry their own. Gradients stop at the batch's first token. The weights are those of
    `LanguageModel` (the carried states are not Keras weights), so the trained weights load into one as they are.
    """

    def carry_states(self, batch_size: int) -> "CarriedStateModel":
        """Creates the zero states carried between batches of `batch_size` rows (before `fit`)."""
        def zeros():
            return [[tf.Variable(part, trainable=False) for part in layer] for layer in self.initial_state(batch_size)]

        object.__setattr__(self, "_carried", {"train": zeros(), "test": zeros()})  # untracked: not weights
        return self

    def _states(self, kind: str, fresh):
        keep = (1.0 - fresh)[:, None]  # (batch, 1): 0 zeroes a fresh row's state
        return [[part * keep for part in layer] for layer in self._carried[kind]]

    def _keep(self, kind: str, states) -> None:
        for variables, layer in zip(self._carried[kind], states):
            for variable, part in zip(variables, layer):
                variable.assign(tf.stop_gradient(part))

    def _step(self, data, kind: str, training: bool):
        (tokens, fresh), targets = data
        logits, states = self(tokens, states=self._states(kind, fresh), training=training, return_state=True)
        loss = self.compute_loss(x=tokens, y=targets, y_pred=logits, training=training)
        self._loss_tracker.update_state(loss, sample_weight=tf.shape(tokens)[0])
        self._keep(kind, states)
        return loss, (tokens, targets, logits)

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss, seen = self._step(data, "train", True)
        weights = self.trainable_weights
        self.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return self.compute_metrics(*seen)

    def test_step(self, data):
        return self.compute_metrics(*self._step(data, "test", False)[1])


def compile_language_model(model, training: TrainingConfig) -> None:
    """Adam with gradient clipping on the next-token cross-entropy (the model outputs logits)."""
    model.compile(
        optimizer=keras.optimizers.Adam(training.learning_rate, clipnorm=training.clipnorm),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


def _windows(tokenizer: Tokenizer, train_texts, validation_texts, training: TrainingConfig):
    """(training windows, shuffled and repeated when epochs are counted in steps; validation windows).
    With `window_state` "carried": lanes instead, each batch continuing the one before (one pass of the validation
    text, from its first token)."""
    if training.window_state == "carried":
        lanes = {"seq_len": training.seq_len, "batch_size": training.batch_size}
        return (language_model_lanes(encode_documents(tokenizer, train_texts), shuffle=True, seed=training.seed,
                                     reset_share=RESTART_SHARE, **lanes),
                language_model_lanes(encode_documents(tokenizer, validation_texts), shuffle=False, **lanes))
    train_ds = language_model_windows(encode_documents(tokenizer, train_texts), seq_len=training.seq_len,
                                      batch_size=training.batch_size, shuffle=True, seed=training.seed)
    validation_ds = language_model_windows(encode_documents(tokenizer, validation_texts),
                                           seq_len=training.seq_len, batch_size=training.batch_size,
                                           shuffle=False)
    if training.steps_per_epoch:
        train_ds = train_ds.repeat()
    return train_ds, validation_ds


def _start_from(model, initial, tokenizer: Tokenizer, validation_texts, *, label: str) -> float:
    """Copies the weights of the checkpoint `initial` (called `label` in the log) into `model`; returns the
    held-out bits per character then."""
    initialise_from(model, initial.model)
    start = evaluation.bits_per_char(model, tokenizer, validation_texts)["bits_per_char"]
    log.info("initialised from %s: held-out %.4f bits/char before training", label, start)
    return start


def _rounded_metrics(model, tokenizer: Tokenizer, validation_texts, precision: str) -> dict:
    """Held-out bits per character after rounding the matrices to `precision` ("": no rounding)."""
    if not precision:
        return evaluation.bits_per_char(model, tokenizer, validation_texts)
    unrounded = evaluation.bits_per_char(model, tokenizer, validation_texts)["bits_per_char"]
    rounded = round_matrices(model, precision)
    log.info("rounded %d matrix weights to %s values (held-out %.4f bits/char before)", rounded, precision, unrounded)
    return {**evaluation.bits_per_char(model, tokenizer, validation_texts), "bits_per_char_before_rounding": unrounded}


def fit_language_model(model_config: LanguageModelConfig, training: TrainingConfig, train_texts, validation_texts, *,
                       tokenizer: Tokenizer, run_dir: Path, quick: bool = False,
                       initial=None) -> FittedLanguageModel:
    """Trains a language model on `train_texts` and measures it on `validation_texts`.

    Args:
        model_config: the model's shape; its vocabulary size is taken from `tokenizer`.
        training: the run's settings; `round_matrices` rounds the weights after training.
        train_texts: documents to learn from, each starting from a fresh state.
        validation_texts: held-out documents: early stopping watches them, bits per character are measured on them.
        tokenizer: the tokenizer that encodes the texts.
        run_dir: the folder of the training log (and, unless `quick`, the resumable backup).
        quick: a tiny run: no progress lines, no backup.
        initial: a language-model checkpoint of the same cell and sizes to start from (`--init-from`), or None.
    Returns:
        The model and its metrics.
    """
    keras.utils.set_random_seed(training.seed)
    model_config = replace(model_config, vocab_size=tokenizer.vocab_size)
    if training.strategy:  # several replicas: tf.distribute and a custom loop instead of `fit`
        from .distributed import fit_distributed

        return fit_distributed(model_config, training, train_texts, validation_texts, tokenizer=tokenizer,
                               run_dir=run_dir, quick=quick, initial=initial)
    train_ds, validation_ds = _windows(tokenizer, train_texts, validation_texts, training)
    carried = training.window_state == "carried"
    model = build_language_model(model_config, CarriedStateModel if carried else LanguageModel)
    if carried:
        model.carry_states(training.batch_size)
    start = None
    if initial is not None:
        start = _start_from(model, initial, tokenizer, validation_texts, label=training.init_from or initial.name)
    compile_language_model(model, training)
    throughput = Throughput(training.seq_len * training.batch_size)
    time_limit, callbacks = standard_callbacks(training, quick=quick, run_dir=run_dir, extra=[throughput])
    started = time.monotonic()
    history = model.fit(train_ds, validation_data=validation_ds, epochs=training.epochs,
                        steps_per_epoch=training.steps_per_epoch, validation_steps=training.validation_steps,
                        callbacks=callbacks, verbose=2 if not quick else 0)
    record = fit_record(model, history, time_limit, started)
    if carried:  # the plain model of the same weights, which measures, rounds and saves as every other
        trained = build_language_model(model_config)
        trained.set_weights(model.get_weights())
        model = trained
    metrics = _rounded_metrics(model, tokenizer, validation_texts, training.round_matrices)
    metrics.update(record, validation_loss=min(history.history.get("val_loss", [float("nan")])),
                   train_tokens_per_second=round(throughput.tokens_per_second, 1))
    return FittedLanguageModel(model, metrics, start)
