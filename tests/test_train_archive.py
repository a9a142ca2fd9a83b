"""The download format of the Train tab: written, read back the same, and refused with a clear message when bad."""
import io
import json
import zipfile

import numpy as np
import pytest

from rnn_demo.usertrain import archive
from rnn_demo.usertrain.archive import ArchiveError
from rnn_demo.usertrain.settings import InputError, TrainSettings, UserModelConfig, decode_upload
from rnn_demo.usertrain.tokens import CharTokenizer

TEXT = "to be or not to be, that is the question\n" * 10


def random_weights(config: UserModelConfig, seed=0) -> dict:
    """Weights by Keras name for a one-layer GRU or SimpleRNN model, drawn at random (no TensorFlow needed)."""
    rng = np.random.default_rng(seed)
    gates = {"gru": 3, "simple_rnn": 1}[config.cell]
    cell = f"rnn_0/{config.cell}_cell"
    bias_shape = (2, 3 * config.units) if config.cell == "gru" else (config.units,)
    shapes = {"embedding/embeddings": (config.vocab_size, config.embedding_dim),
              f"{cell}/kernel": (config.embedding_dim, gates * config.units),
              f"{cell}/recurrent_kernel": (config.units, gates * config.units), f"{cell}/bias": bias_shape,
              "projection/kernel": (config.units, config.vocab_size), "projection/bias": (config.vocab_size,)}
    return {name: rng.normal(0, 0.5, shape).astype(np.float32) for name, shape in shapes.items()}


@pytest.fixture(params=["gru", "simple_rnn"])
def model_zip(request, tmp_path) -> bytes:
    tokenizer = CharTokenizer.of_text(TEXT)
    config = UserModelConfig(request.param, tokenizer.vocab_size, 8, 16, 1)
    archive.write_model(tmp_path / "m", config, random_weights(config), tokenizer, TrainSettings(),
                        {"best_val_bpc": 1.5, "points": [{"step": 1, "val_bpc": 2.0}]})
    return archive.pack(tmp_path / "m")


def _rezip(data: bytes, change) -> bytes:
    """The archive with its members passed through `change(members) -> members` (a dict of name: bytes)."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, member in change(members).items():
            target.writestr(name, member)
    return out.getvalue()


def test_a_download_loads_back_with_the_same_greedy_text(model_zip, tmp_path):
    model = archive.load_archive(model_zip)
    text = model.generate("to be", max_tokens=40, temperature=0.0, seed=0, deadline_s=5.0)
    again = archive.load_archive(model_zip).generate("to be", max_tokens=40, temperature=0.0, seed=0, deadline_s=5.0)
    assert text == again and len(text) == len("to be") + 40
    assert model.metrics["best_val_bpc"] == 1.5
    assert sorted(zipfile.ZipFile(io.BytesIO(model_zip)).namelist()) == [
        "config.json", "metrics.json", "model.safetensors", "tokenizer.json"]


@pytest.mark.parametrize("change, message", [
    (lambda m: {**m, "model.safetensors": m["model.safetensors"][:-8] + b"\x00" * 8}, "does not match the hash"),
    (lambda m: {k: v for k, v in m.items() if k != "model.safetensors"}, "lacks model.safetensors"),
    (lambda m: {**m, "../../etc/passwd": b"x"}, "unexpected entry"),
    (lambda m: {**m, "payload.pkl": b"\x80\x04."}, "unexpected entry"),
    (lambda m: {**m, "config.json": b"{not json"}, "not JSON"),
    (lambda m: {**m, "config.json": json.dumps({"format": "other"}).encode()}, "not a model of this app"),
])
def test_damaged_archives_are_refused_with_their_reason(model_zip, change, message):
    with pytest.raises(ArchiveError, match=message):
        archive.load_archive(_rezip(model_zip, change))


def test_weights_that_do_not_fit_the_config_are_refused(model_zip):
    def wider(members):
        record = json.loads(members["config.json"])
        record["model"]["units"] = 17  # the arrays hold 16: rehashing cannot make them fit
        return {**members, "config.json": json.dumps(record).encode()}
    with pytest.raises(ArchiveError, match="do not fit the config"):
        archive.load_archive(_rezip(model_zip, wider))


def test_not_zips_empty_too_large_and_zip_bombs_are_refused(model_zip):
    with pytest.raises(ArchiveError, match="empty"):
        archive.load_archive(b"")
    with pytest.raises(ArchiveError, match="not a zip archive"):
        archive.load_archive(b"\x89PNG\r\n" * 100)
    with pytest.raises(ArchiveError, match="not a zip archive"):
        archive.load_archive(model_zip[: len(model_zip) // 2])  # cut short
    with pytest.raises(ArchiveError, match="the limit is"):
        archive.load_archive(b"0" * (archive.MAX_ARCHIVE_BYTES + 1))
    bomb = _rezip(model_zip, lambda m: {**m, "metrics.json": b" " * (50 * 2 ** 20)})  # 50 MB of spaces: ~50 kB zipped
    assert len(bomb) < 200_000
    with pytest.raises(ArchiveError, match="would unpack to 52,428,800 bytes"):
        archive.load_archive(bomb)


def test_uploaded_text_files_are_checked():
    assert decode_upload("床前明月光\n".encode() * 50).startswith("床前")
    for data, message in [(b"", "empty"), (b"\x00\x01binary" * 40, "looks binary"),
                          (b"\xff\xfe caf\xe9" * 60, "not UTF-8"), (b"short", "at least 200 characters"),
                          (b"a" * (2 * 2 ** 20 + 1), "the limit is 2,097,152")]:
        with pytest.raises(InputError, match=message):
            decode_upload(data)
