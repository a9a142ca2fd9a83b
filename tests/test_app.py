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
