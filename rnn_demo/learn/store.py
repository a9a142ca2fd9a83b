"""The Learn models as the page serves them: config and weights by name, read on first use, no TensorFlow.

Checkpoints are written and verified by `rnn_demo.checkpoints`, like every model's; the weights are read
here by name into the NumPy twins (learn/numpy_models.py).
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import numpy as np

from .. import checkpoints
from ..config import from_dict
from ..models.registry import FAMILIES
from . import numpy_models

log = logging.getLogger(__name__)

DATA_FOLDER = "learn"  # assets/learn/: the studies' JSON files
COPY_FILE = "copy_task.json"
CHOICES_FILE = "training_choices.json"
ROLES_FILE = "unit_roles.json"
MADE_BY = {COPY_FILE: "copy", CHOICES_FILE: "choices", ROLES_FILE: "roles"}  # the `train learn --part` that writes each
TWINS = {"caption": numpy_models.NumpyCaptioner, "genre": numpy_models.NumpyGenreClassifier,
         "copy": numpy_models.NumpyCopyNet}


def weights_by_name(directory: Path, meta: dict, tokenizer) -> dict[str, np.ndarray]:
    """A verified checkpoint's weights by name: from its safetensors files, or (older .h5 checkpoints) through
    the checkpoint loader's Keras model."""
    tensors = [name for name in meta["files"] if name.endswith(".safetensors")]
    if tensors:
        from safetensors.numpy import load_file

        weights = {}
        for name in tensors:
            weights.update(load_file(directory / name))
        return weights
    from ..models.weights import named  # an .h5 file is read by Keras (imports TensorFlow)

    return named(checkpoints.load_checkpoint(directory, tokenizer, family=meta["family"]).model)


def load_twin(directory: Path, tokenizer):
    """(NumPy model, config.json) of a Learn checkpoint, verified (CheckpointError saying how to re-create it)."""
    meta = checkpoints.read_meta(directory)
    checkpoints.verify(directory, meta, tokenizer)
    family = meta["family"]
    if family not in TWINS:
        raise checkpoints.CheckpointError(f"checkpoint {directory.name!r} holds a {family!r} model, not a Learn model")
    config = from_dict(FAMILIES[family].config_class, meta["model"])
    try:
        return TWINS[family](config, weights_by_name(directory, meta, tokenizer)), meta
    except ValueError as error:  # WeightError: weights of other shapes than config.json says
        raise checkpoints.CheckpointError(f"checkpoint {directory.name!r}: weights do not fit its config ({error}); "
                                          f"re-create it with `{checkpoints.train_command(directory.name)}`") from None


class LearnModels:
    """The Learn tab's models and data files, each read once on first use (thread-safe)."""

    def __init__(self, engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._models: dict[str, tuple[object, dict]] = {}
        self._computed: dict[str, object] = {}

    def model(self, name: str) -> tuple[object, dict]:
        """(NumPy model, config.json) of the Learn checkpoint `name` under the engine's assets."""
        with self._lock:
            if name not in self._models:
                self._models[name] = load_twin(self.engine.assets / name, self.engine.tokenizer)
                log.info("loaded %s", name)
            return self._models[name]

    def data(self, filename: str) -> dict:
        """A study's JSON file under assets/learn/ (FileNotFoundError naming the command that makes it)."""
        path = self.engine.assets / DATA_FOLDER / filename
        if not path.is_file():
            raise FileNotFoundError(f"assets/{DATA_FOLDER}/{filename} is missing; create it with "
                                    f"`python -m rnn_demo train learn --part {MADE_BY[filename]}`")
        return json.loads(path.read_text(encoding="utf-8"))

    def computed(self, key: str, compute):
        """`compute()`'s value, computed once (the hidden units' roles, the embedding map)."""
        with self._lock:
            if key not in self._computed:
                self._computed[key] = compute()
            return self._computed[key]
