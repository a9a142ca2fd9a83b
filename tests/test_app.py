"""The Gradio app launched in-process and called through its API with gradio_client: limits on every
argument, and the serving defaults (one bounded upload route, no file access, no monitoring, REST behind the queue)."""
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from rnn_demo.serving import Engine
from rnn_demo.ui import page

ROOT = Path(__file__).resolve().parent.parent
GOOD = dict(prompt="ROMEO:\n", model="shakespeare-gru", max_tokens=12, temperature=0.0, top_k=0,
            top_p=1.0, repetition_penalty=1.0, seed=0)
HTTP_TIMEOUT_S = 10


@pytest.fixture(scope="module")
def client(quick_assets, serve_app):
    with serve_app(Engine(quick_assets)) as demo:
        yield Client(demo.local_url, verbose=False)


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


# Every message names the argument: Gradio's own range and choice checks (which do not) are left to the engine.
@pytest.mark.parametrize("overrides, message", [
    (dict(prompt=""), "prompt is empty"),
    (dict(prompt="   \n "), "prompt is empty"),
    (dict(prompt="x" * 1_000_000), "prompt is too long: 1,000,000 characters, the limit is 2,000"),
    (dict(prompt=42), "prompt must be text"),
    (dict(prompt="bad \x1b[31m escape"), "prompt contains a control character \\(U\\+001B\\)"),
    (dict(temperature=-1), "temperature must be between 0 and 5, not -1"),
    (dict(temperature=1e9), "temperature must be between 0 and 5"),
    (dict(temperature="hot"), "temperature must be a number, not str"),
    (dict(max_tokens=10**9), "max tokens must be between 1 and 1000"),
    (dict(max_tokens=2.5), "max tokens must be a whole number"),
    (dict(max_tokens=None), "max tokens must be a number"),
    (dict(top_k=-1), "top-k must be between 0 and 1000"),
    (dict(top_p=0), "top-p must be between 0.01 and 1"),
    (dict(repetition_penalty=10), "repetition penalty must be between 1 and 3"),
    (dict(seed=-3), "seed must be between 0 and"),
    (dict(seed=2**40), "seed must be between 0 and"),
    (dict(seed=2.5), "seed must be a whole number"),
    (dict(model="gpt-5"), "unknown model 'gpt-5'; choose one of shakespeare-gru, shakespeare-lstm"),
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


def said(text: str, role: str = "user") -> dict:
    """One history entry in Gradio's messages format."""
    return {"role": role, "content": [{"type": "text", "text": text}]}


@pytest.mark.parametrize("message, history, overrides, expected", [
    ("", [], {}, "message is empty"),
    ("x" * 1_000_000, [], {}, "message is too long: 1,000,000 characters, the limit is 1,000"),
    ("hi\x00", [], {}, "message contains a control character"),
    ("hi", [said("hi")] * 10_000, {}, "history is too long: 10,000 messages, the limit is 200"),
    ("hi", [said("x" * 5_000)] + [said("ok")] * 5, {}, "history message 1 is too long"),
    ("hi", [said("ok"), said("a\x07b", "assistant")], {}, "history message 2 contains a control character"),
    ("hi", [42], {}, "history is not a list of chat messages"),
    ("hi", "hello", {}, "history is not a list of chat messages"),
    ("hi", [{"role": "user"}], {}, "history is not a list of chat messages \\(0.content: Field required\\)"),
    ("hi", [], dict(persona="pirate"), "unknown persona 'pirate'; choose one of modern, shakespeare"),
    ("hi", [], dict(decoding="telepathy"), "unknown decoding 'telepathy'"),
    ("hi", [], dict(beam_width=0), "beam width must be between 1 and 8"),
    ("hi", [], dict(beam_width=10**6), "beam width must be between 1 and 8"),
    ("hi", [], dict(length_penalty=-1), "length penalty must be between 0 and 2"),
    ("hi", [], dict(seed=1.5), "seed must be a whole number"),
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
    ("", 5, "sentence is empty"),
    ("x" * 1_000_000, 5, "sentence is too long: 1,000,000 characters, the limit is 500"),
    ("Paris\x1b is the capital of ___.", 5, "sentence contains a control character"),
    ("Paris is the capital of ___.", 10**6, "top-k must be between 1 and 10"),
    ("Paris is the capital of ___.", 0, "top-k must be between 1 and 10"),
    ("Paris is the capital of ___.", 2.5, "top-k must be a whole number"),
])
def test_bad_fill_input_gets_a_clear_error(client, sentence, top_k, expected):
    with pytest.raises(AppError, match=expected):
        client.predict(sentence, top_k, api_name="/fill")
    assert client.predict("Paris is the capital of ___.", 3, api_name="/fill")[0]["confidences"]


def test_what_the_chatbot_does_not_read_is_said(client):
    _, attention, _ = client.predict("word " * 150, [], **CHAT, api_name="/chat")
    assert "the chatbot reads only the last 47" in attention and "the start of your message was left out" in attention


def test_a_famous_line_says_which_play_its_filler_comes_from(client):
    candidates, _, note = client.predict("Friends, Romans, countrymen, lend me your ___.", 3, api_name="/fill")
    assert candidates["label"] == "ears"
    assert "“ears” is what *Julius Caesar* has between these words (6 neighbouring words matched)" in note
    assert "the RNN alone gives it" in note and "memory of the plays" in note


def test_what_the_gap_filler_does_not_read_is_said(client):
    sentence = "word " * 80 + "___" + " more" * 15  # under the 500-character limit, over the 64 tokens a side it reads
    _, _, note = client.predict(sentence, 3, api_name="/fill")
    assert "its ends were left out" in note


@pytest.mark.parametrize("path", ["gradio_api/file=../app.py", "gradio_api/file=..%2Fapp.py",
                                  "gradio_api/file=/etc/passwd", "gradio_api/file=%2Fetc%2Fpasswd",
                                  "gradio_api/file=../../../../etc/passwd", f"gradio_api/file={ROOT / 'app.py'}",
                                  "file=/etc/passwd", "gradio_api/file=assets/tokenizer.model"])
def test_no_file_access_beyond_the_app(client, path):
    response = httpx.get(client.src.rstrip("/") + "/" + path, timeout=HTTP_TIMEOUT_S)
    assert 400 <= response.status_code < 500
    assert "root:" not in response.text and "import" not in response.text


@pytest.mark.parametrize("path", ["monitoring", "monitoring/summary", "monitoring/any-key"])
def test_the_monitoring_dashboard_is_off(client, path):
    response = httpx.get(client.src.rstrip("/") + "/" + path, timeout=HTTP_TIMEOUT_S, follow_redirects=False)
    assert response.status_code == 403 and "Monitoring is not enabled" in response.text


def test_the_one_upload_route_refuses_a_file_over_the_train_tabs_limit(client):
    response = httpx.post(client.src.rstrip("/") + "/gradio_api/upload", timeout=HTTP_TIMEOUT_S,
                          files={"files": ("note.txt", b"x" * (page.MAX_UPLOAD_BYTES + 1))})
    assert response.status_code == 413


def test_rest_callers_go_through_the_queue(client):
    base, data = client.src.rstrip("/"), {"data": list(GOOD.values())}
    direct = httpx.post(base + "/gradio_api/run/generate", json=data, timeout=HTTP_TIMEOUT_S)
    assert direct.status_code == 404 and "join the queue" in direct.text
    queued = httpx.post(base + "/gradio_api/call/generate", json=data, timeout=HTTP_TIMEOUT_S)
    assert queued.status_code == 200 and queued.json()["event_id"]
