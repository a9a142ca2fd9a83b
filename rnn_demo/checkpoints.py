"""The one checkpoint saver/loader: `assets/<name>/config.json` + `model.weights.h5`, hashed.

A model file is a program, so loading never unpickles or deserialises a model: the model is
rebuilt in code from config.json and only its weights are read. Messages name files from the assets
folder down (`assets/chatbot/config.json`): they reach the page and API callers, and the server's
absolute paths are not theirs to see.
"""
from __future__ import annotations

import datetime
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from . import config as config_module
from .models.registry import FAMILIES, train_command
from .tokenizer import Tokenizer, sha256_file

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.weights.h5"
CONFIG_FILE = "config.json"


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
    name: str
    model: object  # the rebuilt Keras model
    model_config: object  # its frozen dataclass
    meta: dict  # the whole config.json


def _without_optimizer(model, family: str, model_config):
    """A fresh, uncompiled copy of `model`: a compiled model's weights file also holds Adam's
    two slots per weight, tripling its size for nothing the demo uses."""
    fresh = FAMILIES[family].build(model_config)
    fresh.set_weights(model.get_weights())
    return fresh


def save_checkpoint(directory: str | Path, model, *, family: str, model_config, tokenizer: Tokenizer,
                    meta: dict) -> Path:
    """Writes the weights (no optimizer state) and config.json with every file's sha256.

    Args:
        directory: the checkpoint folder, e.g. `assets/shakespeare-gru`.
        model: a built Keras model of `family`.
        family: key of the model family, e.g. "language_model".
        model_config: the dataclass the model was built from.
        tokenizer: the tokenizer the model was trained with (its sha256 is recorded).
        meta: anything else to record (command, data, seed, metrics).
    Returns:
        The checkpoint folder.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / WEIGHTS_FILE
    _without_optimizer(model, family, model_config).save_weights(weights)
    record = dict(meta)
    record.update({
        "family": family,
        "model": config_module.to_dict(model_config),
        "tokenizer_sha256": tokenizer.sha256,
        "files": {WEIGHTS_FILE: sha256_file(weights)},
        "created": record.get("created") or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    })
    (directory / CONFIG_FILE).write_text(config_module.dumps(record), encoding="utf-8")
    log.info("saved checkpoint %s", directory)
    return directory


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


def _check_meta_shape(directory: Path, meta) -> None:
    """Refuses a config.json that parses but is not a checkpoint's (a garbled or foreign file)."""
    expected = {"family": str, "model": dict, "files": dict}
    wrong = [key for key, kind in expected.items() if not isinstance(meta, dict) or not isinstance(meta.get(key), kind)]
    if not wrong and WEIGHTS_FILE not in meta["files"]:
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


def load_checkpoint(directory: str | Path, tokenizer: Tokenizer, *, family: str | None = None) -> Checkpoint:
    """Verifies, rebuilds from config.json in code, and loads the weights.

    Args:
        directory: the checkpoint folder.
        tokenizer: the tokenizer the model must have been trained with.
        family: if given, the model family the checkpoint must hold (e.g. "seq2seq").
    """
    directory = Path(directory)
    meta = read_meta(directory)
    verify(directory, meta, tokenizer)
    if meta["family"] not in FAMILIES or family not in (None, meta["family"]):
        wanted = f"a {family} model" if family else f"one of the families {', '.join(FAMILIES)}"
        raise CheckpointError(f"checkpoint {directory.name!r} holds a {meta['family']!r} model, not {wanted}; "
                              f"re-create it with `{train_command(directory.name)}`")
    kind = FAMILIES[meta["family"]]
    try:
        model_config = config_module.from_dict(kind.config_class, meta["model"])
        model = kind.build(model_config)
    except (TypeError, ValueError) as error:  # a setting of the wrong type or out of range
        raise CheckpointError(f"checkpoint {directory.name!r}: config.json describes no buildable model ({error}); "
                              f"re-create it with `{train_command(directory.name)}`") from None
    try:
        model.load_weights(directory / WEIGHTS_FILE)
    except (ValueError, OSError) as error:  # a truncated HDF5 file, or layers of other shapes
        reason = without_path(str(error), directory, 2).strip()  # HDF5 may name the file in full
        first_line = reason.splitlines()[0] if reason else type(error).__name__
        raise CheckpointError(f"checkpoint {directory.name!r}: weights are unreadable or do not fit its config "
                              f"({first_line}); re-create it with `{train_command(directory.name)}`") from None
    return Checkpoint(directory.name, model, model_config, meta)
