"""The Keras callbacks of a training run: time limit, throughput, held-out probes, and the standard set."""
from __future__ import annotations

import json
import logging
import math
import shutil
import time
from pathlib import Path
from typing import Callable

import keras

from ..config import TrainingConfig, to_dict

log = logging.getLogger(__name__)

LR_DECAY_FACTOR = 0.5  # the learning rate halves when the validation loss stops improving
MIN_LEARNING_RATE = 1e-4
HISTORY_FILE = "history.csv"
BACKUP_FOLDER = "backup"
SETTINGS_FILE = "settings.json"  # the settings of the run whose backup is in the folder


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


class CosineOverTime(keras.callbacks.Callback):
    """Sets the learning rate before every batch from the share of the time limit already spent:
    a linear warm-up over the first `WARMUP_SHARE`, then a cosine down to `FINAL_SHARE` of the peak.

    A schedule counted in steps would end at a high rate on a slower machine, cut off by the time
    limit; counted in time, every run ends annealed.
    """

    WARMUP_SHARE = 0.02
    FINAL_SHARE = 0.01

    def __init__(self, peak: float, minutes: float):
        super().__init__()
        self.peak, self.seconds = peak, minutes * 60.0
        self.started = None

    def rate_at(self, share: float) -> float:
        """The learning rate once `share` (0–1) of the time limit has passed."""
        share = min(max(share, 0.0), 1.0)
        if share < self.WARMUP_SHARE:
            return self.peak * max(share / self.WARMUP_SHARE, self.FINAL_SHARE)
        progress = (share - self.WARMUP_SHARE) / (1.0 - self.WARMUP_SHARE)
        floor = self.peak * self.FINAL_SHARE
        return floor + (self.peak - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def on_train_begin(self, logs=None):
        self.started = time.monotonic()

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(self.rate_at((time.monotonic() - self.started) / self.seconds))


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


class Probe(keras.callbacks.Callback):
    """Logs a quick held-out measure of the model after every epoch (for the training log only).

    Args:
        name: the log key, e.g. "capital_probe".
        measure: called with the Keras model as it stands; returns a fraction.
    """

    def __init__(self, name: str, measure: Callable[[keras.Model], float]):
        super().__init__()
        self.name, self.measure = name, measure

    def on_epoch_end(self, epoch, logs=None):
        value = self.measure(self.model)
        log.info("epoch %d: %s %.3f", epoch + 1, self.name, value)
        if logs is not None:
            logs[self.name] = value


def standard_callbacks(training: TrainingConfig, *, quick: bool, run_dir: Path,
                       extra=()) -> tuple[TimeLimit, list[keras.callbacks.Callback]]:
    """The callbacks every run trains with.

    Args:
        training: the run's settings (time limit, patience of early stopping and of the learning-rate decay).
        quick: a tiny run (tests, CI): no resumable backup.
        run_dir: the folder of the CSV log and the backup; created if missing.
        extra: more callbacks, placed right after the time limit.
    Returns:
        (the time limit, to tell whether it stopped the run; every callback, the time limit first).
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    time_limit = TimeLimit(training.max_minutes)
    if training.lr_schedule == "cosine":
        schedule = CosineOverTime(training.learning_rate, training.max_minutes)
    else:
        schedule = keras.callbacks.ReduceLROnPlateau(factor=LR_DECAY_FACTOR, patience=training.lr_patience,
                                                     min_lr=MIN_LEARNING_RATE)
    callbacks = [time_limit, *extra,
                 keras.callbacks.EarlyStopping(patience=training.patience, restore_best_weights=True),
                 schedule,
                 keras.callbacks.CSVLogger(str(run_dir / HISTORY_FILE), append=True)]
    if not quick:
        _resume_only_the_same_run(run_dir, training)
        callbacks.append(keras.callbacks.BackupAndRestore(str(run_dir / BACKUP_FOLDER)))
    return time_limit, callbacks


def fit_record(model, history, time_limit: TimeLimit, started: float) -> dict:
    """What every recipe records of a finished `fit`: its minutes since `started` (time.monotonic), the
    epochs run, whether the time limit stopped it, and the model's size."""
    return {"train_minutes": round((time.monotonic() - started) / 60.0, 2),
            "epochs_run": len(history.history.get("loss", [])),
            "stopped_by_time_limit": time_limit.stopped_early,
            "parameters": int(model.count_params())}


def _resume_only_the_same_run(run_dir: Path, training: TrainingConfig) -> None:
    """A backup left in `run_dir` resumes only a run of the same settings: one of a run with other settings
    (another `--init-from`, learning rate, time limit…) is removed, and its log kept under another name, so
    that a new run starts afresh rather than continuing the old one."""
    stamp = run_dir / SETTINGS_FILE
    settings = json.dumps(to_dict(training), sort_keys=True)
    backup = run_dir / BACKUP_FOLDER
    if backup.exists() and (not stamp.is_file() or stamp.read_text(encoding="utf-8") != settings):
        log.warning("%s holds the backup of a run with other settings: this run starts afresh", run_dir)
        shutil.rmtree(backup)
        history = run_dir / HISTORY_FILE
        if history.exists():
            history.rename(run_dir / f"{history.stem}-{int(time.time())}{history.suffix}")
    stamp.write_text(settings, encoding="utf-8")
