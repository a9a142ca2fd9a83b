"""The tokenizer of a visitor's text, chosen by the app: its characters, or SentencePiece pieces learnt from it.

The rule (`choose`): characters, unless the text is long (at least `PIECES_MIN_CHARS`) and written with a
small alphabet (at most `PIECES_MAX_ALPHABET` distinct characters, as English or French are); then a
SentencePiece model of `PIECES_VOCAB` pieces is trained on the text in a few seconds, so that each
step of the RNN reads several characters. Chinese, with thousands of characters that are nearly words
already, stays with characters. Both are data (a JSON list of characters, a SentencePiece protobuf), never code.
"""
from __future__ import annotations

import collections
import io
import json
import tempfile
from pathlib import Path

import sentencepiece as spm

from ..config import InputError
from ..tokenizer import Tokenizer

CHARACTERS, PIECES = "characters", "sentencepiece"
CHARACTERS_FILE, PIECES_FILE = "tokenizer.json", "tokenizer.model"
PIECES_MIN_CHARS = 300_000
PIECES_MAX_ALPHABET = 200
PIECES_VOCAB = 1_000
MAX_CHARACTERS = 4_000  # the most frequent characters kept; rarer ones read as UNKNOWN
UNKNOWN = "\ufffd"  # id 0 of a character tokenizer: a character its text did not have


class CharTokenizer:
    """One id per character of the text it was made from; id 0 is any other character."""

    kind = CHARACTERS
    filename = CHARACTERS_FILE

    def __init__(self, characters: str):
        if UNKNOWN in characters or len(set(characters)) != len(characters):
            raise InputError("a character tokenizer lists each character once, without U+FFFD")
        self.piece_texts = (UNKNOWN, *characters)
        self.vocab_size = len(self.piece_texts)
        self._ids = {c: i for i, c in enumerate(self.piece_texts)}
        self._ids[UNKNOWN] = 0

    @classmethod
    def of_text(cls, text: str) -> "CharTokenizer":
        counts = collections.Counter(text)
        counts.pop(UNKNOWN, None)
        kept = sorted(c for c, _ in counts.most_common(MAX_CHARACTERS))
        return cls("".join(kept))

    def encode(self, text: str) -> list[int]:
        ids = self._ids
        return [ids.get(c, 0) for c in text]

    def decode(self, ids) -> str:
        return "".join(self.piece_texts[int(i)] for i in ids)

    def to_bytes(self) -> bytes:
        return json.dumps({"kind": CHARACTERS, "characters": "".join(self.piece_texts[1:])},
                          ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> "CharTokenizer":
        try:
            record = json.loads(data.decode("utf-8"))
            characters = record["characters"]
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
            raise InputError(f"{CHARACTERS_FILE} is damaged ({type(error).__name__})") from None
        if record.get("kind") != CHARACTERS or not isinstance(characters, str):
            raise InputError(f"{CHARACTERS_FILE} is not a character tokenizer")
        return cls(characters)


class PieceTokenizer(Tokenizer):
    """A SentencePiece model trained on the visitor's text (the shared tokenizer's class, its own file)."""

    kind = PIECES
    filename = PIECES_FILE

    def __init__(self, model_path: str | Path):
        super().__init__(model_path)
        self._bytes = self.path.read_bytes()  # kept: the file may live in a folder deleted after loading

    def to_bytes(self) -> bytes:
        return self._bytes

    @classmethod
    def from_bytes(cls, data: bytes, folder: Path) -> "PieceTokenizer":
        path = Path(folder) / PIECES_FILE
        path.write_bytes(data)
        try:
            return cls(path)
        except RuntimeError:
            raise InputError(f"{PIECES_FILE} is not a SentencePiece model") from None


def choose(text: str) -> str:
    """Which tokenizer the rule picks for `text` (see the module docstring)."""
    alphabet = len(set(text))
    return PIECES if len(text) >= PIECES_MIN_CHARS and alphabet <= PIECES_MAX_ALPHABET else CHARACTERS


def train_pieces(text: str, folder: Path, *, vocab_size: int = PIECES_VOCAB, seed: int = 1234) -> PieceTokenizer:
    """A SentencePiece unigram model of `vocab_size` pieces learnt from `text` (byte fallback: any text encodes)."""
    model = io.BytesIO()
    spm.set_random_generator_seed(seed)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([line for line in text.split("\n") if line.strip()][:200_000]),
        model_writer=model, vocab_size=vocab_size, model_type="unigram", character_coverage=0.9995,
        pad_id=-1, unk_id=1, bos_id=2, eos_id=3, user_defined_symbols=["\n"], byte_fallback=True,
        normalization_rule_name="identity", add_dummy_prefix=False, remove_extra_whitespaces=False,
        allow_whitespace_only_pieces=True, num_threads=1, minloglevel=2, hard_vocab_limit=False)
    path = Path(folder) / PIECES_FILE
    path.write_bytes(model.getvalue())
    return PieceTokenizer(path)


def tokenizer_for(text: str, folder: Path):
    """The chosen tokenizer for `text`, its file written in `folder` (characters if pieces cannot be learnt)."""
    if choose(text) == PIECES:
        try:
            return train_pieces(text, folder)
        except RuntimeError:  # SentencePiece could not make that many pieces of this text
            pass
    return CharTokenizer.of_text(text)


def load(kind: str, data: bytes, folder: Path | None = None):
    """A tokenizer of `kind` from its file's bytes (InputError if damaged)."""
    if kind == CHARACTERS:
        return CharTokenizer.from_bytes(data)
    if kind == PIECES:
        with tempfile.TemporaryDirectory() as scratch:
            return PieceTokenizer.from_bytes(data, Path(folder or scratch))
    raise InputError(f"unknown tokenizer kind {kind!r}")
