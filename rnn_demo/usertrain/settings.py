"""The settings of one training on a visitor's text, their limits, and presets sized for 2 CPU cores."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ..config import InputError

CELLS = ("simple_rnn", "gru", "lstm")
CELL_LABELS = {"simple_rnn": "SimpleRNN", "gru": "GRU", "lstm": "LSTM"}
OPTIMIZERS = ("sgd", "momentum", "adam")
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "SGD + momentum", "adam": "Adam"}
MOMENTUM = 0.9  # of "SGD + momentum"
MIN_TEXT_CHARS = 200  # less cannot be split into training and validation windows
MAX_TEXT_BYTES = 2 * 2 ** 20  # 2 MB of UTF-8, pasted or uploaded
VALIDATION_SHARE = 0.1  # the end of the text is held out for the validation loss


@dataclass(frozen=True)
class Bounds:
    """What the hosted app allows (enforced on the server for the tab, the API and the command line)."""

    max_units: int = 256
    max_layers: int = 3
    max_embedding: int = 128
    max_parameters: int = 5_000_000  # 20 MB of float32 weights: a download stays under archive.MAX_ARCHIVE_BYTES
    max_learning_rate: float = 10.0
    max_dropout: float = 0.8
    max_patience: int = 50
    max_minutes: float = 10.0
    max_seq_len: int = 200
    max_batch_size: int = 128
    max_sample_every: int = 10_000


BOUNDS = Bounds()


@dataclass(frozen=True)
class TrainSettings:
    """One run's model shape and optimisation; the defaults are the "small" preset (a few minutes, 2 cores).

    Evaluation happens every `eval_every` steps: the validation loss is measured, early stopping
    counts `patience` evaluations without a better one, and the best weights so far are kept.
    """

    cell: str = "gru"
    units: int = 128
    layers: int = 1
    embedding: int = 32
    optimizer: str = "adam"
    learning_rate: float = 0.005
    dropout: float = 0.0
    patience: int = 5
    minutes: float = 3.0
    seq_len: int = 64
    batch_size: int = 32
    eval_every: int = 50
    sample_every: int = 100
    sample_chars: int = 160
    seed: int = 1234
    max_steps: int = 0  # 0: until early stopping, Stop or the time limit

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainSettings":
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(f"unknown training setting {unknown[0]!r}")
        return cls(**data)


PRESETS = {
    "tiny": TrainSettings(units=64, embedding=16, minutes=1.0, eval_every=25, sample_every=50),
    "small": TrainSettings(),
    "medium": TrainSettings(units=256, layers=2, embedding=64, dropout=0.1, minutes=8.0, eval_every=100,
                            sample_every=200),
}


def _whole(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value != int(value):
        raise InputError(f"{name} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low:,} and {high:,}, not {int(value):,}")
    return int(value)


def _number(name: str, value, low: float, high: float, *, open_low: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{name} must be a number, not {value!r}")
    if value < low or value > high or (open_low and value == low):
        raise InputError(f"{name} must be {'above' if open_low else 'at least'} {low:g} and at most {high:g}, "
                         f"not {value:g}")
    return float(value)


def check_settings(settings: TrainSettings, bounds: Bounds = BOUNDS) -> TrainSettings:
    """The settings with numbers made exact, or InputError naming the first one out of bounds."""
    if settings.cell not in CELLS:
        raise InputError(f"cell must be one of {', '.join(CELLS)}, not {settings.cell!r}")
    if settings.optimizer not in OPTIMIZERS:
        raise InputError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {settings.optimizer!r}")
    return dataclasses.replace(
        settings,
        units=_whole("units", settings.units, 4, bounds.max_units),
        layers=_whole("layers", settings.layers, 1, bounds.max_layers),
        embedding=_whole("embedding size", settings.embedding, 2, bounds.max_embedding),
        learning_rate=_number("learning rate", settings.learning_rate, 0.0, bounds.max_learning_rate, open_low=True),
        dropout=_number("dropout", settings.dropout, 0.0, bounds.max_dropout),
        patience=_whole("patience", settings.patience, 1, bounds.max_patience),
        minutes=_number("time limit (minutes)", settings.minutes, 0.0, bounds.max_minutes, open_low=True),
        seq_len=_whole("sequence length", settings.seq_len, 8, bounds.max_seq_len),
        batch_size=_whole("batch size", settings.batch_size, 1, bounds.max_batch_size),
        eval_every=_whole("evaluate every", settings.eval_every, 1, bounds.max_sample_every),
        sample_every=_whole("sample every", settings.sample_every, 1, bounds.max_sample_every),
        sample_chars=_whole("sample length", settings.sample_chars, 1, 1_000),
        seed=_whole("seed", settings.seed, 0, 2 ** 32 - 1),
        max_steps=_whole("max steps", settings.max_steps, 0, 1_000_000),
    )


def check_text(text) -> str:
    """The text to learn from, or InputError: not text, too short, too long, or only whitespace."""
    if not isinstance(text, str):
        raise InputError("the text to learn from must be a string")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise InputError(f"the text is over {MAX_TEXT_BYTES // 2 ** 20} MB; use a shorter one")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise InputError("the text holds lone surrogate characters; it is not valid Unicode")
    if len(text.strip()) < MIN_TEXT_CHARS:
        raise InputError(f"the text needs at least {MIN_TEXT_CHARS} characters (not counting spaces at its ends); "
                         f"it has {len(text.strip())}")
    return text


def decode_upload(data: bytes) -> str:
    """An uploaded file's bytes as text, or InputError: too large, binary (NUL bytes), or not UTF-8."""
    if len(data) > MAX_TEXT_BYTES:
        raise InputError(f"the file is {len(data):,} bytes; the limit is {MAX_TEXT_BYTES:,} (2 MB)")
    if not data:
        raise InputError("the file is empty")
    if b"\x00" in data:
        raise InputError("the file looks binary (it holds NUL bytes); upload a plain .txt file in UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"the file is not UTF-8 text (byte {error.start:,} is invalid); save it as UTF-8") from None
    return check_text(text)


@dataclass(frozen=True)
class UserModelConfig:
    """The shape of a visitor's model, as `models.numpy_step.NumpyLanguageModel` reads it (same weight names as
    the shipped language model: embedding, rnn_<i>, projection fed by every layer's output)."""

    cell: str
    vocab_size: int
    embedding_dim: int
    units: int
    num_layers: int
    dropout: float = 0.0
    projection_rank: int = 0

    @classmethod
    def of(cls, settings: TrainSettings, vocab_size: int) -> "UserModelConfig":
        return cls(settings.cell, vocab_size, settings.embedding, settings.units, settings.layers, settings.dropout)

    @property
    def parameters(self) -> int:
        gates = {"simple_rnn": 1, "gru": 3, "lstm": 4}[self.cell]
        recurrent = 0
        for index in range(self.num_layers):
            inputs = self.embedding_dim if index == 0 else self.units
            recurrent += gates * self.units * (inputs + self.units) + gates * self.units * (2 if self.cell == "gru" else 1)
        projection = (self.num_layers * self.units + 1) * self.vocab_size
        return self.vocab_size * self.embedding_dim + recurrent + projection


def check_size(config: UserModelConfig, bounds: Bounds = BOUNDS) -> UserModelConfig:
    """InputError if the model would have more parameters than the app stores and serves."""
    if config.parameters > bounds.max_parameters:
        raise InputError(f"this model would have {config.parameters:,} parameters ({config.vocab_size:,} tokens in "
                         f"its vocabulary); the limit is {bounds.max_parameters:,}: choose fewer units, layers or a "
                         f"smaller embedding")
    return config
