"""The shared tokenizer: exact round trips, special symbols, reproducible training."""
import pytest

from rnn_demo.config import NEWLINE, USER_SYMBOLS, TokenizerConfig
from rnn_demo.tokenizer import PAD_ID, UNK_ID, Tokenizer, train_tokenizer

TEXTS = [
    "ROMEO:\nBut soft, what light through yonder window breaks?\n",
    "你好，世界",
    "emoji 🎭🚀👩‍👩‍👧",
    "tabs\tand\t\ttabs",
    "\n\n\nnewlines\n",
    "runs   of    spaces  ",
    "   leading spaces",
    "mixed: café naïve Ελληνικά русский العربية",
    "a literal \u2581 meta space \u2581\u2581",
    "\x00\x07\r\n control",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_round_trip_is_exact(tokenizer, text):
    ids = tokenizer.encode(text)
    assert tokenizer.decode(ids) == text


def test_piece_texts_concatenate_to_the_decoded_text(tokenizer):
    """Streaming appends `piece_texts[id]` for word pieces; that must equal decoding the whole run."""
    import random

    ids = tokenizer.encode("".join(TEXTS)) + random.Random(0).choices(range(tokenizer.vocab_size), k=3000)
    runs, run = [], []
    for index in ids:  # maximal runs of ids with a fixed text
        if tokenizer.piece_texts[index] is None:
            runs.append(run)
            run = []
        else:
            run.append(index)
    runs.append(run)
    assert sum(map(len, runs)) > 1000
    for run in runs:
        assert "".join(tokenizer.piece_texts[i] for i in run) == tokenizer.decode(run)


def test_no_unknown_tokens_for_any_unicode(tokenizer):
    ids = tokenizer.encode("".join(TEXTS))
    assert UNK_ID not in ids


def test_special_symbols_are_single_pieces(tokenizer):
    for symbol in USER_SYMBOLS:
        assert tokenizer.piece(tokenizer.piece_id(symbol)) == symbol
    assert tokenizer.encode(NEWLINE) == [tokenizer.newline_id]  # the newline is a symbol and text
    assert tokenizer.piece(PAD_ID) == "<pad>"


def test_control_symbols_typed_as_text_are_ordinary_pieces(tokenizer):
    controls = {tokenizer.piece_id(symbol) for symbol in USER_SYMBOLS if symbol != NEWLINE}
    for symbol in USER_SYMBOLS:
        if symbol != NEWLINE:
            ids = tokenizer.encode(f"hello {symbol} world")
            assert not controls & set(ids) and tokenizer.decode(ids) == f"hello {symbol} world"


def test_newlines_are_kept_as_tokens(tokenizer):
    assert tokenizer.encode("a\nb").count(tokenizer.newline_id) == 1


def test_training_is_reproducible(tmp_path):
    config = TokenizerConfig(vocab_size=500, max_sentences=5_000)
    first = train_tokenizer(tmp_path / "a.model", config)
    second = train_tokenizer(tmp_path / "b.model", config)
    assert first.sha256 == second.sha256
    assert first.vocab_size == 500


def test_missing_tokenizer_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m rnn_demo train tokenizer"):
        Tokenizer(tmp_path / "nope.model")
