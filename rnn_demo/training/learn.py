"""The Learn recipe: `train learn [--part P]` trains the Learn tab's small models and writes its studies' data.

Parts (each model ≤ 10 minutes on 2 cores at the defaults): `caption` (one-to-many), `genre` (many-to-one GRU
and the one-to-one bag of embeddings, side by side), `copy` (SimpleRNN, GRU, LSTM on the copy task, with the
gradient norms → assets/learn/copy_task.json), `choices` (one small model under SGD, momentum, Adam, with and
without dropout → assets/learn/training_choices.json); `all` runs them in that order. `roles` trains nothing:
it measures the hidden units' roles of the language model the Unroll panel shows, in `--out`, on the held-out
plays (→ assets/learn/unit_roles.json, read instead of measuring them at the first Unroll).
"""
from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np

from .. import checkpoints
from ..config import TrainingConfig, dumps
from ..learn import copy_task, genres, hidden, scenes
from ..learn.config import ALL_PARTS, COPY_CELLS, CaptionConfig, CopyConfig, GenreConfig, LearnConfig
from ..learn.store import CHOICES_FILE, COPY_FILE, ROLES_FILE, TWINS
from ..models.weights import named
from .recipe import Recipe
from .run import Run

log = logging.getLogger(__name__)

FAMILY = "learn"
TRAINING = TrainingConfig(batch_size=64, learning_rate=3e-3, epochs=40, patience=4, max_minutes=4.0, seed=1234)
QUICK_TRAINING = dict(epochs=2, max_minutes=0.3)
SIZES = {"caption_train": 8000, "caption_test": 1000, "copy_train": 16_000, "copy_test_each": 200,
         "choices_speeches": 6000}
QUICK_SIZES = {"caption_train": 300, "caption_test": 40, "copy_train": 400, "copy_test_each": 20,
               "choices_speeches": 400}
QUICK_COPY_DISTANCE = 8
CAPTION_TEST_SEED = 99  # held-out scenes come from another seed than the training ones
VALIDATION_SHARE = 10  # every 10th training speech or scene guards early stopping; held-out data never does
CHOICES = {  # name: (optimizer, its settings, dropout)
    "SGD": ("sgd", {"learning_rate": 0.1}, 0.3),
    "SGD + momentum 0.9": ("sgd", {"learning_rate": 0.1, "momentum": 0.9}, 0.3),
    "Adam": ("adam", {"learning_rate": 3e-3}, 0.3),
    "Adam, no dropout": ("adam", {"learning_rate": 3e-3}, 0.0),
}
CHOICES_EPOCHS = 25


def train(model_config: LearnConfig, training: TrainingConfig, run: Run) -> dict:
    """Trains the part `model_config.part` names (or all); returns {"metrics": {part: its figures}}."""
    import keras

    keras.utils.set_random_seed(training.seed)
    parts = ALL_PARTS if model_config.part == "all" else (model_config.part,)
    sizes = QUICK_SIZES if run.quick else SIZES
    run.directory.mkdir(parents=True, exist_ok=True)
    metrics = {part: TRAINERS[part](training, run, sizes) for part in parts}
    return {"metrics": metrics}


def _fit(model, inputs, targets, training: TrainingConfig, *, loss=None, epochs=None, class_weight=None,
         validation=None) -> dict:
    """Fits with Adam, early stopping on the validation loss (best weights kept) and the time limit."""
    import keras

    from .callbacks import TimeLimit

    model.compile(keras.optimizers.Adam(training.learning_rate, clipnorm=training.clipnorm),
                  loss or keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    stop = keras.callbacks.EarlyStopping(patience=training.patience, restore_best_weights=True)
    history = model.fit(inputs, targets, batch_size=training.batch_size, epochs=epochs or training.epochs,
                        validation_data=validation, callbacks=[stop, TimeLimit(training.max_minutes)],
                        class_weight=class_weight, verbose=0)
    return {"epochs_run": len(history.history["loss"]),
            "validation_loss": round(float(min(history.history["val_loss"])), 4)}


def _split(count: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows) of `count` rows: every VALIDATION_SHARE-th validates."""
    rows = np.arange(count)
    return rows[rows % VALIDATION_SHARE != 0], rows[rows % VALIDATION_SHARE == 0]


def _save(run: Run, name: str, model, *, training: TrainingConfig, metrics: dict, data: dict) -> dict:
    """Saves one Learn checkpoint beside the others (assets/<name>/) through the checkpoint module."""
    checkpoint = dataclasses.replace(run, name=name)
    family = {"caption": "caption", "genre": "genre", "copy": "copy"}[name.split("-")[1]]
    return checkpoint.save(model, family=family, training=training, metrics=metrics, data=data)


def _twin(model, family: str):
    """The NumPy twin of a trained Keras model (what the page serves, so held-out figures are measured on it)."""
    return TWINS[family](model.config, named(model))


def train_caption(training: TrainingConfig, run: Run, sizes: dict) -> dict:
    """The one-to-many captioner on generated scenes; held out: scenes from another seed, captioned greedily."""
    import keras

    from ..models.learn_models import build_caption_model

    config = CaptionConfig(caption_vocab=len(scenes.VOCABULARY))
    images, words, targets, _ = scenes.dataset(sizes["caption_train"], training.seed, config.max_words)
    fit, check = _split(len(images))
    model = build_caption_model(config)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=scenes.WORD_ID[scenes.PAD])
    started = time.monotonic()
    fitted = _fit(model, [images[fit], words[fit]], targets[fit], training, loss=loss,
                  validation=([images[check], words[check]], targets[check]))
    test_images, _, _, captions = scenes.dataset(sizes["caption_test"], CAPTION_TEST_SEED, config.max_words)
    twin = _twin(model, "caption")
    written = [" ".join(word for word, _ in twin.caption(image)) for image in test_images]
    metrics = {"caption_accuracy": round(float(np.mean([w == c for w, c in zip(written, captions)])), 4),
               "word_accuracy": round(_word_accuracy(written, captions), 4), "held_out_scenes": len(captions),
               "minutes": round((time.monotonic() - started) / 60, 2), **fitted}
    _save(run, "learn-caption", model, training=training, metrics=metrics,
          data={"train_scenes": int(len(fit)), "seed": training.seed, "held_out_seed": CAPTION_TEST_SEED,
                "quick": run.quick})
    log.info("captions: %s", metrics)
    return metrics


def _word_accuracy(written: list[str], truths: list[str]) -> float:
    """Words right in their place, over the longer of each pair's lengths."""
    right = total = 0
    for mine, truth in zip(written, truths):
        mine, truth = mine.split(), truth.split()
        right += sum(a == b for a, b in zip(mine, truth))
        total += max(len(mine), len(truth))
    return right / max(total, 1)


def train_genre(training: TrainingConfig, run: Run, sizes: dict) -> dict:
    """The many-to-one GRU and the one-to-one bag of embeddings, same data, scored on held-out plays."""
    from ..models.learn_models import build_genre_model

    base = GenreConfig(vocab_size=run.tokenizer.vocab_size)
    limit = sizes["choices_speeches"] if run.quick else None
    train_set = genres.speeches("train", run.tokenizer, base.max_tokens, limit=limit)
    held_out = genres.speeches("validation", run.tokenizer, base.max_tokens, limit=limit)
    fit, check = _split(len(train_set.labels))
    results = {}
    for kind in ("gru", "bag"):
        config = dataclasses.replace(base, kind=kind)
        model = build_genre_model(config)
        started = time.monotonic()
        fitted = _fit(model, train_set.ids[fit], train_set.labels[fit], training,
                      class_weight=genres.class_weights(train_set.labels[fit]),
                      validation=(train_set.ids[check], train_set.labels[check]))
        report = genres.accuracy_report(_twin(model, "genre").predict(held_out.ids), held_out)
        metrics = {**report, "minutes": round((time.monotonic() - started) / 60, 2), **fitted}
        _save(run, f"learn-genre-{kind}", model, training=training, metrics=metrics,
              data={"genres": genres.SOURCE, "held_out_plays": list(genres.HELD_OUT_PLAYS),
                    "train_speeches": int(len(fit)), "min_words": genres.MIN_WORDS, "quick": run.quick})
        log.info("genre %s: accuracy %.3f, balanced %.3f", kind, report["accuracy"], report["balanced_accuracy"])
        results[kind] = {key: metrics[key] for key in ("accuracy", "balanced_accuracy", "speeches", "minutes")}
    return results


def train_copy(training: TrainingConfig, run: Run, sizes: dict) -> dict:
    """SimpleRNN, GRU and LSTM on the copy task; writes assets/learn/copy_task.json (norms and accuracy vs N)."""
    from ..models.learn_models import build_copy_model

    base = CopyConfig(max_distance=QUICK_COPY_DISTANCE if run.quick else CopyConfig.max_distance)
    study = {"command": run.command, "task": copy_task.__doc__.split("\n\n")[0], "symbols": base.symbols,
             "units": base.copy_units, "max_distance": base.max_distance, "cells": {}}
    for cell in COPY_CELLS:
        config = dataclasses.replace(base, cell=cell)
        model = build_copy_model(config)
        rng = np.random.default_rng(training.seed)
        inputs, targets, _ = copy_task.batch(config, rng, sizes["copy_train"])
        at_start = copy_task.measure(_twin(model, "copy"), config, distance=config.max_distance, seed=training.seed)
        started = time.monotonic()
        fit, check = _split(len(targets))
        fitted = _fit(model, inputs[fit], targets[fit], training, validation=(inputs[check], targets[check]))
        twin = _twin(model, "copy")
        trained = copy_task.measure(twin, config, distance=config.max_distance, seed=training.seed)
        accuracy = [copy_task.measure(twin, config, distance=n, seed=training.seed + n,
                                      size=sizes["copy_test_each"])["accuracy"]
                    for n in range(1, config.max_distance + 1)]
        metrics = {"accuracy_by_distance": [round(a, 4) for a in accuracy],
                   "mean_accuracy": round(float(np.mean(accuracy)), 4),
                   "minutes": round((time.monotonic() - started) / 60, 2), **fitted}
        _save(run, f"learn-copy-{cell}", model, training=training, metrics=metrics,
              data={"train_sequences": int(len(fit)), "seed": training.seed, "quick": run.quick})
        study["cells"][cell] = {**metrics, "gradient_norms_at_start": at_start["gradient_norms"],
                                "gradient_norms_trained": trained["gradient_norms"]}
        log.info("copy %s: mean accuracy %.3f", cell, metrics["mean_accuracy"])
    (run.directory / COPY_FILE).write_text(dumps(study), encoding="utf-8")
    return {cell: study["cells"][cell]["mean_accuracy"] for cell in COPY_CELLS}


def train_choices(training: TrainingConfig, run: Run, sizes: dict) -> dict:
    """The bag-of-embeddings genre model under each of CHOICES, for a fixed number of epochs, with the epoch
    early stopping (patience `training.patience`) would have stopped at; writes training_choices.json."""
    import keras

    from ..models.learn_models import build_genre_model

    data = genres.speeches("train", run.tokenizer, GenreConfig.max_tokens, limit=sizes["choices_speeches"])
    fit, check = _split(len(data.labels))
    epochs = 2 if run.quick else CHOICES_EPOCHS
    study = {"command": run.command, "model": "genre bag of embeddings (learn-genre-bag's shape)",
             "epochs": epochs, "patience": training.patience, "train_speeches": int(len(fit)), "runs": {}}
    for name, (optimizer, settings, dropout) in CHOICES.items():
        keras.utils.set_random_seed(training.seed)
        model = build_genre_model(GenreConfig(kind="bag", vocab_size=run.tokenizer.vocab_size, genre_dropout=dropout))
        model.compile(keras.optimizers.get({"class_name": optimizer, "config": settings}),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(data.ids[fit], data.labels[fit], batch_size=training.batch_size, epochs=epochs,
                            validation_data=(data.ids[check], data.labels[check]), verbose=0).history
        study["runs"][name] = {"optimizer": optimizer, **settings, "dropout": dropout,
                               "train_loss": [round(v, 4) for v in history["loss"]],
                               "validation_loss": [round(v, 4) for v in history["val_loss"]],
                               **early_stop(history["val_loss"], training.patience)}
    (run.directory / CHOICES_FILE).write_text(dumps(study), encoding="utf-8")
    return {name: round(min(r["validation_loss"]), 4) for name, r in study["runs"].items()}


def measure_roles(training: TrainingConfig, run: Run, sizes: dict) -> dict:
    """The hidden units' roles (`hidden.unit_roles`) of the language model in `run.out_dir` that the Learn tab
    unrolls, with the sha256 of its weights; writes assets/learn/unit_roles.json."""
    from ..models import registry
    from ..serving.engine import Engine

    name = registry.DEFAULT_LANGUAGE_MODEL
    engine = Engine(run.out_dir)
    found = hidden.unit_roles(engine.language_model(name).numpy_model, engine.tokenizer)
    study = {"command": run.command, "model": name, "files": checkpoints.read_meta(run.out_dir / name)["files"],
             "texts": f"the first {hidden.ROLE_SAMPLE_CHARS:,} characters of each held-out play", **found}
    run.directory.mkdir(parents=True, exist_ok=True)
    (run.directory / ROLES_FILE).write_text(dumps(study), encoding="utf-8")
    return {feature: [r for _, r in units] for feature, units in found["roles"].items()}


def early_stop(validation_loss: list[float], patience: int) -> dict:
    """Where early stopping would act on this curve: {"best_epoch", "stopped_epoch"} (1-based; stopped is the
    last epoch when it never triggers)."""
    best, stopped = 0, len(validation_loss)
    for epoch, loss in enumerate(validation_loss):
        if loss < validation_loss[best]:
            best = epoch
        elif epoch - best >= patience:
            stopped = epoch + 1
            break
    return {"best_epoch": best + 1, "stopped_epoch": stopped}


def evaluate(engine, *, model: str, text=None) -> dict:
    """The Learn models' held-out figures, as recorded in their config.json when they were trained."""
    from ..models import registry

    return {name: checkpoints.read_meta(engine.assets / name).get("metrics", {})
            for name in registry.names(target="learn", lazy=True)}


TRAINERS = {"caption": train_caption, "genre": train_genre, "copy": train_copy, "choices": train_choices,
            "roles": measure_roles}
RECIPE = Recipe(family=FAMILY, training=TRAINING, train=train, evaluate=evaluate, default_name=lambda config: "learn",
                quick_training=QUICK_TRAINING)
