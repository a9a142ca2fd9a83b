"""Training throughput: the project's input pipeline against the TensorFlow text-generation tutorial's.

Both train the same model — `build_language_model` with the shipped checkpoint's configuration,
compiled as `rnn_demo/training/language_model.py` compiles it, from the same seed — on the same token stream
(the training plays), with the same batch size and sequence length. Only the input pipeline
differs:

- project: `datasets.language_model_windows(…, shuffle=True)`, repeated, as training runs it;
- tutorial: `from_tensor_slices(ids).batch(seq_len + 1, drop_remainder=True).map(split_input_target)
  .shuffle(10000).batch(batch, drop_remainder=True)` with default options (repeated, so that a
  fixed number of steps never runs out of data).

Each run times a fixed number of `model.fit` steps after some warm-up steps (tracing, first
batches). Runs alternate A B B A … so that a drift in the machine's load hits both alike; the
figure is the median over runs.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.report import Row, at_least

MIN_RATIO = 1.0  # project ÷ tutorial
TUTORIAL_SHUFFLE_BUFFER = 10_000
SHIPPED_MODEL = "shakespeare-gru"
MEASURE = "training throughput"


def shipped_configs(assets: Path, *, batch_size: int | None, seq_len: int | None):
    """(model config, training config) of the shipped checkpoint; batch size and seq_len may be overridden."""
    from rnn_demo.checkpoints import read_meta
    from rnn_demo.config import LanguageModelConfig, TrainingConfig, from_dict

    meta = read_meta(assets / SHIPPED_MODEL)
    training = from_dict(TrainingConfig, meta["training"])
    overrides = {key: value for key, value in (("batch_size", batch_size), ("seq_len", seq_len)) if value}
    return from_dict(LanguageModelConfig, meta["model"]), replace(training, **overrides)


def training_stream(assets: Path, *, quick: bool):
    """The training plays as one token stream, as training encodes them (`quick`: a small slice)."""
    from rnn_demo.data.encoding import encode_documents
    from rnn_demo.tokenizer import Tokenizer
    from rnn_demo.training.shakespeare import shakespeare_texts

    train_texts, _ = shakespeare_texts(quick)
    return encode_documents(Tokenizer(assets / "tokenizer.model"), train_texts)


def project_dataset(ids, training):
    """The pipeline `rnn_demo/training/language_model.py` trains on."""
    from rnn_demo.data.datasets import language_model_windows

    return language_model_windows(ids, seq_len=training.seq_len, batch_size=training.batch_size, shuffle=True,
                                  seed=training.seed).repeat()


def tutorial_dataset(ids, training):
    """The TensorFlow text-generation tutorial's pipeline, default options."""
    import tensorflow as tf

    def split_input_target(sequence):
        return sequence[:-1], sequence[1:]

    return (tf.data.Dataset.from_tensor_slices(ids)
            .batch(training.seq_len + 1, drop_remainder=True)
            .map(split_input_target)
            .shuffle(TUTORIAL_SHUFFLE_BUFFER)
            .batch(training.batch_size, drop_remainder=True)
            .repeat())


def _step_timer(warmup: int):
    """A Keras callback that notes the time at the end of the warm-up and of the last batch."""
    import keras

    class StepTimer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == warmup - 1:
                self.measured_from = time.perf_counter()
            self.last_end = time.perf_counter()

    return StepTimer()


def tokens_per_second(dataset, model_config, training, *, warmup: int, steps: int) -> float:
    """Trains a fresh model for `warmup + steps` steps; training tokens per second over the last `steps`."""
    import keras

    from rnn_demo.models.language_model import build_language_model
    from rnn_demo.training.language_model import compile_language_model  # the very compile step training uses

    keras.backend.clear_session()
    keras.utils.set_random_seed(training.seed)
    model = build_language_model(model_config)
    compile_language_model(model, training)
    timer = _step_timer(warmup)
    # shuffle=False: both datasets shuffle themselves (Keras ignores the flag for a tf.data input, and warns).
    model.fit(dataset, epochs=1, steps_per_epoch=warmup + steps, callbacks=[timer], shuffle=False, verbose=0)
    return steps * training.batch_size * training.seq_len / (timer.last_end - timer.measured_from)


def measure(assets: Path, *, quick: bool, warmup: int, steps: int, repeats: int,
            batch_size: int | None = None, seq_len: int | None = None) -> list[Row]:
    """Median tokens/s of each pipeline over `repeats` alternating runs, and their ratio."""
    model_config, training = shipped_configs(assets, batch_size=batch_size, seq_len=seq_len)
    ids = training_stream(assets, quick=quick)
    pipelines = {"tutorial": tutorial_dataset, "project": project_dataset}
    speeds = {name: [] for name in pipelines}
    for run in range(repeats):
        order = list(pipelines) if run % 2 == 0 else list(reversed(pipelines))
        for name in order:
            speeds[name].append(tokens_per_second(pipelines[name](ids, training), model_config, training,
                                                  warmup=warmup, steps=steps))
    tutorial, project = (statistics.median(speeds[name]) for name in pipelines)
    shape = (f"{SHIPPED_MODEL} config, batch {training.batch_size} × seq_len {training.seq_len}, "
             f"{steps} steps after {warmup} warm-up, median of {repeats}")
    return [
        Row(MEASURE, f"tutorial pipeline + model.fit ({shape})", tutorial, "tokens/s", ratio=1.0,
            note=_runs_note("tutorial", speeds["tutorial"])),
        Row(MEASURE, f"project pipeline (datasets.language_model_windows) + model.fit ({shape})", project,
            "tokens/s", budget=f"≥ {MIN_RATIO:g}× tutorial", met=at_least(project / tutorial, MIN_RATIO),
            ratio=project / tutorial, note=_runs_note("project", speeds["project"])),
    ]


def _runs_note(name: str, speeds: list[float]) -> str:
    """Every run's figure, so that a reader can see the spread the median hides."""
    return f"{name} runs: " + ", ".join(f"{speed:,.0f}" for speed in speeds) + " tokens/s"
