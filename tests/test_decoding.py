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


def test_closing_the_stream_ends_it_without_another_step():
    fed = []

    def recording_step(tokens, state):
        fed.append(list(tokens))
        return counting_step(tokens, state)

    events = stream(recording_step, 0, [3], choose=Sampler(SamplingSettings(temperature=0)), max_new_tokens=5,
                    deadline_s=10.0)
    assert [next(events).token, next(events).token] == [4, 5]
    events.close()
    assert fed == [[3], [4], [5]] and list(events) == []


# Beam search on a fake step whose next-token probabilities depend only on the last token.
START, END, A, B, C = 1, 2, 3, 4, 5
TABLE = {START: {A: 0.6, B: 0.4}, A: {END: 0.4, C: 0.6}, B: {END: 0.8, C: 0.2}, C: {END: 1.0}}


def table_step(tokens, state):
    logits = np.full((len(tokens), 6), np.log(1e-12))
    for row, token in enumerate(tokens):
        for nxt, p in TABLE.get(int(token), {END: 1.0}).items():
            logits[row, nxt] = np.log(p)
    return logits, state


def search(**kwargs):
    from rnn_demo.decoding import beam_search

    defaults = dict(start_id=START, end_id=END, beam_width=4, max_new_tokens=5, deadline_s=10.0,
                    length_penalty=0.0)
    return beam_search(table_step, np.zeros((1, 1)), **{**defaults, **kwargs})


def test_beam_search_returns_the_exact_n_best():
    results = search()
    assert [h.tokens for h in results] == [[A, C], [B], [A], [B, C]]
    assert np.allclose([np.exp(h.log_prob) for h in results], [0.36, 0.32, 0.24, 0.08])
    assert all(h.finished for h in results)


def test_beam_width_one_is_greedy():
    assert [h.tokens for h in search(beam_width=1)] == [[A, C]]


def test_length_penalty_rescores_by_length():
    from rnn_demo.decoding import length_normalised

    results = search(length_penalty=2.0)
    expected = sorted([([A, C], 0.36), ([B], 0.32), ([A], 0.24), ([B, C], 0.08)],
                      key=lambda item: -length_normalised(np.log(item[1]), len(item[0]) + 1, 2.0))
    assert [h.tokens for h in results] == [tokens for tokens, _ in expected]


def test_max_tokens_returns_unfinished_hypotheses():
    results = search(max_new_tokens=1, beam_width=2)
    assert [(h.tokens, h.finished) for h in results] == [([A], False), ([B], False)]
