"""The one checkpoint saver/loader: `assets/<name>/config.json` + safetensors weights, every file hashed.

The weights are arrays named by their Keras weight paths (`models.weights`), in one file,
`model.safetensors`, or in shards of at most `MAX_FILE_BYTES` (`model-00001-of-00002.safetensors`).
An array that training rounded to float16 values is stored as float16, exactly; the others as
float32. Loading reads the arrays and nothing else: no pickle, no deserialised model (a model file is a
program), and no TensorFlow, so the serving process builds its NumPy steps straight from them; the
Keras reference model is rebuilt in code from config.json on first use and takes them back by name.
Messages name files from the assets folder down (`assets/chatbot/config.json`): they reach the page and
API callers, and the server's absolute paths are not theirs to see.
"""
from __future__ import annotations

import datetime
import json
import logging
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from . import config as config_module
from .models import weights as named_weights
from .models.registry import CLI, FAMILIES, train_command
from .tokenizer import Tokenizer, sha256_file

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"  # the weights in one file; shards are `model-00001-of-00002.safetensors`
WEIGHTS_SUFFIX = ".safetensors"
COUNTS_FILE = "counts.safetensors"  # the gap filler's word counts (models/gap_counts.py): hashed, not weights
SHARD_NAME = "model-{index:05d}-of-{count:05d}.safetensors"
# A hosted Space refuses a file over 10 MiB pushed without Git LFS: every weights file stays below.
MAX_FILE_BYTES = 10 * 2 ** 20
_HEADER_ALLOWANCE = 64 * 1024  # what a safetensors header (names, shapes, offsets) may take, at most
LEGACY_WEIGHTS_FILE = "model.weights.h5"  # the Keras HDF5 weights of earlier checkpoints
CONFIG_FILE = "config.json"


def convert_command(name: str) -> str:
    """The command that converts checkpoint `name` from `LEGACY_WEIGHTS_FILE` to safetensors."""
    return f"{CLI} convert-weights {name}"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupted, or was trained with another tokenizer."""


def shown_path(path: str | Path, parts: int) -> str:
    """How a message names `path`: its last `parts` parts, e.g. `assets/chatbot/config.json` for 3.

    Args:
        path: a file or folder, relative or absolute.
        parts: how many trailing parts to keep.
    Returns:
        Those parts joined by "/".
    """
    return "/".join(Path(path).absolute().parts[-parts:])


def without_path(message: str, folder: str | Path, parts: int) -> str:
    """`message` with each absolute spelling of `folder` (as given, and with links resolved) shortened to
    `shown_path(folder, parts)`: for reasons quoted from other libraries (HDF5, SentencePiece), which name
    the files they read in full.

    Args:
        message: the text to clean.
        folder: the folder whose absolute path must not show.
        parts: as for `shown_path`.
    Returns:
        The cleaned message.
    """
    folder = Path(folder)
    for spelling in sorted({str(folder.absolute()), str(folder.resolve())}, key=len, reverse=True):
        message = message.replace(spelling, shown_path(folder, parts))
    return message


def _shown_file(directory: Path, filename: str) -> str:
    """A checkpoint's file as messages name it: `assets/<name>/<file>`."""
    return shown_path(directory / filename, 3)


@dataclass
class Checkpoint:
    """A verified checkpoint: its config, its weights by name, and the Keras reference model on demand."""

    name: str
    directory: Path
    model_config: object  # its frozen dataclass
    meta: dict  # the whole config.json
    # {Keras weight path below the model's name: array as stored, float16 or float32}; None once released
    weights: dict | None
    _model: object = field(default=None, repr=False)

    def release_weights(self) -> None:
        """Lets the arrays go once a NumPy model holds its own copy; `model` reads them again if asked."""
        self.weights = None

    @property
    def model(self):
        """The Keras model, rebuilt from config.json in code and given the weights by name on first use.
        Only training, evaluation and the reference tests ask for it: it imports TensorFlow."""
        if self._model is None:
            model = FAMILIES[self.meta["family"]].build(self.model_config)
            weights = self.weights if self.weights is not None else read_weights(self.directory, self.meta)
            try:
                named_weights.assign(model, weights)
            except named_weights.WeightError as error:
                raise _unfit(self.name, error) from None
            self._model = model
        return self._model


def _unfit(name: str, error: Exception) -> CheckpointError:
    return CheckpointError(f"checkpoint {name!r}: weights are unreadable or do not fit its config ({error}); "
                           f"re-create it with `{train_command(name)}`")


def stored(array: np.ndarray) -> np.ndarray:
    """How a weight is stored: as float16 when that holds its values exactly (training rounded them,
    `--round-matrices float16`), else as float32."""
    array = np.asarray(array, dtype=np.float32)
    half = array.astype(np.float16)
    return half if np.isfinite(half).all() and np.array_equal(half.astype(np.float32), array) else array


def write_weights(directory: str | Path, weights: dict[str, np.ndarray]) -> dict[str, str]:
    """Writes `weights` (by name) as safetensors: one file, or shards of at most MAX_FILE_BYTES.

    Safetensors files of an earlier save in `directory` are removed first, so no shard is left stale.
    Returns:
        {file name: sha256} of the files written, in order.
    """
    from safetensors.numpy import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("model*" + WEIGHTS_SUFFIX):
        old.unlink()
    arrays = {name: stored(array) for name, array in sorted(weights.items())}
    shards: list[dict[str, np.ndarray]] = [{}]
    budget = MAX_FILE_BYTES - _HEADER_ALLOWANCE
    for name, array in arrays.items():
        if array.nbytes > budget:
            raise ValueError(f"weight {name} takes {array.nbytes:,} bytes, more than one file may hold "
                             f"({budget:,})")
        if sum(a.nbytes for a in shards[-1].values()) + array.nbytes > budget:
            shards.append({})
        shards[-1][name] = array
    names = ([WEIGHTS_FILE] if len(shards) == 1 else
             [SHARD_NAME.format(index=index, count=len(shards)) for index in range(1, len(shards) + 1)])
    files = {}
    for filename, shard in zip(names, shards):
        save_file(shard, str(directory / filename), metadata={"format": "np"})
        (directory / filename).chmod(0o644)  # safetensors creates it owner-only; a container's user reads it
        files[filename] = sha256_file(directory / filename)
    return files


def save_checkpoint(directory: str | Path, model, *, family: str, model_config, tokenizer: Tokenizer,
                    meta: dict, extra_files: tuple[str, ...] = ()) -> Path:
    """Writes the weights (by name; no optimizer state) and config.json with every file's sha256.

    Args:
        directory: the checkpoint folder, e.g. `assets/shakespeare-gru`.
        model: a built Keras model of `family`.
        family: key of the model family, e.g. "language_model".
        model_config: the dataclass the model was built from.
        tokenizer: the tokenizer the model was trained with (its sha256 is recorded).
        meta: anything else to record (command, data, seed, metrics).
        extra_files: files the run already wrote into `directory` that belong to the checkpoint (hashed and
            listed with the weights, e.g. `COUNTS_FILE`).
    Returns:
        The checkpoint folder.
    """
    directory = Path(directory)
    (directory / LEGACY_WEIGHTS_FILE).unlink(missing_ok=True)  # an earlier run's, in the same folder
    record = dict(meta)
    record.update({
        "family": family,
        "model": config_module.to_dict(model_config),
        "tokenizer_sha256": tokenizer.sha256,
        "files": {**write_weights(directory, named_weights.named(model)), **listed_files(directory, extra_files)},
        "created": record.get("created") or _now(),
    })
    (directory / CONFIG_FILE).write_text(config_module.dumps(record), encoding="utf-8")
    log.info("saved checkpoint %s", directory)
    return directory


def listed_files(directory: Path, names: tuple[str, ...]) -> dict[str, str]:
    """{name: sha256} of files in `directory`, made readable by all (a container's user reads them)."""
    found = {}
    for name in names:
        (directory / name).chmod(0o644)
        found[name] = sha256_file(directory / name)
    return found


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def read_meta(directory: str | Path) -> dict:
    """config.json of a checkpoint, or CheckpointError saying how to create it."""
    directory = Path(directory)
    path = directory / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(
            f"checkpoint {directory.name!r} is missing (no {CONFIG_FILE} in {directory.parent.name}/"
            f"{directory.name}); create it with "
            f"`{train_command(directory.name)}`"
        )
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:  # a JSON or UTF-8 error: neither message names the file
        raise CheckpointError(f"{_shown_file(directory, CONFIG_FILE)} is not valid JSON ({error}); re-create it "
                              f"with `{train_command(directory.name)}`") from None
    except OSError as error:  # e.g. no permission to read it; `strerror` alone, as the full text names the path
        raise CheckpointError(f"{_shown_file(directory, CONFIG_FILE)} is unreadable ({error.strerror}); "
                              f"restore it, or re-create it with `{train_command(directory.name)}`") from None
    _check_meta_shape(directory, meta)
    return meta


def weight_files(meta: dict) -> list[str]:
    """The safetensors files of weights config.json lists, in order."""
    return sorted(name for name in meta["files"] if name.endswith(WEIGHTS_SUFFIX) and name != COUNTS_FILE)


def _check_meta_shape(directory: Path, meta) -> None:
    """Refuses a config.json that parses but is not a checkpoint's (a garbled or foreign file), and one of
    the earlier HDF5 format, saying how to convert it."""
    expected = {"family": str, "model": dict, "files": dict}
    wrong = [key for key, kind in expected.items() if not isinstance(meta, dict) or not isinstance(meta.get(key), kind)]
    if not wrong and not weight_files(meta):
        if LEGACY_WEIGHTS_FILE in meta["files"]:
            raise CheckpointError(
                f"checkpoint {directory.name!r} holds its weights in the earlier HDF5 format ({LEGACY_WEIGHTS_FILE}); "
                f"convert them with `{convert_command(directory.name)}`")
        wrong = [f"files.{WEIGHTS_FILE}"]
    if wrong:
        raise CheckpointError(
            f"{_shown_file(directory, CONFIG_FILE)} is not a checkpoint description (bad or missing: "
            f"{', '.join(wrong)}); re-create it with `{train_command(directory.name)}`")


def verify(directory: str | Path, meta: dict, tokenizer: Tokenizer) -> None:
    """Refuses a checkpoint whose files are missing or altered, or whose tokenizer differs."""
    directory = Path(directory)
    # The registry's command, not the one recorded in config.json: that one may name the trainer's own
    # folders (`--out /home/…`), and messages reach the page.
    command = train_command(directory.name)
    for filename, expected in meta.get("files", {}).items():
        if Path(filename).name != filename:  # a damaged config.json must not make us hash /dev/zero or /etc/…
            raise CheckpointError(f"{_shown_file(directory, CONFIG_FILE)} lists a file outside its folder; "
                                  f"re-create it with `{command}`")
        path = directory / filename
        if not path.is_file():
            raise CheckpointError(f"checkpoint {directory.name!r} lacks {filename}; re-create it with `{command}`")
        if sha256_file(path) != expected:
            raise CheckpointError(
                f"checkpoint {directory.name!r} is corrupted: {filename} does not match its sha256 "
                f"in config.json; re-create it with `{command}`"
            )
    if meta.get("tokenizer_sha256") != tokenizer.sha256:
        raise CheckpointError(
            f"checkpoint {directory.name!r} was trained with another tokenizer than {tokenizer.shown_path} "
            f"(sha256 differs); re-train it with `{command}` or restore the matching tokenizer"
        )


def _model_config(directory: Path, meta: dict, family: str | None):
    """The model's dataclass from config.json, checked to be of `family` and to hold sizes a model can have."""
    if meta["family"] not in FAMILIES or family not in (None, meta["family"]):
        wanted = f"a {family} model" if family else f"one of the families {', '.join(FAMILIES)}"
        raise CheckpointError(f"checkpoint {directory.name!r} holds a {meta['family']!r} model, not {wanted}; "
                              f"re-create it with `{train_command(directory.name)}`")
    config_class = FAMILIES[meta["family"]].config_class
    try:
        model_config = config_module.from_dict(config_class, meta["model"])
        for setting in fields(model_config):  # the Keras layers checked these; the NumPy steps need them too
            kind, value = type(setting.default), getattr(model_config, setting.name)
            if kind in (int, float) and not _is_size(value, kind):
                raise ValueError(f"{setting.name} must be {'an integer' if kind is int else 'a number'} ≥ 0, "
                                 f"not {value!r}")
    except (TypeError, ValueError) as error:  # a setting of the wrong type or out of range
        raise CheckpointError(f"checkpoint {directory.name!r}: config.json describes no buildable model ({error}); "
                              f"re-create it with `{train_command(directory.name)}`") from None
    return model_config


def _is_size(value, kind: type) -> bool:
    """Whether `value` is a number ≥ 0 of `kind` (an int for int; an int or float for float)."""
    number = isinstance(value, int if kind is int else (int, float)) and not isinstance(value, bool)
    return number and value >= 0


def read_weights(directory: Path, meta: dict) -> dict[str, np.ndarray]:
    """Every weight of the checkpoint's safetensors files, by name (CheckpointError if a file is unreadable)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    weights = {}
    for filename in weight_files(meta):
        try:
            shard = load_file(directory / filename)
        except (SafetensorError, OSError, ValueError) as error:  # truncated or not safetensors at all
            reason = without_path(str(error), directory, 2).strip().splitlines()
            raise _unfit(directory.name, f"{filename}: {reason[0] if reason else type(error).__name__}") from None
        repeated = sorted(set(shard) & set(weights))
        if repeated:
            raise _unfit(directory.name, f"{repeated[0]} is in two files")
        weights.update(shard)
    return weights


def read_counts(directory: Path, checkpoint: "Checkpoint"):
    """The gap filler's `GapCounts` from the checkpoint's `COUNTS_FILE` (CheckpointError if it does not fit)."""
    from safetensors import SafetensorError

    from .models.gap_counts import GapCounts

    try:
        return GapCounts.load(directory / COUNTS_FILE, len(checkpoint.model_config.words))
    except (SafetensorError, OSError, ValueError) as error:
        reason = without_path(str(error), directory, 2).strip().splitlines()
        raise _unfit(directory.name, f"{COUNTS_FILE}: {reason[0] if reason else type(error).__name__}") from None


def load_checkpoint(directory: str | Path, tokenizer: Tokenizer, *, family: str | None = None) -> Checkpoint:
    """Verifies the checkpoint and reads its config and weights; imports no TensorFlow. Whether the weights
    fit the config is found by what is built from them: the NumPy step, or `Checkpoint.model` (Keras), each
    raising `unfit`'s CheckpointError.

    Args:
        directory: the checkpoint folder.
        tokenizer: the tokenizer the model must have been trained with.
        family: if given, the model family the checkpoint must hold (e.g. "seq2seq").
    """
    directory = Path(directory)
    meta = read_meta(directory)
    verify(directory, meta, tokenizer)
    model_config = _model_config(directory, meta, family)
    return Checkpoint(directory.name, directory, model_config, meta, read_weights(directory, meta))


def unfit(checkpoint: Checkpoint, error: Exception) -> CheckpointError:
    """The CheckpointError of weights that do not fit the checkpoint's config (`models.weights.WeightError`)."""
    return _unfit(checkpoint.name, error)


def convert_legacy(directory: str | Path, tokenizer: Tokenizer, *, command: str | None = None) -> dict:
    """Converts a checkpoint's Keras HDF5 weights (`LEGACY_WEIGHTS_FILE`) to safetensors, in place.

    The HDF5 file is verified against its sha256, read by Keras into the model rebuilt from config.json,
    written by name as safetensors, read back and compared, then removed; config.json records what was
    converted from what (`converted_from`: the file, its sha256, the command, the date).
    Args:
        directory: the checkpoint folder.
        tokenizer: the tokenizer the checkpoint was trained with.
        command: the command line to record (default: `convert_command(name)`).
    Returns:
        The new config.json contents.
    """
    directory = Path(directory)
    path = directory / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"checkpoint {directory.name!r} is missing (no {CONFIG_FILE})")
    meta = json.loads(path.read_text(encoding="utf-8"))
    if weight_files(meta) or LEGACY_WEIGHTS_FILE not in meta.get("files", {}):
        raise CheckpointError(f"checkpoint {directory.name!r} has no {LEGACY_WEIGHTS_FILE} to convert "
                              f"(its files: {', '.join(meta.get('files', {})) or 'none'})")
    verify(directory, meta, tokenizer)
    model_config = _model_config(directory, meta, None)
    model = FAMILIES[meta["family"]].build(model_config)
    model.load_weights(directory / LEGACY_WEIGHTS_FILE)
    weights = named_weights.named(model)
    source_sha256 = meta["files"][LEGACY_WEIGHTS_FILE]
    files = write_weights(directory, weights)
    written = read_weights(directory, {"files": files})
    for name, array in weights.items():  # exactly the same numbers, whichever way each is stored
        if not np.array_equal(np.asarray(written[name], np.float32), array):
            raise CheckpointError(f"checkpoint {directory.name!r}: {name} changed in conversion")
    (directory / LEGACY_WEIGHTS_FILE).unlink()
    meta["files"] = files
    meta["converted_from"] = {"file": LEGACY_WEIGHTS_FILE, "sha256": source_sha256,
                              "command": command or convert_command(directory.name), "date": _now(),
                              "stored": {name: str(array.dtype) for name, array in written.items()}}
    path.write_text(config_module.dumps(meta), encoding="utf-8")
    log.info("converted %s: %s", directory, ", ".join(files))
    return meta
