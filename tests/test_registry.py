"""The model registry: the one list of models, consistent with the shipped checkpoints and the code that reads it."""
import importlib
import json
import shlex
from pathlib import Path

import pytest

from rnn_demo.models import registry

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def test_names_are_unique_and_every_family_is_known():
    names = [spec.name for spec in registry.MODELS]
    assert len(names) == len(set(names))
    assert all(spec.family in registry.FAMILIES for spec in registry.MODELS)
    assert registry.DEFAULT_LANGUAGE_MODEL in registry.names(family="language_model")
    assert registry.spec(registry.CHAT_MODEL).family == "seq2seq"
    assert registry.spec(registry.FILL_MODEL).family == "gap_words"


def test_an_unknown_name_is_refused_with_the_known_ones():
    with pytest.raises(KeyError, match="unknown model 'gpt'; the models are shakespeare-gru, shakespeare-lstm"):
        registry.spec("gpt")


def test_lookups_filter_in_registry_order():
    assert registry.names(tab="shakespeare") == ("shakespeare-gru", "shakespeare-lstm")
    assert registry.names(target="shakespeare", family="seq2seq") == ()
    assert registry.targets() == ("shakespeare", "chatbot", "blank", "learn")
    assert registry.recipe_of("blank") == "fill"


@pytest.mark.parametrize("spec", registry.MODELS, ids=lambda spec: spec.name)
def test_each_shipped_checkpoint_is_the_family_and_command_its_entry_says(spec):
    meta = json.loads((ASSETS / spec.name / "config.json").read_text(encoding="utf-8"))
    assert meta["family"] == spec.family
    recorded = shlex.split(meta["command"])
    assert recorded[:4] == shlex.split(spec.train_command)[:4]  # python -m rnn_demo train <target>
    assert all(flag in recorded for flag in spec.flags)


@pytest.mark.parametrize("spec", registry.MODELS, ids=lambda spec: spec.name)
def test_each_entry_names_a_recipe_the_command_line_can_run(spec):
    from rnn_demo.__main__ import _build_parser

    args = _build_parser().parse_args(shlex.split(spec.train_command)[3:])
    assert args.what == spec.target
    recipe = importlib.import_module(f"rnn_demo.training.{spec.recipe}")
    assert hasattr(recipe, "RECIPE")


def test_family_builders_make_the_model_of_a_config():
    family = registry.FAMILIES["language_model"]
    model = family.build(family.config_class(vocab_size=50, embedding_dim=8, units=8, num_layers=1))
    assert model.count_params() > 0


def test_a_new_model_is_one_registry_entry(assets_copy, monkeypatch):
    """A model the registry lists is trained by the command line, loaded and served by the engine,
    and generated from by the command line, with no other list to edit."""
    from rnn_demo.__main__ import main
    from rnn_demo.serving import Engine, GenerationRequest

    tiny = registry.ModelSpec("shakespeare-tiny", "language_model", "Tiny GRU", "shakespeare", "shakespeare",
                              "shakespeare", ("--cell", "gru", "--name", "shakespeare-tiny"))
    monkeypatch.setattr(registry, "MODELS", (*registry.MODELS, tiny))
    monkeypatch.setattr(registry, "_BY_NAME", {**registry._BY_NAME, tiny.name: tiny})
    assert main(["train", "shakespeare", "--quick", *tiny.flags, "--out", str(assets_copy)]) == 0

    engine = Engine(assets_copy)
    assert engine.load_all()[tiny.name] == "ready"
    result = engine.generate(GenerationRequest("ROMEO:\n", model=tiny.name, max_tokens=5, temperature=0))
    assert result.tokens == 5
    assert main(["generate", "--prompt", "ROMEO:", "--model", tiny.name, "--max-tokens", "3",
                 "--assets", str(assets_copy)]) == 0
