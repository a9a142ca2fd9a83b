"""The Gradio app launched in-process and called through its API with gradio_client."""
import socket

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from rnn_demo.engines import Engine
from rnn_demo.ui import build_demo, launch_options

GOOD = dict(prompt="ROMEO:\n", model="shakespeare-gru", max_tokens=12, temperature=0.0, top_k=0,
            top_p=1.0, repetition_penalty=1.0, seed=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def client(quick_assets):
    demo = build_demo(Engine(quick_assets))
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True,
                **launch_options())
    try:
        yield Client(demo.local_url, verbose=False)
    finally:
        demo.close()


def call(client, **overrides):
    return client.predict(**{**GOOD, **overrides}, api_name="/generate")


def test_streamed_text_begins_with_the_prompt_and_grows(client):
    job = client.submit(**{**GOOD, "max_tokens": 40}, api_name="/generate")
    texts = [output[0] for output in job]
    text, probabilities = job.result()
    assert texts and all(t.startswith("ROMEO:\n") for t in texts)
    assert len(text) > len("ROMEO:\n")
    assert probabilities["confidences"] and 0 < probabilities["confidences"][0]["confidence"] <= 1


def test_seeded_api_result_is_reproducible_and_models_differ(client):
    sampled = dict(temperature=1.0, seed=11, max_tokens=20)
    first, _ = call(client, **sampled)
    assert call(client, **sampled)[0] == first
    assert call(client, **{**sampled, "seed": 12})[0] != first
    assert call(client, **sampled, model="shakespeare-lstm")[0] != first


OUT_OF_RANGE = "must be between|less than minimum|greater than maximum"  # ours, or Gradio's own check


@pytest.mark.parametrize("overrides, message", [
    (dict(prompt=""), "empty"),
    (dict(prompt="   \n "), "empty"),
    (dict(prompt="x" * 1_000_000), "too long"),
    (dict(temperature=-1), OUT_OF_RANGE),
    (dict(temperature=1e9), OUT_OF_RANGE),
    (dict(max_tokens=10**9), OUT_OF_RANGE),
    (dict(max_tokens=2.5), "whole number"),
    (dict(top_p=0), OUT_OF_RANGE),
    (dict(seed=-3), OUT_OF_RANGE),
    (dict(seed=2**40), OUT_OF_RANGE),
    (dict(model="gpt-5"), "not in the list of choices|unknown model"),
    (dict(prompt="bad \x1b[31m escape"), "control character"),
])
def test_bad_input_gets_a_clear_error_and_the_app_keeps_answering(client, overrides, message):
    with pytest.raises(AppError, match=message):
        call(client, **overrides)
    assert call(client)[0].startswith("ROMEO:\n")


CHAT = dict(persona="modern", decoding="beam", beam_width=4, length_penalty=0.6, temperature=0.8, top_k=0,
            top_p=1.0, seed=0)


def test_chat_over_several_turns_shows_attention(client):
    history = []
    for message in ["Hello", "What is the capital of France?", "And of Spain?"]:
        history, attention, cleared = client.predict(message, history, **CHAT, api_name="/chat")
        assert cleared == ""
        assert history[-2]["role"] == "user" and history[-1]["role"] == "assistant"
    assert len(history) == 6
    assert "<table>" in attention and "Attention" in attention


@pytest.mark.parametrize("message, history, overrides, expected", [
    ("", [], {}, "empty"),
    ("x" * 1_000_000, [], {}, "too long"),
    ("hi", [{"role": "user", "content": [{"type": "text", "text": "hi"}]}] * 10_000, {}, "history is too long"),
    ("hi", [], dict(persona="pirate"), "not in the list of choices|unknown persona"),
    ("hi", [], dict(beam_width=0), OUT_OF_RANGE),
    ("hi", [], dict(beam_width=10**6), OUT_OF_RANGE),
])
def test_bad_chat_input_gets_a_clear_error_and_the_app_keeps_answering(client, message, history, overrides,
                                                                       expected):
    with pytest.raises(AppError, match=expected):
        client.predict(message, history, **{**CHAT, **overrides}, api_name="/chat")
    assert client.predict("Hello", [], **CHAT, api_name="/chat")[0][-1]["role"] == "assistant"


def test_fill_shows_candidates_and_the_completed_sentence(client):
    candidates, completed, note = client.predict("Paris is the capital of ___.", 5, api_name="/fill")
    assert candidates["confidences"] and note
    texts = [part["token"] for part in completed] if isinstance(completed, list) else completed
    assert "Paris is the capital of " in str(texts)


@pytest.mark.parametrize("sentence, top_k, expected", [
    ("no gap", 5, "no gap"),
    ("___ and ___", 5, "2 gaps"),
    ("", 5, "empty"),
    ("x" * 1_000_000, 5, "too long"),
    ("Paris is the capital of ___.", 10**6, OUT_OF_RANGE),
])
def test_bad_fill_input_gets_a_clear_error(client, sentence, top_k, expected):
    with pytest.raises(AppError, match=expected):
        client.predict(sentence, top_k, api_name="/fill")
    assert client.predict("Paris is the capital of ___.", 3, api_name="/fill")[0]["confidences"]


@pytest.mark.parametrize("path", ["gradio_api/file=../app.py", "gradio_api/file=/etc/passwd",
                                  "file=/etc/passwd", "gradio_api/file=assets/tokenizer.model",
                                  "monitoring"])
def test_no_file_access_beyond_the_app(client, path):
    import httpx

    response = httpx.get(client.src.rstrip("/") + "/" + path, timeout=10)
    assert 400 <= response.status_code < 500
    assert "root:" not in response.text and "import" not in response.text
