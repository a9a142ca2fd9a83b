"""Everyday input (issue 13) at serving time: the other-language rule, the chatbot's confidence, fill calibration."""
import math
from types import SimpleNamespace

import numpy as np
import pytest

from rnn_demo.serving import chat
from rnn_demo.serving.fill import calibrated_probability
from rnn_demo.serving.requests import ChatRequest


@pytest.mark.parametrize("message", ["¿Qué es la inteligencia artificial?", "Bonjour, comment vas-tu ?",
                                     "Wie heißt du?", "你好，你叫什么名字？", "Привет, как дела?", "Hola",
                                     "Hoe gaat het met je?", "Come ti chiami?"])
def test_other_languages_are_recognised(message):
    assert chat.is_other_language(message)


@pytest.mark.parametrize("message", ["Who are you?", "What is the capital of Peru?", "And Bolivia?", "hi",
                                     "I love pizza", "Who wrote Don Quixote?", "Tell me a joke", "ok", "😀",
                                     "Do you like the rain?", "What is 3 plus 4?"])
def test_english_is_not_taken_for_another_language(message):
    assert not chat.is_other_language(message)


def test_a_message_in_another_language_gets_the_rule_s_reply_in_the_persona_s_voice():
    never_called = SimpleNamespace(numpy_model=None, checkpoint=SimpleNamespace(model_config=None, meta={}))
    for persona in ("modern", "shakespeare"):
        replies = list(chat.reply(never_called, None, ChatRequest(message="¿Cómo estás?", persona=persona),
                                  deadline_s=1.0))
        assert [r.text for r in replies] == [chat.LANGUAGE_REPLIES[persona]]
        assert "English" in replies[0].text and replies[0].done and replies[0].confidence is None


def test_unsure_threshold_is_read_from_the_checkpoint():
    assert chat.unsure_threshold({"metrics": {"unsure_threshold": -1.5}}) == -1.5
    assert chat.unsure_threshold({"metrics": {}}) is None and chat.unsure_threshold({}) is None


def test_calibrated_probability_is_monotone_and_a_probability():
    calibration = {"a": 0.6, "b": 0.4}
    values = [calibrated_probability(p, calibration) for p in (1e-40, 1e-6, 0.01, 0.3, 0.9, 1.0)]
    assert all(0.0 < v < 1.0 for v in values) and values == sorted(values)
    assert math.isclose(calibrated_probability(1.0, calibration), 1 / (1 + math.exp(-0.4)))


def test_a_calibration_that_keeps_the_models_own_probability_returns_it():
    assert calibrated_probability(0.37, {"method": "model", "a": 0.6, "b": 0.4}) == 0.37
    assert calibrated_probability(0.37, {"method": "platt", "a": 0.6, "b": 0.4}) != 0.37


def test_calibration_error_and_threshold_helpers():
    from rnn_demo.evaluation import choose_unsure_threshold, expected_calibration_error, fit_platt

    assert expected_calibration_error([0.9, 0.9, 0.1, 0.1], [1, 1, 0, 0]) == pytest.approx(0.1)
    assert expected_calibration_error([0.95] * 10, [1] * 5 + [0] * 5) == pytest.approx(0.45)
    threshold = choose_unsure_threshold([-3.0, -2.0, -1.0, -0.5, None], [False, False, True, True, True])
    assert -2.0 < threshold <= -1.0
    rng = np.random.default_rng(0)
    x = rng.uniform(-10, 0, 4_000)
    hits = rng.random(4_000) < 1 / (1 + np.exp(-(0.5 * x + 1)))
    fitted = fit_platt(x, hits)
    assert fitted["a"] == pytest.approx(0.5, abs=0.1) and fitted["b"] == pytest.approx(1.0, abs=0.25)
