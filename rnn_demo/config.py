"""Configuration dataclasses for every model family and the demo's input limits."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

# Special symbols shared by every model (order fixes their ids after pad/unk/bos/eos).
NEWLINE = "\n"
SEP = "<sep>"
BLANK = "<blank>"
PERSONA_MODERN = "<modern>"
PERSONA_SHAKESPEARE = "<shakespeare>"
USER_SYMBOLS = (NEWLINE, SEP, BLANK, PERSONA_MODERN, PERSONA_SHAKESPEARE)


@dataclass(frozen=True)
class TokenizerConfig:
    """How the shared SentencePiece model is trained."""

    vocab_size: int = 4000
    model_type: str = "unigram"
    character_coverage: float = 1.0
    seed: int = 1234
    max_sentences: int = 400_000


@dataclass(frozen=True)
class LanguageModelConfig:
    """Shape of the embedding → stacked RNN → projection language model."""

    cell: str = "gru"  # "gru" or "lstm"
    vocab_size: int = 4000
    embedding_dim: int = 256
    units: int = 384
    num_layers: int = 2
    dropout: float = 0.05  # on each layer's outputs, in training
    # The share of positions whose whole embedding is zeroed in training (word dropout); the weights and the
    # served model are the same whatever it is. On the GRU with dropout 0.3 (2026-12-05): held-out loss on
    # 128-token windows 3.797 → 3.759 nats, but 1.976 → 1.980 bits/char over whole plays; with the state
    # carried between training windows too (`--window-state carried`, 2026-12-06) 1.976 → 1.938, the shipped
    # GRU (the LSTM by the same flags: 1.985 → 1.918). (Keras's recurrent dropout was measured too: 70%
    # slower training steps here, 3.2 s against 1.9 s for 64 × 128 tokens.)
    embedding_dropout: float = 0.0
    # 0: the layers' outputs map straight to the vocabulary. r > 0: through an r-wide linear
    # bottleneck first, which cuts the weights read per generated token (the batch-1 cost).
    projection_rank: int = 0

    def __post_init__(self):
        if self.cell not in ("gru", "lstm"):
            raise ValueError(f"cell must be 'gru' or 'lstm', not {self.cell!r}")
        if self.projection_rank < 0:
            raise ValueError(f"projection_rank must be 0 (none) or positive, not {self.projection_rank}")
        for name in ("dropout", "embedding_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be at least 0 and below 1, not {getattr(self, name)}")


@dataclass(frozen=True)
class Seq2SeqConfig:
    """Shape of the encoder-decoder: bidirectional GRU encoder, attentive GRU decoder."""

    vocab_size: int = 4000
    embedding_dim: int = 128
    encoder_units: int = 192  # per direction
    decoder_units: int = 256
    attention_units: int = 64
    dropout: float = 0.1
    max_source_tokens: int = 48
    max_target_tokens: int = 32


@dataclass(frozen=True)
class GapWordsConfig:
    """Shape of the gap filler: a forward GRU reads the text before the gap, a backward GRU the text after
    it (from the end back to the gap), and a dense layer on both final states scores every word of `words`."""

    vocab_size: int = 4000  # the tokenizer's pieces, read by both GRUs
    embedding_dim: int = 192
    units: int = 384  # per direction
    hidden_units: int = 256
    dropout: float = 0.2
    max_side_tokens: int = 64  # pieces read on each side of the gap: the nearest ones
    # The fillers it can write, index 0 the unknown word ("<unk>", never shown): the most frequent words of
    # its training text and every fact answer ("Mexico City" is one filler), as most often spelt there.
    words: tuple[str, ...] = field(default=(), metadata={"flag": False})  # chosen by training, not by a flag
    # The share of the served probabilities that comes from the counts of the training sentences
    # (`models.gap_counts`, the checkpoint's counts file), chosen on validation gaps; 0: the network alone.
    counts_weight: float = field(default=0.0, metadata={"flag": False})

    def __post_init__(self):
        object.__setattr__(self, "words", tuple(self.words))  # config.json gives a list


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings of one training run."""

    seq_len: int = 128
    batch_size: int = 32
    learning_rate: float = 6e-3
    clipnorm: float = 1.0
    epochs: int = 100
    patience: int = 3
    lr_patience: int = 1  # epochs without a better validation loss before the learning rate halves
    # "plateau": the learning rate halves when the validation loss stalls (lr_patience). "cosine": it
    # follows a cosine from learning_rate down to 1% of it over the run's max_minutes of wall-clock
    # time (after a warm-up over the first 2%), so a time-limited run ends at a low rate whatever
    # the machine's speed.
    lr_schedule: str = "plateau"
    max_minutes: float = 28.0
    steps_per_epoch: int | None = 150  # a short "epoch" between validations; None = one pass
    validation_steps: int | None = None
    seed: int = 1234
    init_from: str = ""  # a checkpoint (folder, or name in --out) whose weights start the run
    # Language models: "float16" rounds every weight matrix but the embedding to a float16 value
    # after training (still stored as float32), so the compiled sampler can read half the bytes
    # with no difference from Keras; "" keeps full float32.
    round_matrices: str = ""
    # Language models: "" trains on this process's default device with Keras `fit`; "mirrored" on every
    # local GPU (or the CPU), "multi-worker" on the machines of TF_CONFIG, both with the custom loop of
    # training/distributed.py (same global batch_size, split between the replicas).
    strategy: str = ""
    # Gap filler: words drawn at random for each batch's sampled softmax (`models.gap_words.SampledWords`);
    # 0 trains with the full softmax over every word.
    sampled_words: int = 0
    # Language models: "zero": every training window starts from a zero state, windows shuffled. "carried": the
    # text is read in `batch_size` lanes, in order, each window starting from the state the lane's previous
    # window ended in (truncated backpropagation through time, `training.language_model.CarriedStateModel`),
    # as whole-play evaluation and long generations carry it.
    window_state: str = "zero"

    def __post_init__(self):
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, not {self.lr_schedule!r}")
        if self.sampled_words < 0:
            raise ValueError(f"sampled_words must be 0 (the full softmax) or more, not {self.sampled_words}")
        if self.window_state not in WINDOW_STATES:
            raise ValueError(f"window_state must be one of {', '.join(WINDOW_STATES)}, not {self.window_state!r}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES[1:])} or empty, not {self.strategy!r}")


LR_SCHEDULES = ("plateau", "cosine")
STRATEGIES = ("", "mirrored", "multi-worker")
WINDOW_STATES = ("zero", "carried")


@dataclass(frozen=True)
class Limits:
    """Bounds on every request, enforced on the server for the UI, API and CLI alike."""

    max_prompt_chars: int = 2_000
    max_new_tokens: int = 1_000
    default_new_tokens: int = 200
    max_temperature: float = 5.0
    min_temperature: float = 0.01  # the smallest above 0 (greedy); see requests.check_temperature_floor
    max_top_k: int = 1_000
    min_top_p: float = 0.01
    max_repetition_penalty: float = 3.0
    max_seed: int = 2**32 - 1
    deadline_s: float = 30.0
    max_message_chars: int = 1_000
    max_history_messages: int = 200  # the model itself reads only the last few turns
    max_beam_width: int = 8
    max_length_penalty: float = 2.0
    max_sentence_chars: int = 500
    max_fill_candidates: int = 10


LIMITS = Limits()


class InputError(ValueError):
    """A request outside the limits: its message is shown to the user as it is."""


def to_dict(config: Any) -> dict:
    """Returns a dataclass as a plain JSON-ready dict."""
    return dataclasses.asdict(config)


def from_dict(cls, data: dict):
    """Builds `cls` from `data`, ignoring keys the class does not know (older files)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def dumps(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
