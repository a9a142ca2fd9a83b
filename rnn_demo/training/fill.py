"""The fill recipe: the seq2seq model that writes the missing span of a sentence, started from the chatbot."""
from __future__ import annotations

from dataclasses import replace
from functools import partial

from .. import evaluation
from ..config import TrainingConfig
from ..data import fill_sentences
from ..data.encoding import fill_example
from ..models import registry
from ..serving.fill import CALIBRATION_KEY
from ..tokenizer import Tokenizer
from . import seq2seq
from .callbacks import Probe
from .recipe import Recipe
from .seq2seq import PROBE_QUESTIONS, QUICK_METRIC_QUESTIONS, Seq2SeqPairs, Seq2SeqTask

MODEL = dict(max_target_tokens=12)
# The gap filler starts from the shipped chatbot's weights (same layer sizes): 20 minutes on 2 cores, the
# learning rate annealed over them. From random weights it learns too few facts in time (issue 13): with
# the default embeddings the loss sat at 5.5 nats for 1,200 steps and no held-out capital gap was right;
# with embeddings drawn from N(0, 1) (`models.seq2seq.EMBEDDING_INIT_STDDEV`), 25 minutes, everyday ×1
# from 150,000 sentences, it did as well on everyday gaps (13.2% / 30.0% top-1 / top-5 against 12.0% /
# 28.5%) and far worse on facts (6.0% / 17.0% against 21.0% / 38.5%). So reproducing it from nothing
# takes the chatbot's command first (README "Everyday input").
TRAINING = replace(TrainingConfig(), batch_size=64, learning_rate=5e-3, epochs=1000, patience=8,
                   max_minutes=20.0, steps_per_epoch=300, lr_schedule="cosine", init_from="assets/chatbot")
# Facts must be memorised (246 countries, both directions: "___ is the capital of France",
# "Paris is the capital of ___"), so they are repeated and play gaps are sampled: with all 97k
# play gaps the loss sat at 5.4 nats and no held-out capital gap was right after 1,200 steps.
# Everyday sentences typed by people (the everyday gaps of issue 13) are sampled and repeated.
MIX = {"facts": 3, "chat": 2, "plays": 1, "everyday": 2}
SAMPLED = {"plays": 10_000, "everyday": 60_000}
VALIDATION_PER_SOURCE = {"facts": 500, "chat": 500, "plays": 500, "everyday": 1_000}  # gaps for the validation loss
CAPITAL_TEMPLATES = "capital/"  # the prefix of the fact templates about capitals
PROBE_BEAM = 2
HELDOUT = ("validation plays, held-out chat conversations, held-out fact templates (listed in fill_sentences.py), "
           "held-out everyday conversations (everyday.split_of) and the fixed sets of data/heldout")


def fill_pairs(tokenizer: Tokenizer, config, split: str, *, mix: dict | None, quick: bool,
               limits: dict | None = None, seed: int = 0) -> list:
    """(source ids, target ids) of the gap sentences of `split`.

    Args:
        tokenizer: the shared tokenizer.
        config: the model's `Seq2SeqConfig` (how much it reads and writes).
        split: "train" or "validation".
        mix: copies of each source (`fill_sentences.SOURCES`); None = one of each.
        quick: a few gaps of each source.
        limits: at most this many gaps of a source (a seeded random sample for training, evenly
            spread for validation); None = all.
        seed: the training sample's seed.
    Returns:
        The pairs, source after source.
    """
    def encode(source: str, found: list) -> list:
        return [fill_example(tokenizer, example.left, example.right, example.answer,
                             max_source_tokens=config.max_source_tokens, max_target_tokens=config.max_target_tokens)
                for example in found]

    return seq2seq.mixed_pairs(fill_sentences.SOURCES, fill_sentences.examples_of, encode, split, mix=mix,
                               quick=quick, limits=limits, seed=seed)


def pairs(tokenizer: Tokenizer, model_config, training: TrainingConfig, *, quick: bool) -> Seq2SeqPairs:
    """The training mix, and validation gaps per source (also those of the reported held-out loss)."""
    train = fill_pairs(tokenizer, model_config, "train", mix=MIX, quick=quick, limits=SAMPLED, seed=training.seed)
    validation = fill_pairs(tokenizer, model_config, "validation", mix=None, quick=quick,
                            limits=VALIDATION_PER_SOURCE)
    return Seq2SeqPairs(train, validation)


def capital_gap_probe(tokenizer: Tokenizer, model_config, gaps: int = PROBE_QUESTIONS) -> Probe:
    """Top-1 accuracy on `gaps` held-out capital-fact gaps (the country or the capital missing)."""
    capitals = [example for example in fill_sentences.fact_examples("validation")
                if example.template.startswith(CAPITAL_TEMPLATES)]
    chosen = seq2seq.sample(capitals, gaps, seed=0)

    def measure(numpy_model) -> float:
        return sum(evaluation.rank_fillers(numpy_model, tokenizer, model_config, example.left, example.right, top_k=1,
                                           beam_width=PROBE_BEAM)[:1] == [example.answer]
                   for example in chosen) / max(len(chosen), 1)
    return seq2seq.numpy_probe("capital_gap_probe", measure)


def metrics(numpy_model, tokenizer: Tokenizer, model_config, *, quick: bool) -> dict:
    """`evaluation.fill_metrics` of the trained model (a few gaps of each source in a quick run)."""
    found = evaluation.fill_metrics(numpy_model, tokenizer, model_config,
                                    per_source=QUICK_METRIC_QUESTIONS if quick else None)
    everyday = evaluation.everyday_metrics(filler=(numpy_model, model_config), tokenizer=tokenizer,
                                           limit=QUICK_METRIC_QUESTIONS if quick else None)["gaps"]
    found["everyday"] = everyday
    found[CALIBRATION_KEY] = everyday["calibration"]  # what the app turns the model's probabilities with
    return found


def data(quick: bool) -> dict:
    """config.json's record of the training data."""
    return {"sources": dict(fill_sentences.summary()), "mix": MIX, "quick": quick, "sampled": SAMPLED,
            "validation_per_source": VALIDATION_PER_SOURCE, "heldout": HELDOUT}


def evaluate(engine, *, model: str, text=None) -> dict:
    """`evaluation.fill_metrics` of the served fill model, with the memory of the plays mixed in as the app does
    (`model` and `text` are the language models' options)."""
    from ..data.quotes import training_index

    loaded = engine.model(registry.FILL_MODEL)
    found = evaluation.fill_metrics(loaded.numpy_model, engine.tokenizer, loaded.checkpoint.model_config,
                                    index=training_index())
    found["everyday"] = evaluation.everyday_metrics(filler=(loaded.numpy_model, loaded.checkpoint.model_config),
                                                    tokenizer=engine.tokenizer)["gaps"]
    return found


TASK = Seq2SeqTask(pairs=pairs, probe=capital_gap_probe, metrics=metrics, data=data)
RECIPE = Recipe(family=seq2seq.FAMILY, training=TRAINING, train=partial(seq2seq.train_seq2seq, TASK),
                evaluate=evaluate, default_name=lambda model_config: registry.FILL_MODEL, model=MODEL,
                quick_model=seq2seq.QUICK_MODEL, quick_training=seq2seq.QUICK_TRAINING)
