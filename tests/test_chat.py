"""The chatbot: seq2seq parity, attention, history limits, beam n-best, bad input, command line."""
import json

import numpy as np
import pytest

from rnn_demo.__main__ import main
from rnn_demo.config import InputError
from rnn_demo.serving import ChatRequest, Engine


@pytest.fixture(scope="module")
def engine(quick_assets):
    return Engine(quick_assets)


def final(engine, **kwargs):
    *_, reply = engine.chat(ChatRequest(**{"message": "What is the capital of France?", **kwargs}))
    return reply


def test_numpy_decoder_matches_keras(engine):
    loaded = engine.model("chatbot")
    model, numpy_model = loaded.checkpoint.model, loaded.numpy_model
    source, target_in = np.array([[7, 400, 401, 5, 402]]), np.array([[2, 300, 301, 302]])
    memory, keys, mask, state = model.encode(source)
    logits, _, weights = model.decode(target_in, state, memory, keys, mask)
    decoder = numpy_model.decoder(numpy_model.encode(source[0]))
    fast_state = decoder.initial_state()
    for position, token in enumerate(target_in[0]):
        fast_logits, fast_state, fast_weights = decoder.with_attention(np.array([token]), fast_state)
        np.testing.assert_allclose(fast_logits[0], np.asarray(logits[0, position]), atol=1e-4)
        np.testing.assert_allclose(fast_weights[0], np.asarray(weights[0, position]), atol=1e-5)


@pytest.mark.parametrize("decoding", ["beam", "greedy", "sample"])
def test_attention_rows_sum_to_one_over_the_input(engine, decoding):
    reply = final(engine, decoding=decoding, seed=3)
    assert reply.done and reply.attention.shape == (len(reply.reply_pieces), len(reply.source_pieces))
    np.testing.assert_allclose(reply.attention.sum(axis=1), 1.0, atol=1e-5)


def test_history_is_cut_to_the_last_turns(engine):
    history = tuple(f"old turn number {i}" for i in range(10)) + ("Hello", "Hi")
    reply = final(engine, history=history, decoding="greedy")
    source = "".join(reply.source_pieces)
    assert reply.source_pieces[0] == "<modern>" and reply.source_pieces.count("<sep>") == 2
    assert "old" not in source and "France" in source


def test_gradio_messages_are_accepted_as_history(engine):
    history = ({"role": "user", "content": "Hello"}, {"role": "assistant", "content": [{"type": "text", "text": "Hi"}]})
    reply = final(engine, history=history, decoding="greedy")
    assert reply.source_pieces.count("<sep>") == 2


def test_beam_returns_the_n_best_best_first(engine):
    reply = final(engine, beam_width=3)
    scores = [log_p for _, log_p in reply.candidates]
    assert 1 <= len(reply.candidates) <= 3 and reply.candidates[0][0] == reply.text
    assert all(score <= 0 for score in scores)


def test_seeded_sampling_is_reproducible(engine):
    assert final(engine, decoding="sample", temperature=1.5, seed=4).text == \
        final(engine, decoding="sample", temperature=1.5, seed=4).text


@pytest.mark.parametrize("kwargs, message", [
    (dict(message=""), "empty"),
    (dict(message="x" * 1_000_000), "too long"),
    (dict(history=("hi",) * 10_000), "history is too long"),
    (dict(persona="pirate"), "unknown persona"),
    (dict(beam_width=0), "beam width must be between"),
    (dict(beam_width=10**6), "beam width must be between"),
    (dict(decoding="telepathy"), "unknown decoding"),
    (dict(history=(42,)), "history entry"),
])
def test_bad_chat_input_is_refused(engine, kwargs, message):
    with pytest.raises(InputError, match=message):
        final(engine, **kwargs)


def test_chat_command_answers_each_line(quick_assets, tmp_path, capsys):
    questions = tmp_path / "questions.txt"
    questions.write_text("Hello\nWhat is the capital of Peru?\n")
    assert main(["chat", "--input-file", str(questions), "--assets", str(quick_assets), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and all(isinstance(json.loads(line)["reply"], str) for line in lines)
    assert main(["chat", "hi", "--persona", "pirate", "--assets", str(quick_assets)]) == 2


def test_the_quick_chatbot_records_its_held_out_measures(quick_assets):
    metrics = json.loads((quick_assets / "chatbot" / "config.json").read_text())["metrics"]
    for key in ("heldout_capital_accuracy", "heldout_lowercase_capital_accuracy", "distinct_reply_ratio"):
        assert 0.0 <= metrics[key] <= 1.0
    assert set(metrics["heldout_smalltalk_right_kind"]) == {"modern", "shakespeare"}
    assert metrics["heldout_smalltalk_messages"] == 8  # a quick run asks 8 of each kind of question
    assert set(metrics["greetings"]) == set(metrics["greetings_shakespeare"]) == {
        "Hello", "Hi, how are you?", "Good morning!", "Hey there"}
