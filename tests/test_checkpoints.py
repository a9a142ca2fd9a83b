"""The checkpoint loader: refusals with a message that says what to run, save/load parity, the safetensors
format (float16 only where exact, shards under the size limit) and the conversion of HDF5 checkpoints."""
import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from rnn_demo import checkpoints
from rnn_demo.checkpoints import WEIGHTS_FILE, CheckpointError, load_checkpoint
from rnn_demo.config import LanguageModelConfig, TokenizerConfig, TrainingConfig
from rnn_demo.tokenizer import sha256_file, train_tokenizer


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
    (assets_copy / "shakespeare-gru" / WEIGHTS_FILE).unlink()
    with pytest.raises(CheckpointError, match="lacks model.safetensors"):
        load_checkpoint(assets_copy / "shakespeare-gru", tokenizer)


def test_corrupted_weights_are_refused(assets_copy, tokenizer):
    weights = assets_copy / "shakespeare-gru" / WEIGHTS_FILE
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


@pytest.mark.parametrize("name", ["shakespeare-gru", "chatbot"])
def test_config_that_does_not_fit_the_weights_is_refused_by_numpy_and_keras(assets_copy, tokenizer, name):
    from rnn_demo.serving import Engine

    config_path = assets_copy / name / "config.json"
    meta = json.loads(config_path.read_text())
    meta["model"]["units" if name == "shakespeare-gru" else "attention_units"] += 8
    config_path.write_text(json.dumps(meta))
    fix = f"python -m rnn_demo train {'shakespeare --cell gru' if name == 'shakespeare-gru' else 'chatbot'}"
    with pytest.raises(CheckpointError, match=f"{name}.*do not fit its config.*shape.*{fix}"):
        Engine(assets_copy).model(name)  # the NumPy step, as served
    with pytest.raises(CheckpointError, match=f"{name}.*do not fit its config.*{fix}"):
        _ = load_checkpoint(assets_copy / name, tokenizer).model  # the Keras reference


def test_truncated_weights_with_their_hash_updated_are_refused(assets_copy, tokenizer):
    directory = assets_copy / "chatbot"
    weights = directory / WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:5_000])
    meta = json.loads((directory / "config.json").read_text())
    meta["files"][WEIGHTS_FILE] = sha256_file(weights)
    (directory / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"weights are unreadable.*model\.safetensors.*train chatbot") as refused:
        load_checkpoint(directory, tokenizer)
    assert str(assets_copy) not in str(refused.value)


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


def test_weights_are_stored_by_keras_name_float16_only_where_exact(quick_assets, tokenizer, tmp_path):
    original = load_checkpoint(quick_assets / "shakespeare-gru", tokenizer)
    model = original.model
    kernel = next(v for v in model.weights if v.path.endswith("rnn_0/gru_cell/kernel"))
    kernel.assign(np.asarray(kernel).astype(np.float16).astype(np.float32))  # as `--round-matrices float16` does
    checkpoints.save_checkpoint(tmp_path / "rounded", model, family="language_model",
                                model_config=original.model_config, tokenizer=tokenizer, meta={"command": "test"})
    stored = load_file(tmp_path / "rounded" / WEIGHTS_FILE)
    assert set(stored) == {v.path.split("/", 1)[1] for v in model.weights}  # Keras paths below the model's name
    assert stored["rnn_0/gru_cell/kernel"].dtype == np.float16
    assert stored["embedding/embeddings"].dtype == np.float32  # never rounded: float16 would change it
    for variable in model.weights:  # the same numbers either way
        np.testing.assert_array_equal(stored[variable.path.split("/", 1)[1]].astype(np.float32), np.asarray(variable))


def test_large_weights_are_sharded_below_the_limit(quick_assets, tokenizer, tmp_path, monkeypatch):
    original = load_checkpoint(quick_assets / "shakespeare-lstm", tokenizer)
    limit = 300_000
    monkeypatch.setattr(checkpoints, "MAX_FILE_BYTES", limit)
    monkeypatch.setattr(checkpoints, "_HEADER_ALLOWANCE", 8_192)
    (tmp_path / "sharded").mkdir()
    (tmp_path / "sharded" / WEIGHTS_FILE).write_bytes(b"an earlier save")  # removed, not left stale
    checkpoints.save_checkpoint(tmp_path / "sharded", original.model, family="language_model",
                                model_config=original.model_config, tokenizer=tokenizer, meta={"command": "test"})
    files = json.loads((tmp_path / "sharded" / "config.json").read_text())["files"]
    assert len(files) > 1 and list(files)[0] == "model-00001-of-%05d.safetensors" % len(files)
    assert sorted(p.name for p in (tmp_path / "sharded").glob("*.safetensors")) == sorted(files)
    assert all((tmp_path / "sharded" / name).stat().st_size <= limit for name in files)
    reloaded = load_checkpoint(tmp_path / "sharded", tokenizer)
    ids = tokenizer.encode("ROMEO:\nBut soft")
    np.testing.assert_array_equal(reloaded.model.step(ids, reloaded.model.initial_state())[0],
                                  original.model.step(ids, original.model.initial_state())[0])


def _legacy_checkpoint(quick_assets, tokenizer, directory):
    """A checkpoint of the earlier format: Keras HDF5 weights, listed in config.json."""
    original = load_checkpoint(quick_assets / "chatbot", tokenizer)
    directory.mkdir()
    original.model.save_weights(directory / checkpoints.LEGACY_WEIGHTS_FILE)
    meta = dict(original.meta, files={checkpoints.LEGACY_WEIGHTS_FILE:
                                      sha256_file(directory / checkpoints.LEGACY_WEIGHTS_FILE)})
    (directory / "config.json").write_text(json.dumps(meta))
    return original


def test_an_hdf5_checkpoint_is_refused_with_the_convert_command(quick_assets, tokenizer, tmp_path):
    _legacy_checkpoint(quick_assets, tokenizer, tmp_path / "chatbot")
    with pytest.raises(CheckpointError, match="earlier HDF5 format.*`python -m rnn_demo convert-weights chatbot`"):
        load_checkpoint(tmp_path / "chatbot", tokenizer)


def test_convert_weights_keeps_every_number_and_records_its_source(quick_assets, tokenizer, tmp_path):
    from rnn_demo.__main__ import main
    from rnn_demo.models.numpy_step import NumpySeq2Seq

    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "tokenizer.model").write_bytes(tokenizer.path.read_bytes())
    original = _legacy_checkpoint(quick_assets, tokenizer, assets / "chatbot")
    source_sha256 = sha256_file(assets / "chatbot" / checkpoints.LEGACY_WEIGHTS_FILE)
    assert main(["convert-weights", "chatbot", "--assets", str(assets), "--json"]) == 0
    converted = load_checkpoint(assets / "chatbot", tokenizer)
    assert not (assets / "chatbot" / checkpoints.LEGACY_WEIGHTS_FILE).exists()
    assert list(converted.meta["files"]) == [WEIGHTS_FILE]
    record = converted.meta["converted_from"]
    assert record["file"] == checkpoints.LEGACY_WEIGHTS_FILE and record["sha256"] == source_sha256
    assert record["command"] == "python -m rnn_demo convert-weights chatbot"
    assert converted.meta["metrics"] == original.meta["metrics"]
    for variable in original.model.weights:
        np.testing.assert_array_equal(np.asarray(converted.weights[variable.path.split("/", 1)[1]], np.float32),
                                      np.asarray(variable))
    memory = NumpySeq2Seq(converted.model_config, converted.weights).encode([7, 400, 401, 5])
    np.testing.assert_array_equal(memory.values, NumpySeq2Seq(original.model).encode([7, 400, 401, 5]).values)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_each_shipped_language_model_is_what_one_train_command_makes(cell):
    """The command its config.json records, read by the CLI's own parser, trains the shipped model's shape with
    its recorded settings, from random weights (issue 13: one command per shipped checkpoint)."""
    import shlex
    from dataclasses import asdict

    from rnn_demo.__main__ import parse, train_configs
    from rnn_demo.training.recipe import recipe_for
    from tests.conftest import ROOT

    meta = json.loads((ROOT / "assets" / f"shakespeare-{cell}" / "config.json").read_text())
    assert meta.get("initialised_from") is None and meta.get("converted_from") is None
    prefix = f"python -m rnn_demo train shakespeare --cell {cell} "
    assert meta["command"].startswith(prefix)
    args = parse(shlex.split(meta["command"])[3:])
    assert not args.quick
    model_config, train_config = train_configs(recipe_for("shakespeare"), args)
    assert asdict(model_config) == asdict(LanguageModelConfig(**meta["model"]))  # fields added since: defaults
    assert asdict(train_config) == asdict(TrainingConfig(**meta["training"]))
