"""Configuration dataclasses of the Learn tab's small models (saved in each checkpoint's config.json)."""
from __future__ import annotations

from dataclasses import dataclass

ALL_PARTS = ("caption", "genre", "copy", "choices")  # what `all` runs: the Learn models and their studies
PARTS = ("all", *ALL_PARTS, "roles")  # `roles` trains nothing: it measures a shipped language model
GENRE_KINDS = ("gru", "bag")
COPY_CELLS = ("simple_rnn", "gru", "lstm")


@dataclass(frozen=True)
class LearnConfig:
    """What `train learn` makes: every Learn model (`all`) or one part."""

    part: str = "all"

    def __post_init__(self):
        if self.part not in PARTS:
            raise ValueError(f"part must be one of {', '.join(PARTS)}, not {self.part!r}")


@dataclass(frozen=True)
class CaptionConfig:
    """One-to-many: a small CNN reads a drawn scene, its output starts a GRU that writes the caption."""

    image_size: int = 32
    filters: int = 16  # the first convolution's; the second has twice as many
    word_dim: int = 32
    caption_units: int = 96
    caption_vocab: int = 0  # set from `scenes.VOCABULARY` when built
    max_words: int = 12


@dataclass(frozen=True)
class GenreConfig:
    """Many-to-one (`gru`) or one-to-one (`bag`: the mean of the embeddings, no recurrence): a speech's genre."""

    kind: str = "gru"
    vocab_size: int = 4000
    genre_dim: int = 48
    genre_units: int = 64
    genre_dropout: float = 0.3
    max_tokens: int = 64
    classes: int = 3

    def __post_init__(self):
        if self.kind not in GENRE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(GENRE_KINDS)}, not {self.kind!r}")


@dataclass(frozen=True)
class CopyConfig:
    """The copy task's recurrent net: recall the marked symbol seen N steps before the end."""

    cell: str = "gru"
    symbols: int = 8
    copy_units: int = 32
    max_distance: int = 40

    def __post_init__(self):
        if self.cell not in COPY_CELLS:
            raise ValueError(f"cell must be one of {', '.join(COPY_CELLS)}, not {self.cell!r}")
