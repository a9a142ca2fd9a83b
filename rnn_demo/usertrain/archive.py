"""A visitor's trained model as files and as one download (a zip): written, checked and loaded back without pickle.

A model folder (a run's, or an unpacked download) holds exactly `MEMBERS`: config.json (format, model shape,
settings, tokenizer kind, and the sha256 and size of every other file), model.safetensors (float32 arrays
by Keras weight name), the tokenizer (tokenizer.json or tokenizer.model) and metrics.json. Loading checks
the archive's size, its member names, each member's declared and actual size (reads stop at the limit:
no zip bomb), the hashes, the arrays' names and shapes against the config; it never unpickles or runs
anything: safetensors and JSON are data, and the model is rebuilt in NumPy from the config.
"""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .. import decoding
from ..config import InputError
from ..models.numpy_step import NumpyLanguageModel
from ..models.weights import WeightError
from ..sampling import Sampler, SamplingSettings
from . import tokens
from .settings import CELLS, TrainSettings, UserModelConfig, check_size

FORMAT = "rnn-demo-user-model"
VERSION = 1
CONFIG_FILE, WEIGHTS_FILE, METRICS_FILE = "config.json", "model.safetensors", "metrics.json"
TOKENIZER_FILES = {tokens.CHARACTERS: tokens.CHARACTERS_FILE, tokens.PIECES: tokens.PIECES_FILE}
MEMBERS = {CONFIG_FILE, WEIGHTS_FILE, METRICS_FILE, *TOKENIZER_FILES.values()}
MAX_ARCHIVE_BYTES = 24 * 2 ** 20
MAX_MEMBER_BYTES = {CONFIG_FILE: 64 * 1024, METRICS_FILE: 1 * 2 ** 20, tokens.CHARACTERS_FILE: 64 * 1024,
                    tokens.PIECES_FILE: 2 * 2 ** 20, WEIGHTS_FILE: MAX_ARCHIVE_BYTES}
MAX_HEADER_BYTES = 64 * 1024  # a safetensors header: names, dtypes, shapes, offsets


class ArchiveError(InputError):
    """A model file that is damaged, too large, or not one of this app's: its message says which."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_model(folder: Path, config: UserModelConfig, weights: dict[str, np.ndarray], tokenizer,
                settings: TrainSettings, metrics: dict) -> Path:
    """Writes a model folder: the weights, tokenizer and metrics, then config.json with their hashes."""
    from safetensors.numpy import save

    folder.mkdir(parents=True, exist_ok=True)
    files = {WEIGHTS_FILE: save({name: np.ascontiguousarray(a, np.float32) for name, a in sorted(weights.items())}),
             tokenizer.filename: tokenizer.to_bytes(),
             METRICS_FILE: json.dumps(metrics, indent=2, ensure_ascii=False).encode("utf-8")}
    for name, data in files.items():
        (folder / (name + ".tmp")).write_bytes(data)
        (folder / (name + ".tmp")).replace(folder / name)
    record = {"format": FORMAT, "version": VERSION, "model": dataclasses.asdict(config),
              "settings": settings.to_dict(), "tokenizer": tokenizer.kind,
              "files": {name: {"sha256": sha256(data), "bytes": len(data)} for name, data in files.items()},
              "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    (folder / (CONFIG_FILE + ".tmp")).write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    (folder / (CONFIG_FILE + ".tmp")).replace(folder / CONFIG_FILE)
    return folder


def folder_members(folder: Path) -> dict[str, bytes]:
    """A model folder's files as {name: bytes} (only `MEMBERS`, each within its limit)."""
    members = {}
    for name in sorted(MEMBERS):
        path = folder / name
        if path.is_file():
            if path.stat().st_size > MAX_MEMBER_BYTES[name]:
                raise ArchiveError(f"{name} is over its limit of {MAX_MEMBER_BYTES[name]:,} bytes")
            members[name] = path.read_bytes()
    return members


def pack(folder: Path) -> bytes:
    """A model folder as one zip (stored in a fixed order, so the same folder gives the same bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in folder_members(folder).items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def unpack(data: bytes) -> dict[str, bytes]:
    """The members of a downloaded model, checked (names, sizes, count) and read with bounded reads."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise ArchiveError(f"the model file is {len(data):,} bytes; the limit is {MAX_ARCHIVE_BYTES:,}")
    if not data:
        raise ArchiveError("the model file is empty")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise ArchiveError("the model file is not a zip archive (or it is damaged)") from None
    with archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        if len(infos) > len(MEMBERS) or len(set(names)) != len(names):
            raise ArchiveError(f"the model file holds {len(infos)} entries (some repeated or unknown); "
                               f"a model holds only {', '.join(sorted(MEMBERS))}")
        strange = sorted(set(names) - MEMBERS)
        if strange:
            raise ArchiveError(f"the model file holds an unexpected entry {strange[0][:80]!r}; "
                               f"a model holds only {', '.join(sorted(MEMBERS))}")
        return {info.filename: _read_member(archive, info) for info in infos}


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    limit = MAX_MEMBER_BYTES[info.filename]
    if info.file_size > limit:
        raise ArchiveError(f"{info.filename} would unpack to {info.file_size:,} bytes; the limit is {limit:,}")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ArchiveError(f"{info.filename} uses a compression this app does not read")
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)  # never more than the limit, whatever the header says
    except (zipfile.BadZipFile, RuntimeError, EOFError, OSError) as error:  # CRC mismatch, encryption, truncation
        raise ArchiveError(f"{info.filename} is damaged ({error.__class__.__name__})") from None
    if len(data) > limit:
        raise ArchiveError(f"{info.filename} unpacks to more than {limit:,} bytes")
    return data


@dataclass
class UserModel:
    """A visitor's model ready to generate: its config, NumPy step, tokenizer and recorded metrics."""

    config: UserModelConfig
    numpy_model: NumpyLanguageModel
    tokenizer: object
    metrics: dict
    settings: dict
    weights: dict

    def stream(self, prompt: str, *, max_tokens: int, temperature: float, seed: int,
               deadline_s: float) -> Iterator[str]:
        """The prompt and its continuation so far, after each token (the app's sampler and streaming loop)."""
        from ..serving.generation import _texts

        sampler = Sampler(SamplingSettings(temperature), seed=seed)
        prompt_ids = self.tokenizer.encode(prompt) or self.tokenizer.encode("\n") or [0]
        step, state = self.numpy_model.step, self.numpy_model.initial_state()
        events = decoding.stream(step, state, prompt_ids, choose=sampler, max_new_tokens=max_tokens,
                                 deadline_s=deadline_s)
        for chunk in _texts(events, self.tokenizer, prompt):
            yield chunk.text

    def generate(self, prompt: str, **limits) -> str:
        text = prompt
        for text in self.stream(prompt, **limits):
            pass
        return text


def load_members(members: dict[str, bytes]) -> UserModel:
    """A `UserModel` from checked members: config format, hashes, tokenizer, array names and shapes."""
    if CONFIG_FILE not in members:
        raise ArchiveError(f"the model file has no {CONFIG_FILE}")
    record = _config_record(members[CONFIG_FILE])
    config = _model_config(record)
    for name, expected in record["files"].items():
        if name not in members:
            raise ArchiveError(f"the model file lacks {name}")
        if len(members[name]) != expected.get("bytes") or sha256(members[name]) != expected.get("sha256"):
            raise ArchiveError(f"{name} does not match the hash in {CONFIG_FILE}: the file is damaged")
    tokenizer_file = TOKENIZER_FILES.get(record.get("tokenizer"))
    if tokenizer_file is None or tokenizer_file not in record["files"] or WEIGHTS_FILE not in record["files"]:
        raise ArchiveError(f"{CONFIG_FILE} does not list the weights and a known tokenizer")
    tokenizer = tokens.load(record["tokenizer"], members[tokenizer_file])
    if tokenizer.vocab_size != config.vocab_size:
        raise ArchiveError(f"the tokenizer has {tokenizer.vocab_size:,} tokens, the model {config.vocab_size:,}")
    weights = _weights(members[WEIGHTS_FILE])
    try:
        numpy_model = NumpyLanguageModel(config, weights)
    except WeightError as error:
        raise ArchiveError(f"the weights do not fit the config ({error})") from None
    metrics = json.loads(members[METRICS_FILE]) if METRICS_FILE in record["files"] else {}
    return UserModel(config, numpy_model, tokenizer, metrics, record.get("settings", {}), weights)


def _config_record(data: bytes) -> dict:
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ArchiveError(f"{CONFIG_FILE} is not JSON") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ArchiveError(f"this is not a model of this app's Train tab ({CONFIG_FILE} lacks format {FORMAT!r})")
    if record.get("version") != VERSION:
        raise ArchiveError(f"model format version {record.get('version')!r}; this app reads version {VERSION}")
    if not isinstance(record.get("files"), dict) or not all(isinstance(v, dict) for v in record["files"].values()):
        raise ArchiveError(f"{CONFIG_FILE} has no list of files")
    return record


def _model_config(record: dict) -> UserModelConfig:
    shape = record.get("model")
    try:
        config = UserModelConfig(**shape)
    except TypeError:
        raise ArchiveError(f"{CONFIG_FILE} has no valid model shape") from None
    whole = (config.vocab_size, config.embedding_dim, config.units, config.num_layers)
    if config.cell not in CELLS or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in whole) \
            or config.projection_rank != 0:
        raise ArchiveError(f"{CONFIG_FILE} has no valid model shape")
    try:
        return check_size(config)
    except InputError as error:
        raise ArchiveError(str(error)) from None


def _weights(data: bytes) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load

    header = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if not 0 < header <= MAX_HEADER_BYTES or header + 8 > len(data):
        raise ArchiveError(f"{WEIGHTS_FILE} is not a safetensors file (or it is damaged)")
    try:
        arrays = load(data)
    except (SafetensorError, ValueError, json.JSONDecodeError):
        raise ArchiveError(f"{WEIGHTS_FILE} is not a safetensors file (or it is damaged)") from None
    if any(a.dtype != np.float32 or not np.isfinite(a).all() for a in arrays.values()):
        raise ArchiveError(f"{WEIGHTS_FILE} holds arrays that are not finite float32")
    return arrays


def load_archive(data: bytes) -> UserModel:
    """A downloaded model file (zip bytes), checked and loaded (ArchiveError with the reason if refused)."""
    return load_members(unpack(data))


def load_folder(folder: Path) -> UserModel:
    return load_members(folder_members(folder))
