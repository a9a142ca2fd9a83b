"""A training recipe: how the `train` and `evaluate` commands make and measure the models of one target.

Each registry `recipe` names a module of this package exposing `RECIPE`, found through the
registry (`recipe_for`), so that the command line holds no list of models.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

from ..config import TrainingConfig
from ..models import registry
from .run import Run


@dataclass(frozen=True)
class Recipe:
    """What the command line needs to train and evaluate one `train` target.

    Attributes:
        family: the registry family of the models it makes (their config class is the family's).
        training: the training defaults, before the flags.
        train: (model config, training config, run) -> the saved checkpoint's config.json.
        evaluate: (engine, model name, `--text` file or None) -> held-out metrics of a served model.
        default_name: the checkpoint name of a model config when `--name` does not give one.
        model: model-config values that differ from the config class's defaults, before the flags.
        quick_model: the model-config values of `--quick`, set after the flags.
        quick_training: the training values of `--quick`, set after the flags.
    """

    family: str
    training: TrainingConfig
    train: Callable[[object, TrainingConfig, Run], dict]
    evaluate: Callable[..., dict]
    default_name: Callable[[object], str]
    model: Mapping = field(default_factory=dict)
    quick_model: Mapping = field(default_factory=dict)
    quick_training: Mapping = field(default_factory=dict)

    @property
    def config_class(self) -> type:
        """The dataclass of its models' configs."""
        return registry.FAMILIES[self.family].config_class

    def model_defaults(self):
        """The model config before the flags: the class defaults with this recipe's values."""
        return replace(self.config_class(), **self.model)

    def quick(self, model_config, training: TrainingConfig):
        """(model config, training config) of a `--quick` run: the tiny model and the short run."""
        return replace(model_config, **self.quick_model), replace(training, **self.quick_training)


def recipe_for(target: str) -> Recipe:
    """The recipe of a `train` target, from the module the registry names for it."""
    return importlib.import_module(f"{__package__}.{registry.recipe_of(target)}").RECIPE

