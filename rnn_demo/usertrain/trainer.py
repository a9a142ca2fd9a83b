"""Training on a visitor's text (TensorFlow; run in its own process by `worker`, or in the CLI's): events out.

Events are dicts with an "event" key, the same for the tab, the API and `train text --json`:
    start     tokenizer kind and why, vocabulary, parameters, tokens, steps per evaluation
    progress  step, training loss (bits/char), seconds, seconds left, share done (about every PROGRESS_SECONDS)
    eval      step, training and validation loss (bits/char), whether it is the best so far
    sample    step, text (seeded, from the weights as they stand)
    early_stop  step, best step (validation loss has not improved for `patience` evaluations)
    done      why it ended (early_stopping, stopped, time_limit, max_steps), best step and loss, speed, model folder
    error     message (the worker's; the store adds one when the process dies without a word)
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..models.numpy_step import NumpyLanguageModel
from . import archive, tokens
from .settings import VALIDATION_SHARE, TrainSettings, UserModelConfig, check_size

PROGRESS_SECONDS = 0.5
STEPS_PER_EXECUTION = 10  # at most: see `steps_per_execution`
MAX_VALIDATION_BATCHES = 16  # the same first windows every evaluation: a stable, cheap measure
SAMPLE_TEMPERATURE = 0.8
SAMPLE_PROMPT_CHARS = 12
Emit = Callable[[dict], None]


def steps_per_execution(settings: TrainSettings) -> int:
    """Training steps run in one call of the compiled step (a loop in the graph), as many as divide the steps
    between evaluations, samples and the step limit, at most STEPS_PER_EXECUTION: the Python work between steps
    (callbacks, reading the loss) then runs once per call. Stop and the time limit are checked after each call."""
    every = math.gcd(math.gcd(settings.eval_every, settings.sample_every), settings.max_steps or 0)
    return math.gcd(every, STEPS_PER_EXECUTION)


def split_ids(ids: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(training ids, validation ids — the end of the text —, the window length both allow)."""
    seq = max(2, min(seq_len, len(ids) // 5 - 1))
    held = max(int(len(ids) * VALIDATION_SHARE), seq + 1)
    return ids[:-held], ids[-held:], seq


def windows(ids: np.ndarray, seq: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, next-token targets), each (windows, seq): windows of `ids` every `stride` tokens."""
    starts = np.arange(0, len(ids) - seq, stride)
    index = starts[:, None] + np.arange(seq)[None, :]  # (windows, seq)
    return ids[index], ids[index + 1]


def bits_per_char(loss_nats: float, chars_per_token: float) -> float:
    return float(loss_nats) / math.log(2) / chars_per_token


class Events:
    """Counts steps and emits the events of one run; the Keras callback and the sampler report here."""

    def __init__(self, emit: Emit, settings: TrainSettings, should_stop: Callable[[], bool],
                 chars_per_token: tuple[float, float]):
        self.emit, self.settings, self.should_stop = emit, settings, should_stop
        self.train_cpt, self.val_cpt = chars_per_token
        self.started = time.monotonic()
        self.deadline = self.started + settings.minutes * 60.0
        self.step, self.last_progress, self.reason = 0, 0.0, ""
        self.points: list[dict] = []
        self.best: tuple[float, int, dict] | None = None  # (validation bits/char, step, weights)
        self.waiting, self.early_stop_step, self.first_sample_s = 0, None, None

    def share_done(self) -> float:
        share = (time.monotonic() - self.started) / (self.settings.minutes * 60.0)
        if self.settings.max_steps:
            share = max(share, self.step / self.settings.max_steps)
        return min(share, 1.0)

    def after_batch(self, loss: float, steps: int = 1) -> bool:
        """Counts `steps` steps; returns True when training must end (Stop, time limit, max steps)."""
        self.step += steps
        now = time.monotonic()
        if now - self.last_progress >= PROGRESS_SECONDS:
            self.last_progress = now
            share = self.share_done()
            elapsed = now - self.started
            self.emit({"event": "progress", "step": self.step, "train_bpc": round(bits_per_char(loss, self.train_cpt), 4),
                       "seconds": round(elapsed, 2), "share": round(share, 4),
                       "seconds_left": round(elapsed * (1 - share) / max(share, 1e-6), 1)})
        if self.should_stop():
            self.reason = "stopped"
        elif now > self.deadline:
            self.reason = "time_limit"
        elif self.settings.max_steps and self.step >= self.settings.max_steps:
            self.reason = "max_steps"
        return bool(self.reason)

    def after_evaluation(self, loss: float, val_loss: float, weights: Callable[[], dict]) -> bool:
        """Records a point; keeps the best weights; returns True when early stopping ends the run."""
        val_bpc = bits_per_char(val_loss, self.val_cpt)
        best = self.best is None or val_bpc < self.best[0]
        point = {"step": self.step, "train_bpc": round(bits_per_char(loss, self.train_cpt), 4),
                 "val_bpc": round(val_bpc, 4), "best": best, "seconds": round(time.monotonic() - self.started, 2)}
        self.points.append(point)
        self.emit({"event": "eval", **point})
        if best:
            self.best, self.waiting = (val_bpc, self.step, weights()), 0
            return False
        self.waiting += 1
        if self.waiting >= self.settings.patience and not self.reason:
            self.early_stop_step, self.reason = self.step, "early_stopping"
            self.emit({"event": "early_stop", "step": self.step, "best_step": self.best[1]})
            return True
        return False


def _callback(events: Events, sampler: Callable[[dict], str], every_sample: int):
    import keras

    from ..models.weights import named

    class Report(keras.callbacks.Callback):
        """Reports steps and evaluations to `events`; samples every `every_sample` steps."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_start = events.step

        def on_train_batch_end(self, batch, logs=None):  # after each execution of `steps_per_execution` steps
            if events.after_batch(float(logs["loss"]), steps=self.epoch_start + batch + 1 - events.step):
                self.model.stop_training = True
            if events.step % every_sample == 0:
                text = sampler(named(self.model))
                if events.first_sample_s is None:
                    events.first_sample_s = round(time.monotonic() - events.started, 2)
                events.emit({"event": "sample", "step": events.step, "text": text})

        def on_epoch_end(self, epoch, logs=None):
            if events.after_evaluation(logs["loss"], logs["val_loss"], lambda: named(self.model)):
                self.model.stop_training = True

    return Report()


def train(text: str, settings: TrainSettings, folder: Path, *, emit: Emit,
          should_stop: Callable[[], bool] = lambda: False) -> dict:
    """Trains on `text` and writes the best model into `folder` (`archive` layout).

    Args:
        text: the checked text (`settings.check_text`).
        settings: checked settings (`settings.check_settings`).
        folder: where the tokenizer and the model go.
        emit: called with every event (see the module docstring).
        should_stop: asked after every step; True ends the run, keeping the best weights so far.
    Returns:
        The "done" event.
    """
    import keras
    import tensorflow as tf

    from . import model as user_model

    keras.utils.set_random_seed(settings.seed)
    tokenizer = tokens.tokenizer_for(text, folder)
    ids = np.asarray(tokenizer.encode(text), dtype=np.int32)
    train_ids, val_ids, seq = split_ids(ids, settings.seq_len)
    cut = len(text) * len(train_ids) // max(len(ids), 1)  # chars per token of each part, for bits per char
    cpt = (max(cut, 1) / len(train_ids), max(len(text) - cut, 1) / len(val_ids))
    config = check_size(UserModelConfig.of(settings, tokenizer.vocab_size))
    model = user_model.build(config)
    user_model.compile_model(model, settings.optimizer, settings.learning_rate,
                             steps_per_execution=steps_per_execution(settings))
    emit({"event": "start", "tokenizer": tokenizer.kind, "rule": tokens.choose(text),
          "vocab_size": tokenizer.vocab_size, "parameters": int(model.count_params()), "tokens": int(len(ids)),
          "chars": len(text), "seq_len": seq, "eval_every": settings.eval_every})
    x, y = windows(train_ids, seq, max(1, seq // 2))
    train_ds = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=settings.seed).repeat()
                .batch(settings.batch_size, drop_remainder=True).prefetch(2))
    vx, vy = windows(val_ids, seq, seq)
    limit = MAX_VALIDATION_BATCHES * settings.batch_size
    events = Events(emit, settings, should_stop, cpt)
    sampler = _sampler(config, tokenizer, text[cut:][:SAMPLE_PROMPT_CHARS], settings)  # the held-out text's start
    model.fit(train_ds, steps_per_epoch=settings.eval_every, epochs=1_000_000, verbose=0, shuffle=False,
              validation_data=(vx[:limit], vy[:limit]), validation_batch_size=settings.batch_size,
              callbacks=[_callback(events, sampler, settings.sample_every)])
    return _finish(events, model, config, tokenizer, settings, folder, x.shape[1] * settings.batch_size)


def _sampler(config: UserModelConfig, tokenizer, prompt: str, settings: TrainSettings) -> Callable[[dict], str]:
    def sample(weights: dict) -> str:
        model = archive.UserModel(config, NumpyLanguageModel(config, weights), tokenizer, {}, {}, weights)
        return model.generate(prompt, max_tokens=settings.sample_chars, temperature=SAMPLE_TEMPERATURE,
                              seed=settings.seed, deadline_s=5.0)
    return sample


def _finish(events: Events, model, config, tokenizer, settings: TrainSettings, folder: Path,
            tokens_per_batch: int) -> dict:
    """Writes the best weights (the last ones if no evaluation ran) and returns the "done" event."""
    from ..models.weights import named

    seconds = time.monotonic() - events.started
    weights = events.best[2] if events.best else named(model)
    done = {"event": "done", "reason": events.reason or "max_steps", "steps": events.step,
            "seconds": round(seconds, 2), "tokens_per_second": round(events.step * tokens_per_batch / seconds, 1),
            "best_step": events.best[1] if events.best else events.step,
            "best_val_bpc": round(events.best[0], 4) if events.best else None,
            "early_stop_step": events.early_stop_step, "first_sample_seconds": events.first_sample_s,
            "tokenizer": tokenizer.kind, "points": events.points}
    archive.write_model(folder, config, weights, tokenizer, settings, {k: v for k, v in done.items() if k != "event"})
    done["folder"] = str(folder)
    events.emit(done)
    return done
