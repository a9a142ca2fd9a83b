"""The gap filler's counts (`models.gap_counts`): what they give a gap, how they are stored and checked, how
their weight is chosen, and how a checkpoint carries them into serving (`train blank --counts-only`)."""
import json
import shutil

import numpy as np
import pytest

from rnn_demo import checkpoints
from rnn_demo.models import gap_counts
from rnn_demo.models.gap_counts import GapCounts, choose_weight, neighbours

WORDS = ("<unk>", "x", "y", "z", "a", "b", "c")
SENTENCES = ["a x b", "a y b", "a x b", "c z", "c x a"]


@pytest.fixture()
def counts() -> GapCounts:
    return GapCounts.build(SENTENCES, WORDS)


def index(word: str) -> int:
    return WORDS.index(word)


def test_neighbours_are_two_words_each_side_with_the_sentence_edges():
    assert neighbours("a ", " b!") == (gap_counts.START, "a", "b", gap_counts.END)
    assert neighbours("I said A", "B, and then") == ("said", "a", "b", "and")


def test_probabilities_are_a_distribution_led_by_the_words_seen_in_the_context(counts):
    found = counts.probabilities("a ", " b")
    assert found.shape == (len(WORDS),) and abs(found.sum() - 1) < 1e-12 and (found > 0).all()
    assert np.argmax(found) == index("x") and found[index("x")] > found[index("y")] > found[index("z")]
    unseen = counts.probabilities("never ", " seen")  # only the fillers' own frequencies are left
    assert np.allclose(unseen, counts.unigram)


def test_each_level_keeps_witten_bells_share_of_its_counts(counts):
    """Between "a" and "b" x stood twice and y once (n = 3, t = 2): that context keeps 3/5 of its own counts and
    leaves 2/5 to the level below it; the wide context (sentence start, a, b, sentence end) holds the same counts."""
    sides = 0.5 * (counts._smoothed("left", ("a",), counts.unigram) + counts._smoothed("right", ("b",), counts.unigram))
    own = np.zeros(len(WORDS))
    own[index("x")], own[index("y")] = 2 / 3, 1 / 3
    pair = 3 / 5 * own + 2 / 5 * sides
    assert np.allclose(counts.probabilities("a ", " b"), 3 / 5 * own + 2 / 5 * pair)
    # "c z" was seen once: its wide context (seen fewer than MIN_SEEN["wide"] times) is not kept, its pair is
    z = counts.probabilities("c ", "")
    sides = 0.5 * (counts._smoothed("left", ("c",), counts.unigram)
                   + counts._smoothed("right", (gap_counts.END,), counts.unigram))
    own = np.zeros(len(WORDS))
    own[index("z")] = 1
    assert np.allclose(z, 1 / 2 * own + 1 / 2 * sides)


def test_unknown_words_are_not_counted_and_the_unigram_has_every_filler():
    counts = GapCounts.build(["a q b", "a x b"], WORDS)  # "q" is not a filler
    assert counts.tables["unigram/counts"][index("x")] == 1 and counts.tables["unigram/counts"][0] == 0
    assert counts.tables["unigram/counts"].sum() == 5  # a, x, b, a, b


def test_contexts_that_share_a_hash_have_their_counts_summed(monkeypatch):
    monkeypatch.setattr(gap_counts, "_key", lambda order, words: 7)
    counts = GapCounts.build(SENTENCES, WORDS)
    assert len(counts.tables["pair/keys"]) == 1
    assert int(counts.tables["pair/counts"].sum()) == counts.tables["unigram/counts"].sum()
    assert abs(counts.probabilities("a ", " b").sum() - 1) < 1e-12


def test_the_tables_are_saved_and_read_back_with_numpy_alone(counts, tmp_path):
    counts.save(tmp_path / "counts.safetensors")
    again = GapCounts.load(tmp_path / "counts.safetensors", len(WORDS))
    assert again.tables.keys() == counts.tables.keys()
    assert all(np.array_equal(again.tables[name], counts.tables[name]) for name in counts.tables)
    assert again.tables["pair/keys"].dtype == np.uint32 and again.tables["pair/counts"].dtype == np.uint16
    assert np.array_equal(again.probabilities("c ", " a"), counts.probabilities("c ", " a"))


def test_a_counts_file_that_does_not_fit_is_refused(counts, tmp_path):
    from safetensors.numpy import save_file

    counts.save(tmp_path / "counts.safetensors")
    with pytest.raises(ValueError, match="has shape"):
        GapCounts.load(tmp_path / "counts.safetensors", len(WORDS) + 1)  # another filler's words
    broken = dict(counts.tables)
    broken["pair/words"] = np.full_like(broken["pair/words"], len(WORDS))  # a word the filler does not have
    save_file(broken, str(tmp_path / "broken.safetensors"))
    with pytest.raises(ValueError, match="pair tables do not fit"):
        GapCounts.load(tmp_path / "broken.safetensors", len(WORDS))
    del broken["wide/keys"]
    save_file(broken, str(tmp_path / "missing.safetensors"))
    with pytest.raises(ValueError, match="not the tables"):
        GapCounts.load(tmp_path / "missing.safetensors", len(WORDS))


def test_the_weight_is_the_one_under_which_the_answers_are_likeliest():
    network = np.array([0.0, 0.1, 0.9])
    helpful, useless = np.array([0.0, 0.9, 0.1]), np.array([0.0, 0.0, 1.0])
    assert choose_weight([(network, useless, 1)])["weight"] == 0.0
    assert choose_weight([(network, helpful, 1)])["weight"] == max(gap_counts.WEIGHTS_GRID)
    # half the gaps helped, half not: an interior optimum (0.1 · 0.9 … mixed), found on the grid
    mixed = choose_weight([(network, helpful, 1), (network, useless, 1), (network, helpful, 2), (network, useless, 2)])
    scores = {float(w): s for w, s in mixed["log_likelihood"].items()}
    assert 0 < mixed["weight"] < max(gap_counts.WEIGHTS_GRID) and scores[mixed["weight"]] == max(scores.values())
    assert mixed["gaps"] == 4


def test_the_served_filler_mixes_its_counts_by_the_weight_of_its_config(quick_assets):
    from rnn_demo.serving import Engine

    loaded = Engine(quick_assets).model("blank")
    model, config = loaded.numpy_model, loaded.checkpoint.model_config
    assert model.counts is not None and 0 < config.counts_weight <= max(gap_counts.WEIGHTS_GRID)
    left_ids, right_ids = [5, 6], [7]
    network = model.probabilities(left_ids, right_ids)
    served = model.mixed_probabilities(left_ids, right_ids, "How are ", "?")
    expected = (1 - config.counts_weight) * network + config.counts_weight * model.counts.probabilities("How are ", "?")
    assert np.allclose(served, expected) and not np.allclose(served, network)
    counts, model.counts = model.counts, None
    try:
        assert np.array_equal(model.mixed_probabilities(left_ids, right_ids, "How are ", "?"), network)
    finally:
        model.counts = counts


def test_the_counts_file_is_listed_and_verified_but_not_read_as_weights(quick_assets, tmp_path):
    from rnn_demo.tokenizer import Tokenizer

    directory = tmp_path / "blank"
    shutil.copytree(quick_assets / "blank", directory)
    meta = checkpoints.read_meta(directory)
    assert checkpoints.COUNTS_FILE in meta["files"]
    assert checkpoints.weight_files(meta) == [checkpoints.WEIGHTS_FILE]
    tokenizer = Tokenizer(quick_assets / "tokenizer.model")
    with (directory / checkpoints.COUNTS_FILE).open("r+b") as file:  # one byte changed
        file.seek(-1, 2)
        last = file.read(1)
        file.seek(-1, 2)
        file.write(bytes([last[0] ^ 1]))
    with pytest.raises(checkpoints.CheckpointError, match="counts.safetensors"):
        checkpoints.load_checkpoint(directory, tokenizer, family="gap_words")


def test_counts_only_adds_the_counts_to_a_trained_filler_and_measures_it_again(quick_assets, tmp_path):
    from rnn_demo.__main__ import main

    out = tmp_path / "assets"
    out.mkdir()
    shutil.copy(quick_assets / "tokenizer.model", out / "tokenizer.model")
    shutil.copytree(quick_assets / "blank", out / "blank")
    meta = json.loads((out / "blank" / "config.json").read_text())
    (out / "blank" / checkpoints.COUNTS_FILE).unlink()  # as a filler trained before the counts
    del meta["files"][checkpoints.COUNTS_FILE]
    meta["model"]["counts_weight"] = 0.0
    del meta["metrics"]["counts"]
    (out / "blank" / "config.json").write_text(json.dumps(meta))
    assert main(["train", "blank", "--counts-only", "--out", str(out)]) == 0
    again = json.loads((out / "blank" / "config.json").read_text())
    assert checkpoints.COUNTS_FILE in again["files"] and again["files"]["model.safetensors"] == meta["files"]["model.safetensors"]
    assert again["model"]["counts_weight"] == again["metrics"]["counts"]["weight"]
    assert "--counts-only" in again["counts_command"] and again["command"] == meta["command"]
    assert {"top1_accuracy", "top5_accuracy"} <= set(again["metrics"]["everyday_network_alone"])


def test_counts_only_is_refused_outside_the_gap_filler(tmp_path, capsys):
    from rnn_demo.__main__ import main

    assert main(["train", "chatbot", "--counts-only", "--out", str(tmp_path)]) == 2
    assert "--counts-only applies to the gap filler" in capsys.readouterr().err
