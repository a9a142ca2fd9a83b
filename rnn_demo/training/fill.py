"""The fill recipe: the gap filler (`models.gap_words`), trained from random weights on every word of
everyday, chat and play sentences, and on fact sentences with their answer blanked; then the counts of which
word stood between which neighbours in those sentences (`models.gap_counts`), mixed into the network's
probabilities by a weight chosen on the validation gaps."""
from __future__ import annotations

import collections
import logging
import time
from dataclasses import replace

import numpy as np

from .. import checkpoints, evaluation
from ..config import TrainingConfig
from ..data import fill_sentences
from ..data.encoding import UNKNOWN_WORD, span_gap, word_gaps, word_key
from ..models import registry
from ..serving.fill import CALIBRATION_KEY
from ..tokenizer import Tokenizer
from .callbacks import Probe, fit_record, standard_callbacks
from .recipe import Recipe
from .run import Run
from .seq2seq import PROBE_QUESTIONS, QUICK_METRIC_QUESTIONS, sample, spread

log = logging.getLogger(__name__)

FAMILY = "gap_words"
MODEL: dict = {}  # the `GapWordsConfig` defaults
# Every word of a sentence is a gap, so a batch of 128 sentences is about 1,500 gaps. Measured before the
# shipped run (2026-12-05, a first version of this model on the everyday sentences alone, 400 validation
# gaps): 12% / 22% top-1 / top-5 after 200 steps, 27% / 50% after 800, 30% / 52% after 1,000.
TRAINING = replace(TrainingConfig(), batch_size=128, learning_rate=3e-3, epochs=1000, patience=6, max_minutes=55.0,
                   steps_per_epoch=300, lr_schedule="cosine", round_matrices="float16")
QUICK_MODEL = dict(embedding_dim=16, units=16, hidden_units=16, dropout=0.0)
QUICK_TRAINING = dict(batch_size=16, epochs=2, steps_per_epoch=8, max_minutes=1.0, init_from="")
QUICK_SENTENCES = 100  # sentences (or fact gaps) of each source in a quick run
WORDS = 8_000  # the fillers it can write: every fact answer, then the most frequent words (97% of everyday words)
QUICK_WORDS = 300
# The plays are sampled; the everyday sentences typed by people are what visitors write.
MIX = {"facts": 1, "chat": 1, "plays": 1, "everyday": 1}
# A fact sentence is one gap where the others are ten, so each fact gap weighs 10 in the training loss. With
# the facts twice and unweighted (2.5% of the gaps), a first run was at 34.5% / 55% top-1 / top-5 on everyday
# gaps after 20 of its 45 minutes but had learnt no country's capital ("Paris is the capital of ___." → Laos;
# 0 of 40 held-out capital gaps), so it was stopped. The validation loss is not weighted.
WEIGHTS = {"facts": 10.0}
# Chosen on the validation gaps between two runs of this recipe: 15,000 play sentences and 48 minutes gave
# 34.3% / 58.2% top-1 / top-5 on everyday gaps and 12.5% / 26.0% on fact gaps; 8,000 and 55 minutes (the
# everyday sentences a larger share of each batch) 35.2% / 58.4% and 14.8% / 29.3%.
SAMPLED = {"plays": 8_000}
VALIDATION = {"facts": 500, "chat": 500, "plays": 500, "everyday": 2_000}  # sentences of the validation loss
CAPITAL_TEMPLATES = "capital/"  # the prefix of the fact templates about capitals
COUNTED = ("everyday", "chat", "plays")  # the counts' sentences: those written by people (facts are templates)
HELDOUT = ("validation plays, held-out chat conversations, held-out fact templates (listed in fill_sentences.py), "
           "held-out everyday conversations (everyday.split_of) and the fixed sets of data/heldout")


def source_items(source: str, split: str) -> list:
    """What one source gives: fact gaps (`FillExample`) for "facts", distinct sentences for the others."""
    from ..data import everyday

    if source == "facts":
        return list(fill_sentences.fact_examples(split))
    found = {"chat": fill_sentences.chat_sentences, "plays": fill_sentences.play_sentences,
             "everyday": everyday.sentences}[source](split)
    return list(dict.fromkeys(found))


def chosen_items(split: str, *, quick: bool, seed: int) -> dict[str, list]:
    """Each source's items of `split`: a seeded sample (training) or evenly spread (validation) within its limit."""
    limits = SAMPLED if split == "train" else VALIDATION
    found = {}
    for source in fill_sentences.SOURCES:
        limit = QUICK_SENTENCES if quick else limits.get(source)
        items = source_items(source, split)
        found[source] = sample(items, limit, seed) if split == "train" else spread(items, limit)
    return found


def choose_words(items: dict[str, list], size: int) -> tuple[str, ...]:
    """The fillers: the unknown word, every fact answer, then the most frequent other words of the sentences,
    each spelt as most often written."""
    spellings: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for source, found in items.items():
        if source != "facts":
            for sentence in found:
                for word in fill_sentences.WORD.findall(sentence):
                    spellings[word_key(word)][word] += 1
    answers = {word_key(example.answer): example.answer for example in items.get("facts", [])}
    frequent = sorted(spellings, key=lambda key: (-sum(spellings[key].values()), key))
    others = [spellings[key].most_common(1)[0][0] for key in frequent if key not in answers]
    return (UNKNOWN_WORD, *sorted(answers.values()), *others)[:max(size, len(answers) + 1)]


def encoded(tokenizer: Tokenizer, items: dict[str, list], words: tuple[str, ...], *, max_side_tokens: int,
            mix: dict | None) -> tuple[list, list]:
    """(ids, gaps) of every item (`encoding.word_gaps`, `span_gap`), each source repeated as `mix` says, and
    each row's weight in the loss (`WEIGHTS`). A sentence longer than the model reads on one side is left out:
    it would be read otherwise when served."""
    index = {word_key(word): i for i, word in enumerate(words)}
    rows, weights = [], []
    for source, found in items.items():
        if source == "facts":
            encoded_rows = [span_gap(tokenizer, example.left, example.answer, example.right, index)
                            for example in found]
        else:
            encoded_rows = [word_gaps(tokenizer, sentence, index) for sentence in found]
        encoded_rows = [(ids, gaps) for ids, gaps in encoded_rows if gaps and len(ids) <= max_side_tokens]
        rows += encoded_rows * (mix or {}).get(source, 1)
        weights += [WEIGHTS.get(source, 1.0)] * (len(rows) - len(weights))
    return rows, weights


def capital_gap_probe(tokenizer: Tokenizer, model_config, gaps: int = PROBE_QUESTIONS) -> Probe:
    """Top-1 accuracy on `gaps` held-out capital-fact gaps (the country or the capital missing)."""
    from ..models.numpy_gap import NumpyGapWords

    capitals = [example for example in fill_sentences.fact_examples("validation")
                if example.template.startswith(CAPITAL_TEMPLATES)]
    chosen = sample(capitals, gaps, seed=0)

    def measure(model) -> float:
        numpy_model = NumpyGapWords(model)
        return sum(_first(numpy_model, tokenizer, model_config, example) for example in chosen) / max(len(chosen), 1)
    return Probe("capital_gap_probe", measure)


def _first(numpy_model, tokenizer, model_config, example) -> bool:
    ranked = evaluation.rank_fillers(numpy_model, tokenizer, model_config, example.left, example.right, top_k=1)
    return [text.casefold() for text in ranked] == [example.answer.casefold()]


def metrics(numpy_model, tokenizer: Tokenizer, model_config, *, quick: bool) -> dict:
    """`evaluation.fill_metrics` of the trained model and its everyday figures (a few gaps of each in a quick run)."""
    found = evaluation.fill_metrics(numpy_model, tokenizer, model_config,
                                    per_source=QUICK_METRIC_QUESTIONS if quick else None)
    everyday = evaluation.everyday_metrics(filler=(numpy_model, model_config), tokenizer=tokenizer,
                                           limit=QUICK_METRIC_QUESTIONS if quick else None)["gaps"]
    found["everyday"] = everyday
    found[CALIBRATION_KEY] = everyday["calibration"]  # what the app turns the model's probabilities with
    return found


def sampled_softmax(rows, size: int, training: TrainingConfig):
    """The sampled softmax of `training.sampled_words` random words a batch (None for the full softmax), with
    each word's share of the gaps of `rows` for its chance to be a candidate."""
    from ..models.gap_words import SampledWords

    if not training.sampled_words:
        return None
    counts = np.bincount([word for _, gaps in rows for *_, word in gaps], minlength=size)
    gaps_per_batch = counts.sum() / max(len(rows), 1) * training.batch_size
    return SampledWords(counts, gaps_per_batch=gaps_per_batch, negatives=training.sampled_words, seed=training.seed)


def train_gap_words(model_config, training: TrainingConfig, run: Run) -> dict:
    """Trains the gap filler, measures it on held-out data, and saves the checkpoint of `run`.

    Args:
        model_config: its `GapWordsConfig`; the vocabulary size is the tokenizer's, the words are chosen here.
        training: the run's settings.
        run: the tokenizer, where the checkpoint goes, and how the run was asked for.
    Returns:
        The checkpoint's config.json contents.
    """
    import keras

    from ..data.datasets import gap_word_batches
    from ..models.gap_words import build_gap_words
    from .language_model import round_matrices

    if training.init_from:
        raise ValueError("the gap filler trains from random weights: --init-from does not apply")
    keras.utils.set_random_seed(training.seed)
    train_items = chosen_items("train", quick=run.quick, seed=training.seed)
    words = choose_words(train_items, QUICK_WORDS if run.quick else WORDS)
    model_config = replace(model_config, vocab_size=run.tokenizer.vocab_size, words=words)
    side = model_config.max_side_tokens
    train_rows, train_weights = encoded(run.tokenizer, train_items, words, max_side_tokens=side, mix=MIX)
    validation_rows, _ = encoded(run.tokenizer, chosen_items("validation", quick=run.quick, seed=training.seed),
                                 words, max_side_tokens=side, mix=None)
    train_ds = gap_word_batches(train_rows, batch_size=training.batch_size, shuffle=True, seed=training.seed,
                                weights=train_weights)
    validation_ds = gap_word_batches(validation_rows, batch_size=training.batch_size, shuffle=False)
    if training.steps_per_epoch:
        train_ds = train_ds.repeat()
    model = build_gap_words(model_config).sample_words(sampled_softmax(train_rows, len(words), training))
    model.compile(optimizer=keras.optimizers.Adam(training.learning_rate, clipnorm=training.clipnorm),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    probes = [] if run.quick else [capital_gap_probe(run.tokenizer, model_config)]
    time_limit, callbacks = standard_callbacks(training, quick=run.quick, run_dir=run.run_dir, extra=probes)
    started = time.monotonic()
    history = model.fit(train_ds, validation_data=validation_ds, epochs=training.epochs,
                        steps_per_epoch=training.steps_per_epoch, callbacks=callbacks, verbose=0 if run.quick else 2)
    record = fit_record(model, history, time_limit, started)
    rounded = round_matrices(model, training.round_matrices) if training.round_matrices else 0
    found = {"heldout_loss": float(model.evaluate(validation_ds, verbose=0)), **record, "rounded_weights": rounded,
             "train_sentences": len(train_rows), "validation_sentences": len(validation_rows),
             "train_gaps": sum(len(gaps) for _, gaps in train_rows),
             "validation_gaps": sum(len(gaps) for _, gaps in validation_rows),
             "history": {key: [round(float(value), 4) for value in values] for key, values in history.history.items()}}
    found.update(counted_metrics(model, run.tokenizer, train_items, run.directory, quick=run.quick))
    data = {"sources": {split: {source: len(source_items(source, split)) for source in fill_sentences.SOURCES}
                        for split in ("train", "validation")},
            "mix": MIX, "weights": WEIGHTS, "sampled": SAMPLED, "validation": VALIDATION, "quick": run.quick, "words": len(words),
            "heldout": HELDOUT}
    meta = run.save(model, family=FAMILY, training=training, metrics=found, data=data,
                    extra_files=(checkpoints.COUNTS_FILE,))
    log.info("%s: %s", run.name, {key: value for key, value in found.items() if isinstance(value, float)})
    return meta


def counted_sentences(train_items: dict[str, list]) -> list[str]:
    """The training sentences the counts are made of (`COUNTED`), in a fixed order."""
    return [sentence for source in COUNTED for sentence in train_items.get(source, [])]


def counted_metrics(model, tokenizer: Tokenizer, train_items: dict[str, list], directory, *, quick: bool) -> dict:
    """Counts the training sentences into `directory`'s `COUNTS_FILE`, chooses their weight on the validation
    gaps (`gap_counts.choose_weight`) and sets it in `model.config`; then measures the filler as served (the
    network with its counts) and the everyday test figures of the network alone. Returns those metrics, with
    what config.json records of the counts under "counts"."""
    from ..data import heldout
    from ..models.gap_counts import MIN_SEEN, ORDERS, GapCounts
    from ..models.numpy_gap import NumpyGapWords

    limit = QUICK_METRIC_QUESTIONS if quick else None

    started = time.monotonic()
    sentences = counted_sentences(train_items)
    counts = GapCounts.build(sentences, model.config.words)
    directory.mkdir(parents=True, exist_ok=True)
    counts.save(directory / checkpoints.COUNTS_FILE)
    network = NumpyGapWords(model)  # no counts: the network alone
    choice = evaluation.choose_counts_weight(network, counts, tokenizer, heldout.load("gaps", "validation")[:limit])
    model.config = replace(model.config, counts_weight=choice["weight"])
    record = {"sentences": len(sentences), "sources": list(COUNTED), "min_seen": MIN_SEEN,
              "contexts": {order: int(len(counts.tables[f"{order}/keys"])) for order in ORDERS},
              "file_bytes": (directory / checkpoints.COUNTS_FILE).stat().st_size, "chosen_on": "gaps_validation.json",
              **choice, "seconds": round(time.monotonic() - started, 1)}
    served = NumpyGapWords(model)
    served.counts = GapCounts.load(directory / checkpoints.COUNTS_FILE, len(model.config.words))  # as written
    alone = evaluation.everyday_metrics(filler=(network, network.config), tokenizer=tokenizer, limit=limit)["gaps"]
    return {"counts": record, **metrics(served, tokenizer, model.config, quick=quick),
            "everyday_network_alone": {key: alone[key] for key in ("gaps", "top1_accuracy", "top5_accuracy",
                                                                    "ece_model_probability")}}


def add_counts_to_checkpoint(directory, tokenizer: Tokenizer, command: str) -> dict:
    """`train blank --counts-only`: adds the counts to a trained gap filler without training its network again,
    and measures it anew. The training sentences are those its own run drew (its seed, its quick or full
    sampling); its words are its own. Returns the new config.json contents."""
    from .. import config as config_module
    from ..models import weights as named_weights
    from ..models.gap_words import build_gap_words

    meta = checkpoints.read_meta(directory)
    checkpoint = checkpoints.load_checkpoint(directory, tokenizer, family=FAMILY)
    model = build_gap_words(checkpoint.model_config)
    named_weights.assign(model, checkpoint.weights)
    quick = bool(meta.get("data", {}).get("quick"))
    seed = meta.get("training", {}).get("seed", TrainingConfig().seed)
    train_items = chosen_items("train", quick=quick, seed=seed)
    meta["metrics"] = {**meta.get("metrics", {}), **counted_metrics(model, tokenizer, train_items, directory,
                                                                     quick=quick)}
    meta["model"] = config_module.to_dict(model.config)
    meta["files"] = {**meta["files"], **checkpoints.listed_files(directory, (checkpoints.COUNTS_FILE,))}
    meta["counts_command"] = command
    (directory / checkpoints.CONFIG_FILE).write_text(config_module.dumps(meta), encoding="utf-8")
    return meta


def evaluate(engine, *, model: str, text=None) -> dict:
    """`evaluation.fill_metrics` of the served fill model, with the memory of the plays mixed in as the app does
    (`model` and `text` are the language models' options)."""
    from ..data.quotes import training_index

    loaded = engine.model(registry.FILL_MODEL)
    config = loaded.checkpoint.model_config
    found = evaluation.fill_metrics(loaded.numpy_model, engine.tokenizer, config, index=training_index())
    found["everyday"] = evaluation.everyday_metrics(filler=(loaded.numpy_model, config),
                                                    tokenizer=engine.tokenizer)["gaps"]
    return found


RECIPE = Recipe(family=FAMILY, training=TRAINING, train=train_gap_words, evaluate=evaluate,
                default_name=lambda model_config: registry.FILL_MODEL, model=MODEL,
                quick_model=QUICK_MODEL, quick_training=QUICK_TRAINING)
