"""The one list of models: what each is called, how it is built, where the page shows it, how it is trained.

Adding a model is one `ModelSpec` below plus its own files (a training recipe under
`rnn_demo/training/`, if none of the existing ones fits). Everything else reads this list: the
checkpoint loader (family, the command that re-creates a missing checkpoint), the engine (which
models to load and serve), the page (each tab's models and their labels) and the command line
(`--model` choices, `train` targets).

This module imports no TensorFlow: the Keras builders are named here and imported on use.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from ..config import GapWordsConfig, LanguageModelConfig, Seq2SeqConfig
from ..learn.config import CaptionConfig, CopyConfig, GenreConfig, LearnConfig

CLI = "python -m rnn_demo"


@dataclass(frozen=True)
class Family:
    """A kind of network: its config dataclass, the function that builds its Keras model and, for the models
    the app serves, the NumPy class that serves it."""

    name: str
    config_class: type
    builder: str  # "module:function" under rnn_demo.models, imported on first use (it imports Keras)
    serving: str = ""  # "module:Class" under rnn_demo.models, (config, weights by name) → its NumPy model

    def build(self, model_config):
        """The Keras model of `model_config`, its weights created (ready for `load_weights`)."""
        return _named(self.builder)(model_config)

    def serving_model(self, model_config, weights):
        """The NumPy model that serves `model_config` with `weights` (no Keras, no TensorFlow)."""
        return _named(self.serving)(model_config, weights)


def _named(where: str):
    """The function or class a "module:name" of rnn_demo.models names, its module imported now."""
    module, name = where.split(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


FAMILIES = {family.name: family for family in (
    Family("language_model", LanguageModelConfig, "language_model:build_language_model",
           "numpy_step:NumpyLanguageModel"),
    Family("seq2seq", Seq2SeqConfig, "seq2seq:build_seq2seq", "numpy_step:NumpySeq2Seq"),
    Family("gap_words", GapWordsConfig, "gap_words:build_gap_words", "numpy_gap:NumpyGapWords"),
    Family("caption", CaptionConfig, "learn_models:build_caption_model"),
    Family("genre", GenreConfig, "learn_models:build_genre_model"),
    Family("copy", CopyConfig, "learn_models:build_copy_model"),
    Family("learn", LearnConfig, "learn_models:build_nothing"),  # the `train learn` flags; no checkpoint has it
)}


@dataclass(frozen=True)
class ModelSpec:
    """One shipped model.

    Attributes:
        name: its checkpoint folder under assets/, and its `--model` value.
        family: a key of `FAMILIES`.
        label: how the page names it among its tab's models.
        tab: the id of the page tab that serves it.
        recipe: the module under rnn_demo/training/ whose `RECIPE` trains it.
        target: the `train` command's word for it (several models may share one, told apart by flags).
        flags: what the `train` command needs besides the target to make this model.
        lazy: loaded by its own tab on first use, not by the engine (the Learn tab's small models).
    """

    name: str
    family: str
    label: str
    tab: str
    recipe: str
    target: str
    flags: tuple[str, ...] = ()
    lazy: bool = False

    @property
    def train_command(self) -> str:
        """The command that re-creates this checkpoint from scratch."""
        return " ".join([CLI, "train", self.target, *self.flags])


MODELS = (
    ModelSpec("shakespeare-gru", "language_model", "GRU", "shakespeare", "shakespeare", "shakespeare",
              ("--cell", "gru")),
    ModelSpec("shakespeare-lstm", "language_model", "LSTM", "shakespeare", "shakespeare", "shakespeare",
              ("--cell", "lstm")),
    ModelSpec("chatbot", "seq2seq", "Chatbot", "chatbot", "chatbot", "chatbot"),
    ModelSpec("blank", "gap_words", "Gap filler", "fill", "fill", "blank"),
    *(ModelSpec(name, family, label, "learn", "learn", "learn", ("--part", part), lazy=True)
      for name, family, label, part in (
          ("learn-caption", "caption", "Captions (CNN → GRU)", "caption"),
          ("learn-genre-gru", "genre", "Genre: GRU", "genre"),
          ("learn-genre-bag", "genre", "Genre: bag of embeddings", "genre"),
          ("learn-copy-simple_rnn", "copy", "Copy task: SimpleRNN", "copy"),
          ("learn-copy-gru", "copy", "Copy task: GRU", "copy"),
          ("learn-copy-lstm", "copy", "Copy task: LSTM", "copy"))),
)
_BY_NAME = {spec.name: spec for spec in MODELS}

DEFAULT_LANGUAGE_MODEL = "shakespeare-gru"
CHAT_MODEL = "chatbot"
FILL_MODEL = "blank"  # the fill feature's model; "blank" on the command line and in assets/


def spec(name: str) -> ModelSpec:
    """The model called `name` (KeyError naming the known ones if there is none)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; the models are {', '.join(_BY_NAME)}") from None


def names(*, family: str | None = None, tab: str | None = None, target: str | None = None,
          lazy: bool = False) -> tuple[str, ...]:
    """The names of the models with the given family, tab and training target, in `MODELS` order; the lazy
    ones (which their tab loads itself, so the engine neither loads nor reports them) only with `lazy`."""
    return tuple(s.name for s in MODELS
                 if family in (None, s.family) and tab in (None, s.tab) and target in (None, s.target)
                 and (lazy or not s.lazy))


def targets() -> tuple[str, ...]:
    """The `train` command's targets, each once, in `MODELS` order."""
    return tuple(dict.fromkeys(s.target for s in MODELS))


def recipe_of(target: str) -> str:
    """The training recipe of a `train` target."""
    return next(s.recipe for s in MODELS if s.target == target)


def train_command(name: str) -> str:
    """The command that creates the checkpoint `name`: its spec's, or a guess for a custom name."""
    if name in _BY_NAME:
        return _BY_NAME[name].train_command
    return f"{CLI} train <what> --name {name}"
