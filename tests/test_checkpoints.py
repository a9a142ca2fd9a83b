"""The checkpoint loader: refusals with a message that says what to run, and save/load parity."""
import json
import shutil

import numpy as np
import pytest

from rnn_demo.checkpoints import CheckpointError, load_checkpoint
from rnn_demo.config import TokenizerConfig
from rnn_demo.tokenizer import Tokenizer, train_tokenizer


def test_loads_and_records_metrics(quick_assets, tokenizer):
    checkpoint = load_checkpoint(quick_assets / "shakespeare-gru", tokenizer)
    meta = checkpoint.meta
    assert meta["family"] == "language_model" and meta["model"]["cell"] == "gru"
    assert meta["tokenizer_sha256"] == tokenizer.sha256
    assert meta["command"].startswith("python -m rnn_demo train shakespeare --quick")
    assert 0 < meta["metrics"]["bits_per_char"] < 20


def test_missing_checkpoint_names_the_command(tmp_path, tokenizer):
    with pytest.raises(CheckpointError, match=r"missing.*python -m rnn_demo train shakespeare --cell lstm"):
        load_checkpoint(tmp_path / "shakespeare-lstm", tokenizer)


def test_missing_weights_are_refused(assets_copy, tokenizer):
    (assets_copy / "shakespeare-gru" / "model.weights.h5").unlink()
    with pytest.raises(CheckpointError, match="lacks model.weights.h5"):
        load_checkpoint(assets_copy / "shakespeare-gru", tokenizer)


def test_corrupted_weights_are_refused(assets_copy, tokenizer):
    weights = assets_copy / "shakespeare-gru" / "model.weights.h5"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupted.*sha256.*python -m rnn_demo train shakespeare"):
        load_checkpoint(assets_copy / "shakespeare-gru", tokenizer)


def test_unreadable_config_is_refused(assets_copy, tokenizer):
    (assets_copy / "shakespeare-gru" / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(assets_copy / "shakespeare-gru", tokenizer)


def test_other_tokenizer_is_refused(quick_assets, tmp_path):
    other = train_tokenizer(tmp_path / "other.model", TokenizerConfig(vocab_size=400, max_sentences=3_000))
    with pytest.raises(CheckpointError, match="another tokenizer"):
        load_checkpoint(quick_assets / "shakespeare-gru", other)


def test_config_that_does_not_fit_the_weights_is_refused(assets_copy, tokenizer):
    config_path = assets_copy / "shakespeare-gru" / "config.json"
    meta = json.loads(config_path.read_text())
    meta["model"]["units"] += 8
    config_path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(assets_copy / "shakespeare-gru", tokenizer)


def test_same_logits_after_save_and_load(quick_assets, tokenizer, tmp_path):
    from rnn_demo.checkpoints import save_checkpoint

    original = load_checkpoint(quick_assets / "shakespeare-lstm", tokenizer)
    save_checkpoint(tmp_path / "copy", original.model, family="language_model",
                    model_config=original.model_config, tokenizer=tokenizer, meta={"command": "test"})
    reloaded = load_checkpoint(tmp_path / "copy", tokenizer)
    ids = tokenizer.encode("ROMEO:\nBut soft")
    first, _ = original.model.step(ids, original.model.initial_state())
    second, _ = reloaded.model.step(ids, reloaded.model.initial_state())
    np.testing.assert_allclose(first, second, atol=1e-6)
