"""The glass box's serving functions (serving/inspection.py) and their endpoints: probabilities of the chosen
pieces and their alternatives, the surprise of a text beside the trigram baseline, the decoding lab."""
import math

import numpy as np
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from rnn_demo import decoding, evaluation
from rnn_demo.config import InputError
from rnn_demo.sampling import softmax
from rnn_demo.serving import Engine, GenerationRequest, inspection
from rnn_demo.serving.inspection import CharTrigram, LabRequest, SurpriseRequest
from rnn_demo.tokenizer import BOS_ID
from rnn_demo.ui import glass

PROMPT = "ROMEO:\n"
# Word pieces, a newline, and characters the vocabulary lacks (byte pieces: 3 for each Chinese one, 4 for the emoji).
MIXED_TEXT = "HAMLET:\nTo be, or not to be, that is the question.\n你好 😀"
LAB = dict(prompt=PROMPT, model="shakespeare-gru", max_tokens=25, temperature=0.9, top_k=20, top_p=0.8,
           beam_width=3, seed=7)


@pytest.fixture(scope="module")
def engine(quick_assets):
    return Engine(quick_assets)


@pytest.fixture(scope="module")
def client(engine, serve_app):
    with serve_app(engine) as demo:
        yield Client(demo.local_url, verbose=False)


def test_a_step_holds_the_models_probability_of_the_token_and_the_top_five_in_order():
    logits = np.random.default_rng(0).normal(size=400).astype(np.float32) * 3
    probs = softmax(logits.astype(np.float64))
    token = int(np.argsort(probs)[200])  # an unlikely token
    step = inspection.step_of(token, logits)
    assert math.exp(step.log_prob) == pytest.approx(probs[token], rel=1e-9)
    assert [t for t, _ in step.top] == list(np.argsort(-probs)[:inspection.TOP_K])
    assert [p for _, p in step.top] == pytest.approx(sorted(probs, reverse=True)[:inspection.TOP_K], rel=1e-9)
    assert math.fsum(np.exp(inspection.log_softmax(logits))) == pytest.approx(1.0, abs=1e-12)


def test_byte_pieces_are_joined_into_their_character_and_the_segments_write_the_text(tokenizer):
    ids = tokenizer.encode(MIXED_TEXT)
    steps = [inspection.Step(token, -1.0, ()) for token in ids]
    found = inspection.segments(tokenizer, steps)
    assert "".join(segment.text for segment in found) == MIXED_TEXT
    by_text = {segment.text: len(segment.steps) for segment in found}
    assert by_text["你"] == 3 and by_text["😀"] == 4
    assert sum(len(segment.steps) for segment in found) == len(ids)


def test_surprise_of_a_text_equals_the_evaluations_bits_per_char(engine):
    found = engine.surprise(SurpriseRequest(MIXED_TEXT))
    loaded = engine.language_model("shakespeare-gru")
    reference = evaluation.bits_per_char(loaded.model, engine.tokenizer, [MIXED_TEXT])  # Keras, from BOS
    assert found.chars == len(MIXED_TEXT) == reference["chars"]
    assert sum(len(segment.steps) for segment in found.segments) == reference["tokens"]
    assert found.bits_per_char == pytest.approx(reference["bits_per_char"], rel=1e-4)
    assert found.baseline_bits_per_char > 0 and len(found.baseline_bits) == len(found.segments)


def test_the_trigram_baseline_is_add_k_counts_and_sums_to_one():
    model = CharTrigram("abcab", k=0.5)
    # Read after two newlines: the trigrams are \n\na \nab abc bca cab; V = 3 letters + 1 newline + "other".
    assert model.size == 5
    c_after_ab = (1 + 0.5) / (1 + 0.5 * 5)  # (n(a b c) + k) / (n(a b ·) + k V), with n(a b c) = n(a b ·) = 1
    assert 2 ** -model.char_bits("abc")[2] == pytest.approx(c_after_ab)
    for context in ("ab", "zz", "\na"):
        total = sum(2 ** -model.char_bits(context + char)[2] for char in "abc\n")
        other = 2 ** -(model.char_bits(context + "é")[2] - model.unseen_bits)  # the "other" class as a whole
        assert total + other == pytest.approx(1.0)


def test_the_repeated_ngram_rate_counts_repeats_of_earlier_three_grams():
    assert inspection.repeated_ngram_rate([1, 2, 3, 1, 2, 3]) == pytest.approx(1 / 4)
    assert inspection.repeated_ngram_rate([5, 5, 5, 5, 5]) == pytest.approx(2 / 3)
    assert inspection.repeated_ngram_rate([1, 2, 3, 4]) == 0.0
    assert inspection.repeated_ngram_rate([1, 2]) == 0.0


def test_the_labs_sampled_texts_are_generates_and_its_beam_is_the_beam_search(engine):
    result = engine.lab(LabRequest(**LAB))
    assert [row.method for row in result.rows] == list(inspection.METHODS)
    for row in result.rows[:4]:
        assert row.text == engine.generate(row.request).text
        assert len(row.steps) == LAB["max_tokens"]
    greedy = result.rows[0]
    assert greedy.request.temperature == 0 and all(step.token == step.top[0][0] for step in greedy.steps)
    # The beam column: decoding.beam_search itself, over the model after the prompt.
    model = engine.language_model("shakespeare-gru").numpy_model
    ids = [BOS_ID] + engine.tokenizer.encode(PROMPT)
    _, state = model.step(ids[:-1], model.initial_state())
    best = decoding.beam_search(inspection._batched(model), inspection._as_batch(state), start_id=ids[-1],
                                end_id=inspection.EOS_ID, beam_width=LAB["beam_width"],
                                max_new_tokens=LAB["max_tokens"], deadline_s=30, length_penalty=0.0)[0]
    beam = result.rows[4]
    assert [step.token for step in beam.steps] == best.tokens
    assert beam.log_prob == pytest.approx(best.log_prob, abs=1e-3)
    assert beam.log_prob >= greedy.log_prob - 1e-3  # a wider search finds a text at least as likely


def test_the_labs_texts_through_the_api_equal_generates(client):
    html, rows = client.predict(**LAB, api_name="/lab")
    assert [row["method"] for row in rows] == list(inspection.METHODS)
    settings = {"greedy": dict(temperature=0.0, top_k=0, top_p=1.0), "temperature": dict(top_k=0, top_p=1.0),
                "top-k": dict(top_p=1.0), "top-p": dict(top_k=0)}
    for row in rows[:4]:
        request = {key: LAB[key] for key in ("prompt", "model", "max_tokens", "temperature", "top_k", "top_p", "seed")}
        generated = client.predict(**{**request, **settings[row["method"]], "repetition_penalty": 1.0},
                                   api_name="/generate")[0]
        assert row["text"] == generated
    for row in rows:
        assert row["log_prob"] < 0 and 0 <= row["repeated_3gram_rate"] <= 1 and row["tokens"] > 0
    assert html.count('class="glass-card"') == 5 and "glass-piece" in html


def test_surprise_through_the_api(client):
    html, data = client.predict(MIXED_TEXT, "shakespeare-gru", api_name="/surprise")
    assert data["chars"] == len(MIXED_TEXT)
    assert "".join(piece["text"] for piece in data["pieces"]) == MIXED_TEXT
    total = sum(piece["model_bits"] for piece in data["pieces"])
    assert total / data["chars"] == pytest.approx(data["bits_per_char"], rel=1e-3)
    assert data["baseline_bits_per_char"] > 0
    assert "bits/char" in html and html.count("glass-piece") == 2 * len(data["pieces"])


@pytest.mark.parametrize("text, model, expected", [
    ("", "shakespeare-gru", "text is empty"),
    ("x" * 2_001, "shakespeare-gru", "text is too long: 2,001 characters, the limit is 2,000"),
    ("a\x1bb", "shakespeare-gru", "text contains a control character \\(U\\+001B\\)"),
    ("hello", "gpt-5", "unknown model 'gpt-5'"),
    (42, "shakespeare-gru", "text must be text"),
])
def test_bad_surprise_input_gets_a_clear_message(engine, client, text, model, expected):
    with pytest.raises(InputError, match=expected):
        engine.surprise(SurpriseRequest(text, model))
    with pytest.raises(AppError, match=expected):
        client.predict(text, model, api_name="/surprise")


@pytest.mark.parametrize("overrides, expected", [
    (dict(prompt=" "), "prompt is empty"),
    (dict(prompt="x" * 2_001), "prompt is too long"),
    (dict(max_tokens=201), "max tokens must be between 1 and 200, not 201"),
    (dict(max_tokens=10**400), "max tokens must be between 1 and 200, not about 1e\\+400"),
    (dict(beam_width=9), "beam width must be between 1 and 8, not 9"),
    (dict(temperature=0), "temperature must be above 0 in the lab"),
    (dict(top_p=0), "top-p must be between 0.01 and 1"),
    (dict(seed=1.5), "seed must be a whole number"),
    (dict(model="gpt-5"), "unknown model 'gpt-5'"),
])
def test_bad_lab_input_gets_a_clear_message(engine, client, overrides, expected):
    with pytest.raises(InputError, match=expected):
        engine.lab(LabRequest(**{**LAB, **overrides}))
    with pytest.raises(AppError, match=expected):
        client.predict(**{**LAB, **overrides}, api_name="/lab")


def test_the_chat_attention_map_grows_a_row_at_a_time(client):
    job = client.submit("What is the capital of France?", [], persona="modern", decoding="beam", beam_width=4,
                        length_penalty=0.6, temperature=0.8, top_k=0, top_p=1.0, seed=0, api_name="/chat")
    job.result()
    rows = [attention.count("<tr>") - 1 for _, attention, _ in job.outputs()]  # less the header row
    replies = [_text(history[-1]["content"]) for history, _, _ in job.outputs()]
    assert rows == list(range(1, rows[-1] + 1)) and rows[-1] >= 1, rows  # one row more with each piece
    assert all(replies[-1].startswith(reply) for reply in replies)


def _text(content) -> str:
    """A chat message's text: a string, or Gradio's list of parts."""
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def test_the_shakespeare_stream_colours_every_token(engine):
    request = GenerationRequest(prompt=PROMPT, max_tokens=30, temperature=1.0, seed=3)
    view = glass.StreamView(engine.tokenizer)
    chunks = list(view.watching(engine.stream(request)))
    events = [event for chunk in chunks for event in chunk.events]
    assert len(events) == 30
    found = inspection.segments(engine.tokenizer, [inspection.step_of(e.token, e.logits) for e in events])
    assert "".join(segment.text for segment in found) == chunks[-1].text[len(PROMPT):]
    assert len(view.spans) == len(found) and view.html().count('class="glass-piece"') == len(found)
    assert sum(view.bars().values()) <= 1 + 1e-9 and len(view.bars()) == inspection.TOP_K
