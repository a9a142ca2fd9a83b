"""Weights by name: a model's arrays keyed by their Keras weight paths, as checkpoints store them.

A name is the Keras variable path below the model's own name, e.g. `rnn_0/gru_cell/kernel` or
`encoder/backward_gru/gru_cell/bias`. The NumPy steps read these names straight from a checkpoint,
so serving needs no Keras; the Keras reference model takes them back with `assign`.
This module imports no TensorFlow: the functions that touch a Keras model are given one.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np


class WeightError(ValueError):
    """The weights do not fit the model: a name is missing or unexpected, or an array has another shape."""


def _name(model, variable) -> str:
    """`variable`'s path below `model`'s own name."""
    prefix = f"{model.name}/"
    return variable.path[len(prefix):] if variable.path.startswith(prefix) else variable.path


def named(model) -> dict[str, np.ndarray]:
    """A built Keras model's weights (no optimizer state) as {name: float32 array}."""
    arrays = {}
    for variable in model.weights:
        name = _name(model, variable)
        if name in arrays:  # two layers given the same name: the checkpoint could not tell them apart
            raise WeightError(f"two weights are both called {name!r}")
        arrays[name] = np.asarray(variable, dtype=np.float32)
    return arrays


def assign(model, weights: Mapping[str, np.ndarray]) -> None:
    """Sets every weight of a built Keras model from `weights`, by name (WeightError if they do not fit)."""
    variables = {_name(model, variable): variable for variable in model.weights}
    missing, unexpected = sorted(set(variables) - set(weights)), sorted(set(weights) - set(variables))
    if missing or unexpected:
        raise WeightError(f"{_listed('missing', missing)}{'; ' if missing and unexpected else ''}"
                          f"{_listed('unexpected', unexpected)}")
    for name, variable in variables.items():
        variable.assign(take(weights, name, tuple(variable.shape)))


def take(weights: Mapping[str, np.ndarray], name: str, shape: tuple[int, ...]) -> np.ndarray:
    """The weight `name` as float32, checked to have `shape` (WeightError if it is missing or another shape)."""
    if name not in weights:
        raise WeightError(f"missing {name}")
    array = np.asarray(weights[name], dtype=np.float32)
    if array.shape != tuple(shape):
        raise WeightError(f"{name} has shape {array.shape}, the config needs {tuple(shape)}")
    return array


def _listed(what: str, names: list[str]) -> str:
    if not names:
        return ""
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"{what} {shown}"
