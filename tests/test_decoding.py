"""The streaming loop over a fake step whose logits are one-hot × 1e9: exactly predictable."""
import numpy as np

from rnn_demo.decoding import StopReason, stream
from rnn_demo.sampling import Sampler, SamplingSettings

VOCAB = 10


def counting_step(tokens, state):
    """Predicts (last token + 1) mod VOCAB; the state counts tokens fed."""
    logits = np.zeros(VOCAB)
    logits[(tokens[-1] + 1) % VOCAB] = 1e9
    return logits, state + len(tokens)


def run(prompt, **kwargs):
    stop = StopReason()
    defaults = dict(choose=Sampler(SamplingSettings(temperature=1.0), seed=3), max_new_tokens=5,
                    deadline_s=10.0, stop=stop)
    defaults.update(kwargs)
    return [event.token for event in stream(counting_step, 0, prompt, **defaults)], stop.reason


def test_stream_is_exact_on_a_one_hot_step():
    assert run([3]) == ([4, 5, 6, 7, 8], "max_tokens")


def test_stop_token_ends_the_stream():
    assert run([3], stop_ids=[6]) == ([4, 5], "stop_token")


def test_deadline_ends_the_stream():
    assert run([3], deadline_s=-1.0) == ([], "deadline")


def test_cancellation_ends_the_stream():
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 2

    assert run([3], should_stop=should_stop) == ([4, 5], "cancelled")
