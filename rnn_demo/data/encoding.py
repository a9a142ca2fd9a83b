"""Token ids of the models' inputs and targets: documents, chat exchanges, gap sentences (no TensorFlow)."""
from __future__ import annotations

import re

import numpy as np

from ..config import SEP
from ..tokenizer import BOS_ID, EOS_ID, Tokenizer


def encode_documents(tokenizer: Tokenizer, texts) -> np.ndarray:
    """One int32 stream: each document begins with BOS, as generation and evaluation do."""
    parts = [np.asarray([BOS_ID] + tokenizer.encode(text), dtype=np.int32) for text in texts]
    return np.concatenate(parts) if parts else np.zeros(0, np.int32)


def seq2seq_example(tokenizer: Tokenizer, persona_tag: str, context, reply: str | None, *,
                    max_source_tokens: int, max_target_tokens: int):
    """Token ids of one exchange.

    The source is the persona tag, then the context turns joined by `<sep>`, keeping the last
    `max_source_tokens` (the newest words matter most). The target is the reply + EOS, cut to
    `max_target_tokens`.

    Returns:
        (source ids, target ids) — target None when `reply` is None.
    """
    sep = tokenizer.piece_id(SEP)
    turns = []
    for index, turn in enumerate(context):
        if index:
            turns.append(sep)
        turns.extend(tokenizer.encode(turn))
    source = [tokenizer.piece_id(persona_tag)] + turns[-(max_source_tokens - 1):]
    if reply is None:
        return source, None
    return source, tokenizer.encode(reply)[: max_target_tokens - 1] + [EOS_ID]


# --- the gap filler that scores words (models.gap_words) ---------------------------------------------

# A chunk of text: its leading spaces, then one word (as `fill_sentences.WORD` reads words) or one run of
# other characters. Each chunk is encoded alone, so the pieces of a sentence are the same whether it is
# read whole (training) or cut at a gap (serving): a gap always stands where a whole chunk was.
_CHUNK = re.compile(r"\s*(?:[^\W_]+(?:['’-][^\W_]+)*|[^\w\s]+|_+)")
UNKNOWN_WORD = "<unk>"  # index 0 of every gap filler's words


def chunk_ids(tokenizer: Tokenizer, text: str) -> list[int]:
    """The ids of `text`, chunk by chunk (trailing spaces dropped)."""
    return [i for chunk in _CHUNK.findall(text) for i in tokenizer.encode(chunk)]


def gap_sides(tokenizer: Tokenizer, left: str, right: str) -> tuple[list[int], list[int]]:
    """(ids before the gap, ids after it), as `word_gaps` encodes them: a sentence starts with a space, as
    its first word then does in running text, and the spaces before a gap belong to the gap."""
    return chunk_ids(tokenizer, " " + left.strip()) if left.strip() else [], chunk_ids(tokenizer, right)


def word_key(text: str) -> str:
    """How a filler is looked up among the words: letter case ignored, runs of spaces as one."""
    return " ".join(text.split()).casefold()


def word_gaps(tokenizer: Tokenizer, sentence: str, word_index: dict[str, int]) -> tuple[list[int], list[tuple]]:
    """A sentence with every word a gap: (its ids, [(ids before the word, ids after it, the word's index)]).

    Args:
        tokenizer: the shared tokenizer.
        sentence: the text.
        word_index: `word_key` of each filler → its index; a word it lacks is `UNKNOWN_WORD` (0).
    """
    from .fill_sentences import WORD

    ids, found = [], []
    for chunk in _CHUNK.findall(" " + sentence.strip()):
        start = len(ids)
        ids.extend(tokenizer.encode(chunk))
        if WORD.fullmatch(chunk.strip()):
            found.append((start, len(ids), word_index.get(word_key(chunk), 0)))
    return ids, [(start, len(ids) - end, index) for start, end, index in found]


def span_gap(tokenizer: Tokenizer, left: str, answer: str, right: str, word_index: dict[str, int]
             ) -> tuple[list[int], list[tuple]]:
    """One gap whose answer may be several words ("Mexico City"): (ids, [(before, after, index)]), as `word_gaps`."""
    before, after = gap_sides(tokenizer, left, right)
    middle = chunk_ids(tokenizer, (" " if not left.strip() or left[-1:].isspace() else "") + answer)
    return before + middle + after, [(len(before), len(after), word_index.get(word_key(answer), 0))]
