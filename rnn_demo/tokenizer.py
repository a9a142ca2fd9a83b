"""The one SentencePiece tokenizer shared by every model."""
from __future__ import annotations

import hashlib
import io
import logging
import re
from pathlib import Path
from typing import Iterable, Iterator

import sentencepiece as spm

from .data import corpora
from .config import NEWLINE, USER_SYMBOLS, TokenizerConfig

log = logging.getLogger(__name__)

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
MAX_SENTENCE_BYTES = 4096
META_SPACE = "\u2581"
# The symbols that mark structure in a model's input (`<sep>`, `<blank>`, the persona tags): only
# `piece_id` gives their ids. Typed as text they are spelled in ordinary pieces, so that no visitor can
# end a turn or change the persona by typing "<sep>". The newline is a symbol too, but it is text.
MARKUP_SYMBOLS = tuple(symbol for symbol in USER_SYMBOLS if symbol != NEWLINE)
MARKUP = re.compile("(" + "|".join(map(re.escape, MARKUP_SYMBOLS)) + ")")


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Tokenizer:
    """Encodes any Unicode string to ids and back, exactly (byte fallback, no normalisation)."""

    def __init__(self, model_path: str | Path):
        self.path = Path(model_path)
        # How messages name the file (`assets/tokenizer.model`): they reach the page, the absolute path must not.
        self.shown_path = "/".join(self.path.absolute().parts[-2:])
        if not self.path.is_file():
            raise FileNotFoundError(
                f"tokenizer file {self.shown_path} is missing; create it with "
                "`python -m rnn_demo train tokenizer`"
            )
        self.sha256 = sha256_file(self.path)
        try:
            self._sp = spm.SentencePieceProcessor(model_file=str(self.path))
        except RuntimeError as error:  # SentencePiece's reason names the file as it was given
            raise RuntimeError(str(error).replace(str(self.path), self.shown_path)) from None
        self.vocab_size = self._sp.get_piece_size()
        self.newline_id = self.piece_id("\n")
        # SentencePiece reads a literal U+2581 as its own meta space; spell it out in bytes.
        self._meta_space_ids = [self.piece_id(f"<0x{b:02X}>") for b in META_SPACE.encode("utf-8")]
        # With no normalisation and no dummy prefix, a word piece decodes to the same text
        # wherever it stands; byte pieces (parts of one character) and control symbols do not.
        sp = self._sp
        self.piece_texts: tuple[str | None, ...] = tuple(
            None if sp.is_byte(i) or sp.is_control(i) or sp.is_unknown(i) else sp.decode([i])
            for i in range(self.vocab_size))

    def piece_id(self, piece: str) -> int:
        """The id of a special symbol such as `<sep>`; raises if the model lacks it."""
        index = self._sp.piece_to_id(piece)
        if index == UNK_ID:
            raise KeyError(f"symbol {piece!r} is not in the tokenizer")
        return index

    def encode(self, text: str) -> list[int]:
        """The ids of `text` read as text: a markup symbol typed in it (`MARKUP_SYMBOLS`) is spelled as
        "<" and the rest in ordinary pieces, never given the symbol's id.

        Args:
            text: any Unicode text (no lone surrogates).
        Returns:
            Its token ids; text without markup symbols is encoded exactly as SentencePiece encodes it.
        """
        if not MARKUP.search(text):
            return self._encode_plain(text)
        ids: list[int] = []
        # SentencePiece already cuts text at these symbols, so the text between them encodes as before.
        # Odd parts are the symbols: "<" alone, then the rest, which holds no "<" and so no symbol.
        for index, part in enumerate(MARKUP.split(text)):
            for piece in ((part[:1], part[1:]) if index % 2 else (part,)):
                ids.extend(self._encode_plain(piece))
        return ids

    def _encode_plain(self, text: str) -> list[int]:
        """SentencePiece's ids of `text`, with a literal meta space spelled in bytes."""
        if META_SPACE not in text:
            return self._sp.encode(text)
        ids: list[int] = []
        for index, part in enumerate(text.split(META_SPACE)):
            if index:
                ids.extend(self._meta_space_ids)
            ids.extend(self._sp.encode(part))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        return self._sp.decode([int(i) for i in ids])

    def piece(self, index: int) -> str:
        return self._sp.id_to_piece(int(index))


def training_sentences(max_sentences: int) -> Iterator[str]:
    """Lines of the training plays, chat turns and country facts, in a fixed order."""
    count = 0
    sources = (
        (line for play in corpora.play_split("train") for line in play.text.split("\n")),
        (turn for turns in corpora.chat_split("train") for turn in turns),
        (sentence for fact in corpora.country_facts() for sentence in corpora.fact_sentences(fact)),
    )
    for source in sources:
        for line in source:
            if line.strip() and count < max_sentences:
                count += 1
                yield line[:MAX_SENTENCE_BYTES // 4]


def train_tokenizer(out_path: str | Path, config: TokenizerConfig = TokenizerConfig()) -> Tokenizer:
    """Trains the shared SentencePiece model on every corpus, reproducibly (one thread, fixed seed).

    Args:
        out_path: where to write the `.model` file.
        config: vocabulary size and model type.
    Returns:
        The trained tokenizer, loaded from `out_path`.
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    model = io.BytesIO()
    spm.set_random_generator_seed(config.seed)
    spm.SentencePieceTrainer.train(
        sentence_iterator=training_sentences(config.max_sentences),
        model_writer=model,
        vocab_size=config.vocab_size,
        model_type=config.model_type,
        character_coverage=config.character_coverage,
        pad_id=PAD_ID, unk_id=UNK_ID, bos_id=BOS_ID, eos_id=EOS_ID,
        user_defined_symbols=list(USER_SYMBOLS),
        byte_fallback=True,
        normalization_rule_name="identity",
        add_dummy_prefix=False,
        remove_extra_whitespaces=False,
        allow_whitespace_only_pieces=True,
        split_digits=True,
        num_threads=1,
        shuffle_input_sentence=False,
        max_sentence_length=MAX_SENTENCE_BYTES,
        minloglevel=2,
    )
    out_path.write_bytes(model.getvalue())
    log.info("wrote tokenizer %s", out_path)
    return Tokenizer(out_path)
