"""Training a language model on several replicas with tf.distribute: the strategy, the batches, the custom loop.

Keras 3's `fit` is broken under `MultiWorkerMirroredStrategy` (keras-team/keras#20585), so both
strategies train with the loop below. One step on R replicas equals one step of one process on the
same global batch: each replica takes its slice of the global batch, its loss is scaled by the
global batch size, gradients are summed across replicas, and each gradient is clipped by the norm
of its *sum* (Keras's `clipnorm` would clip each replica's part apart, which one process never does).

Every decision that ends a loop (time limit, early stopping, the learning rate's halving) is taken on
numbers agreed by all workers, so that no worker waits forever in a collective the others left.
"""
from __future__ import annotations

import csv
import functools
import json
import logging
import os
import time
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from ..config import LanguageModelConfig, TrainingConfig
from ..data.datasets import language_model_windows
from ..data.encoding import encode_documents
from ..models.language_model import build_language_model
from ..tokenizer import Tokenizer
from .callbacks import HISTORY_FILE, LR_DECAY_FACTOR, MIN_LEARNING_RATE

log = logging.getLogger(__name__)

STEPS_FILE = "steps.csv"  # the loss of every step, as all replicas together computed it
MIN_IMPROVEMENT = 1e-4  # of the validation loss, to count as better (as Keras's ReduceLROnPlateau)


@functools.cache
def strategy(name: str) -> tf.distribute.Strategy:
    """The process's one strategy called `name` ("mirrored" or "multi-worker").

    Cached: a process configures its collective operations once. "multi-worker" must be created
    before any other TensorFlow operation runs (TensorFlow refuses later), so the command line asks
    for it first; it reads the cluster and this worker's place in it from TF_CONFIG.
    """
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}; the strategies are mirrored and multi-worker")


def worker_index() -> int:
    """This process's worker number in TF_CONFIG: 0 is the chief, which alone keeps the checkpoint."""
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = config.get("task", {})
    if task.get("type") == "chief":
        return 0
    return int(task.get("index", 0)) + (1 if "chief" in config.get("cluster", {}) else 0)


def replica_batches(strategy: tf.distribute.Strategy, stream: np.ndarray, training: TrainingConfig):
    """The training windows as a distributed dataset: global batch i of one process, cut into one slice
    per replica, in replica order (so the replicas of all workers together see exactly that batch).

    Args:
        strategy: the strategy whose replicas read the slices.
        stream: the encoded training text.
        training: `batch_size` is the global batch; `seq_len` and `seed` as for one process.
    """
    replicas = strategy.num_replicas_in_sync
    if training.batch_size % replicas:
        raise ValueError(f"--batch-size {training.batch_size} must be a multiple of the {replicas} replicas")
    per_replica = training.batch_size // replicas

    def slices(context: tf.distribute.InputContext):
        local = replicas // context.num_input_pipelines  # the replicas this worker feeds
        first = context.input_pipeline_id * local
        batches = language_model_windows(stream, seq_len=training.seq_len, batch_size=training.batch_size,
                                         shuffle=True, seed=training.seed).repeat()

        def cut(inputs, targets):  # (batch, seq) → (local replicas, per replica, seq)
            shape = (replicas, per_replica, training.seq_len)
            return (tf.reshape(inputs, shape)[first:first + local], tf.reshape(targets, shape)[first:first + local])

        return batches.map(cut).unbatch()

    return strategy.distribute_datasets_from_function(slices)


@dataclass
class LoopRecord:
    """What the loop measured: per step and per epoch, as the training log and config.json report them."""

    step_losses: list[float] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)
    stopped_by_time_limit: bool = False
    seconds: float = 0.0
    tokens: int = 0


class DistributedLoop:
    """The training step, the validation loss and the agreements between workers, for one model.

    Args:
        strategy: the strategy the model's variables were created under.
        model: the language model, built under `strategy.scope()`.
        optimizer: its optimizer, built under the scope, without clipping (the loop clips).
        training: the run's settings (`batch_size` global, `clipnorm`).
    """

    def __init__(self, strategy, model, optimizer, training: TrainingConfig):
        self.strategy, self.model, self.optimizer, self.training = strategy, model, optimizer, training
        self._train_step = tf.function(self._distributed_step)
        self._batch_loss = tf.function(self._summed_token_loss)
        self._mean = tf.function(self._mean_over_replicas)

    def _token_losses(self, inputs, targets, training: bool):
        logits = self.model(inputs, training=training)  # (batch, seq, vocab)
        return keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)  # (batch, seq)

    def _replica_step(self, inputs, targets, over_time):
        """One replica's part of a step; returns (the global batch's loss, whether any worker is past its time)."""
        context = tf.distribute.get_replica_context()
        with tf.GradientTape() as tape:
            per_window = tf.reduce_mean(self._token_losses(inputs, targets, True), axis=1)  # (per replica,)
            loss = tf.nn.compute_average_loss(per_window, global_batch_size=self.training.batch_size)
        variables = self.model.trainable_variables
        parts = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]  # this replica's share
        totals = context.all_reduce(tf.distribute.ReduceOp.SUM, parts)
        clip = self.training.clipnorm
        # Clipping is a scaling, so scaling every share by the factor of the sum clips the sum the optimizer makes.
        scaled = [part * (clip / tf.maximum(tf.norm(total), clip)) for part, total in zip(parts, totals)]
        self.optimizer.apply_gradients(zip(scaled, variables))  # sums the shares across replicas
        return (context.all_reduce(tf.distribute.ReduceOp.SUM, loss),
                # > 0: some worker is; `identity` places the flag on this replica's device, as all_reduce needs
                context.all_reduce(tf.distribute.ReduceOp.SUM, tf.identity(over_time)))

    def _distributed_step(self, iterator, over_time):
        inputs, targets = next(iterator)
        loss, over = self.strategy.run(self._replica_step, args=(inputs, targets, over_time))
        return self.strategy.experimental_local_results(loss)[0], self.strategy.experimental_local_results(over)[0]

    def step(self, iterator, over_time: bool) -> tuple[float, bool]:
        """Runs one step; returns (its loss, whether any worker is past the time limit)."""
        loss, over = self._train_step(iterator, tf.constant(float(over_time)))
        return float(loss), bool(over > 0)

    def _summed_token_loss(self, inputs, targets):
        return tf.reduce_sum(self._token_losses(inputs, targets, False))

    def validation_loss(self, dataset, steps: int | None) -> float:
        """Mean next-token loss over the validation windows, computed by each worker on all of them."""
        total, count = 0.0, 0
        for inputs, targets in dataset.take(steps if steps else -1):
            total += float(self._batch_loss(inputs, targets))
            count += int(np.prod(targets.shape))
        return total / max(count, 1)

    def _mean_over_replicas(self, value):
        per_replica = self.strategy.run(tf.identity, args=(value,))  # on each replica's device
        return self.strategy.reduce(tf.distribute.ReduceOp.MEAN, per_replica, axis=None)

    def agreed(self, value: float) -> float:
        """`value` averaged over the workers: the same number on each, for the decisions that end loops."""
        return float(self._mean(tf.constant(value, tf.float32)))


def _steps_per_epoch(stream: np.ndarray, training: TrainingConfig) -> int:
    """`training.steps_per_epoch`, or the global batches of one pass (the last partial one dropped, as `fit`)."""
    if training.steps_per_epoch:
        return training.steps_per_epoch
    return max(((len(stream) - 1) // training.seq_len) // training.batch_size, 1)


def _train_epochs(loop: DistributedLoop, iterator, validation, steps: int, training: TrainingConfig) -> LoopRecord:
    """Epochs of `steps` steps, each followed by the validation loss: early stopping (best weights kept) and the
    learning rate's halving on a plateau, as the Keras path's callbacks do; the time limit is checked every step."""
    record, deadline = LoopRecord(), time.monotonic() + training.max_minutes * 60.0
    best, best_weights, waited, lr_waited = float("inf"), None, 0, 0
    for epoch in range(training.epochs):
        started = time.perf_counter()
        losses = []
        for _ in range(steps):
            loss, over = loop.step(iterator, time.monotonic() > deadline)
            losses.append(loss)
            if over:
                record.stopped_by_time_limit = True
                break
        record.seconds += time.perf_counter() - started
        record.tokens += len(losses) * training.batch_size * training.seq_len
        record.step_losses += losses
        validation_loss = loop.agreed(loop.validation_loss(validation, training.validation_steps))
        rate = float(keras.ops.convert_to_numpy(loop.optimizer.learning_rate))
        record.epochs.append({"epoch": epoch, "loss": float(np.mean(losses)), "val_loss": validation_loss,
                              "learning_rate": rate})
        log.info("epoch %d: loss %.4f, validation loss %.4f", epoch + 1, record.epochs[-1]["loss"], validation_loss)
        if validation_loss < best - MIN_IMPROVEMENT:
            best, best_weights, waited, lr_waited = validation_loss, loop.model.get_weights(), 0, 0
        else:
            waited, lr_waited = waited + 1, lr_waited + 1
        if record.stopped_by_time_limit or waited >= training.patience:
            break
        if lr_waited >= training.lr_patience and training.lr_schedule == "plateau":
            loop.optimizer.learning_rate.assign(max(rate * LR_DECAY_FACTOR, MIN_LEARNING_RATE))
            lr_waited = 0
    if best_weights is not None:
        loop.model.set_weights(best_weights)
    return record


def _write_logs(record: LoopRecord, run_dir) -> None:
    """The per-epoch log (as Keras's CSVLogger writes it) and the loss of every step."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / HISTORY_FILE, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["epoch", "learning_rate", "loss", "val_loss"])
        writer.writeheader()
        writer.writerows(record.epochs)
    with open(run_dir / STEPS_FILE, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "loss"])
        writer.writerows(enumerate(record.step_losses, start=1))


def fit_distributed(model_config: LanguageModelConfig, training: TrainingConfig, train_texts, validation_texts, *,
                    tokenizer: Tokenizer, run_dir, quick: bool = False, initial=None):
    """`fit_language_model` on the replicas of `training.strategy`: the same arguments, and the same result.

    The trained weights are copied into a model built outside the strategy, so that rounding, measuring
    and saving work as in one process.
    """
    from .language_model import FittedLanguageModel, _rounded_metrics, _start_from

    if training.lr_schedule != "plateau":
        raise ValueError(f"--strategy trains with --lr-schedule plateau only (a schedule over wall-clock time "
                         f"would differ between workers), not {training.lr_schedule!r}")
    distribution = strategy(training.strategy)
    with distribution.scope():
        model = build_language_model(model_config)
        optimizer = keras.optimizers.Adam(training.learning_rate)  # no clipnorm: the loop clips the summed gradients
        optimizer.build(model.trainable_variables)
    start = None
    if initial is not None:
        start = _start_from(model, initial, tokenizer, validation_texts, label=training.init_from or initial.name)
    stream = encode_documents(tokenizer, train_texts)
    validation = language_model_windows(encode_documents(tokenizer, validation_texts), seq_len=training.seq_len,
                                        batch_size=training.batch_size, shuffle=False)
    loop = DistributedLoop(distribution, model, optimizer, training)
    log.info("training on %d replicas (%s), global batch %d", distribution.num_replicas_in_sync,
             training.strategy, training.batch_size)
    record = _train_epochs(loop, iter(replica_batches(distribution, stream, training)), validation,
                           _steps_per_epoch(stream, training), training)
    _write_logs(record, run_dir)
    trained = build_language_model(model_config)
    trained.set_weights(model.get_weights())
    metrics = _rounded_metrics(trained, tokenizer, validation_texts, training.round_matrices)
    metrics.update({
        "validation_loss": min(epoch["val_loss"] for epoch in record.epochs),
        "train_minutes": round(record.seconds / 60.0, 2),
        "train_tokens_per_second": round(record.tokens / max(record.seconds, 1e-9), 1),
        "epochs_run": len(record.epochs),
        "stopped_by_time_limit": record.stopped_by_time_limit,
        "parameters": int(trained.count_params()),
        "replicas": distribution.num_replicas_in_sync,
    })
    return FittedLanguageModel(trained, metrics, start)
