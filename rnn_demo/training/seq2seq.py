"""The seq2seq trainer: teacher forcing on (source ids, target ids) pairs, for the chatbot.

Each model gives what differs as a `Seq2SeqTask` (its pairs, probe, metrics and data record);
`train_seq2seq` does the rest: start, fit, measure, save.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import keras

from .. import evaluation
from ..config import TrainingConfig
from ..data.datasets import seq2seq_batches
from ..models.seq2seq import build_seq2seq
from .callbacks import Probe, fit_record, standard_callbacks
from .run import Run, provenance

log = logging.getLogger(__name__)

FAMILY = "seq2seq"
# The weights' shapes depend on these fields only (lengths and dropout do not): what `--init-from` must match.
SIZES = ("vocab_size", "embedding_dim", "encoder_units", "decoder_units", "attention_units")
QUICK_MODEL = dict(embedding_dim=16, encoder_units=16, decoder_units=24, attention_units=8, dropout=0.0)
QUICK_TRAINING = dict(batch_size=16, epochs=2, steps_per_epoch=8, max_minutes=1.0, init_from="")
QUICK_EXCHANGES = 400  # pairs per split in a quick run, shared evenly by the sources
QUICK_METRIC_QUESTIONS = 8  # questions or gaps of each kind the metrics of a quick run try
PROBE_QUESTIONS = 40  # held-out questions or gaps tried after every epoch (logged only)


@dataclass(frozen=True)
class Seq2SeqPairs:
    """The (source ids, target ids) pairs of one run.

    Attributes:
        train: what the model learns from.
        validation: watched during training (early stopping, learning-rate decay).
        heldout: what the reported held-out loss is measured on; None: the validation pairs.
    """

    train: list
    validation: list
    heldout: list | None = None


@dataclass(frozen=True)
class Seq2SeqTask:
    """What one seq2seq model trains on and is measured by.

    Attributes:
        pairs: (tokenizer, model config, training config, quick) -> the run's pairs.
        probe: (tokenizer, model config) -> the held-out probe logged after every epoch of a full run.
        metrics: (NumPy model, tokenizer, model config, quick) -> its held-out metrics for config.json.
        data: (quick) -> the record of its training data for config.json.
    """

    pairs: Callable[..., Seq2SeqPairs]
    probe: Callable[..., Probe]
    metrics: Callable[..., dict]
    data: Callable[[bool], dict]


def spread(items: Sequence, limit: int | None) -> list:
    """At most `limit` items taken evenly across `items` (all of them when `limit` is None)."""
    if limit is None or len(items) <= limit:
        return list(items)
    return list(items[::len(items) // limit][:limit])


def sample(items: Sequence, limit: int | None, seed: int) -> list:
    """A fixed random sample of at most `limit` items, in a seeded order."""
    if limit is None or len(items) <= limit:
        return list(items)
    return random.Random(seed).sample(list(items), limit)


def mixed_pairs(sources: Sequence[str], examples_of: Callable[[str, str], Sequence],
                encode: Callable[[str, list], list], split: str, *, mix: dict | None, quick: bool,
                limits: dict | None = None, seed: int = 0) -> list:
    """The pairs of `split` from several sources, each cut to its limit, encoded, and repeated as `mix` says.

    Args:
        sources: the source names, in the order their pairs come.
        examples_of: (source, split) -> that source's examples.
        encode: (source, chosen examples) -> their pairs (it may leave some out or repeat them).
        split: "train" or "validation".
        mix: copies of each source's pairs; None, or a source it lacks: one.
        quick: take `QUICK_EXCHANGES` examples in all, shared evenly by the sources.
        limits: at most this many examples of a source (training takes a random sample with `seed`,
            validation takes them evenly spread); None, or a source it lacks: all.
        seed: the training sample's seed.
    Returns:
        The (source ids, target ids) pairs.
    """
    pairs = []
    for source in sources:
        limit = QUICK_EXCHANGES // len(sources) if quick else (limits or {}).get(source)
        found = examples_of(source, split)
        chosen = sample(found, limit, seed) if split == "train" else spread(found, limit)
        pairs += encode(source, chosen) * (mix or {}).get(source, 1)
    return pairs


def numpy_probe(name: str, measure: Callable[[object], float]) -> Probe:
    """A `Probe` whose `measure` reads the model through its NumPy step (`NumpySeq2Seq`), as the app serves it."""
    from ..models.numpy_step import NumpySeq2Seq

    return Probe(name, lambda model: measure(NumpySeq2Seq(model)))


def _start(model_config, training: TrainingConfig, initial):
    """A new model of `model_config`, with the weights of the checkpoint `initial` if there is one."""
    model = build_seq2seq(model_config)
    if initial is not None:
        if any(getattr(initial.model_config, size) != getattr(model_config, size) for size in SIZES):
            raise ValueError(f"--init-from {training.init_from}: its layer sizes differ from this run's")
        model.set_weights(initial.model.get_weights())
    return model


def fit_seq2seq(model_config, training: TrainingConfig, pairs: Seq2SeqPairs, *, quick: bool, run_dir: Path,
                extra_callbacks=(), initial=None):
    """Trains a seq2seq model with teacher forcing on (source ids, target ids) pairs.

    Args:
        model_config: the model's `Seq2SeqConfig`.
        training: the run's settings.
        pairs: the training, validation and held-out pairs.
        quick: a tiny run: no progress lines, no resumable backup.
        run_dir: the folder of the training log and the backup.
        extra_callbacks: more Keras callbacks, e.g. a capital probe.
        initial: a checkpoint of the same layer sizes whose weights start the run (`--init-from`).
    Returns:
        (the model with its best weights, training metrics including the held-out loss).
    """
    keras.utils.set_random_seed(training.seed)
    train_ds = seq2seq_batches(pairs.train, batch_size=training.batch_size, shuffle=True, seed=training.seed)
    validation_ds = seq2seq_batches(pairs.validation, batch_size=training.batch_size, shuffle=False)
    if training.steps_per_epoch:
        train_ds = train_ds.repeat()
    model = _start(model_config, training, initial)
    model.compile(optimizer=keras.optimizers.Adam(training.learning_rate, clipnorm=training.clipnorm),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0))
    time_limit, callbacks = standard_callbacks(training, quick=quick, run_dir=run_dir, extra=extra_callbacks)
    started = time.monotonic()
    history = model.fit(train_ds, validation_data=validation_ds, epochs=training.epochs,
                        steps_per_epoch=training.steps_per_epoch, callbacks=callbacks, verbose=2 if not quick else 0)
    record = fit_record(model, history, time_limit, started)
    heldout = pairs.heldout if pairs.heldout is not None else pairs.validation
    return model, {
        "heldout_loss": evaluation.seq2seq_loss(model, seq2seq_batches(heldout, batch_size=training.batch_size,
                                                                       shuffle=False)),
        **record,
        "train_pairs": len(pairs.train),
        "validation_pairs": len(pairs.validation),
        "heldout_pairs": len(heldout),
    }


def train_seq2seq(task: Seq2SeqTask, model_config, training: TrainingConfig, run: Run) -> dict:
    """Trains the model of `task`, measures it on held-out data, and saves the checkpoint of `run`.

    Args:
        task: what the model trains on and is measured by.
        model_config: its `Seq2SeqConfig`; the vocabulary size is taken from the tokenizer.
        training: the run's settings.
        run: the tokenizer, where the checkpoint goes, and how the run was asked for.
    Returns:
        The checkpoint's config.json contents.
    """
    from ..models.numpy_step import NumpySeq2Seq

    if training.round_matrices:
        raise ValueError("--round-matrices applies to the Shakespeare language models only")
    model_config = replace(model_config, vocab_size=run.tokenizer.vocab_size)
    pairs = task.pairs(run.tokenizer, model_config, training, quick=run.quick)
    probes = [] if run.quick else [task.probe(run.tokenizer, model_config)]
    initial = run.initial_checkpoint(training)
    model, metrics = fit_seq2seq(model_config, training, pairs, quick=run.quick, run_dir=run.run_dir,
                                 extra_callbacks=probes, initial=initial)
    metrics.update(task.metrics(NumpySeq2Seq(model), run.tokenizer, model_config, quick=run.quick))
    meta = run.save(model, family=FAMILY, training=training, metrics=metrics, data=task.data(run.quick),
                    initialised_from=provenance(initial) if initial is not None else None)
    log.info("%s: %s", run.name, {key: value for key, value in metrics.items() if isinstance(value, float)})
    return meta
