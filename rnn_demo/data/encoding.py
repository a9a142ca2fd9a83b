"""Token ids of the models' inputs and targets: documents, chat exchanges, fill sentences (no TensorFlow)."""
from __future__ import annotations

import numpy as np

from ..config import BLANK, SEP
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


def fill_side_ids(tokenizer: Tokenizer, left: str, right: str) -> tuple[list[int], list[int], str]:
    """Token ids of the text before and after a gap, and the prefix its filler is written with.

    The filler of a gap that follows a space or starts the sentence is written with a leading
    space, as it would stand in running text: "▁South ▁Africa", not "So u th ▁Africa" (the
    tokenizer's pieces for a word start with "▁"; without it, words are spelled out in rare
    pieces, and the first gap filler trained that way stayed at 5.4 nats per token). The text
    before the gap is encoded the same way, with a leading space and no trailing one.
    """
    gap_after_space = not left or left[-1].isspace()
    before = left.rstrip() if gap_after_space else left
    left_ids = tokenizer.encode(" " + before.lstrip()) if before.strip() else []
    return left_ids, tokenizer.encode(right), " " if gap_after_space else ""


def fill_source(tokenizer: Tokenizer, left_ids: list[int], right_ids: list[int], *, max_source_tokens: int
                 ) -> list[int]:
    """left + `<blank>` + right, cut at the far ends to fit `max_source_tokens`, the gap kept in the middle."""
    side = (max_source_tokens - 1) // 2
    room_left = max(side, max_source_tokens - 1 - len(right_ids))
    left_ids = left_ids[-room_left:] if room_left else []
    right_ids = right_ids[: max_source_tokens - 1 - len(left_ids)]
    return left_ids + [tokenizer.piece_id(BLANK)] + right_ids


def fill_example(tokenizer: Tokenizer, left: str, right: str, answer: str | None, *, max_source_tokens: int,
                  max_target_tokens: int):
    """Token ids of one gap sentence: source as `fill_source` builds it, target = answer + EOS
    (None when `answer` is None); see `fill_side_ids` for how the words are encoded."""
    left_ids, right_ids, prefix = fill_side_ids(tokenizer, left, right)
    source = fill_source(tokenizer, left_ids, right_ids, max_source_tokens=max_source_tokens)
    if answer is None:
        return source, None
    return source, tokenizer.encode(prefix + answer)[: max_target_tokens - 1] + [EOS_ID]
