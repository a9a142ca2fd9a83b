"""Next-token choice on fake logits: exact and seeded."""
import numpy as np
import pytest

from rnn_demo.sampling import Sampler, SamplingSettings, apply_repetition_penalty, truncate

LOGITS = np.log(np.array([0.05, 0.5, 0.3, 0.1, 0.05]))


def test_temperature_zero_is_greedy():
    sampler = Sampler(SamplingSettings(temperature=0), seed=1)
    assert [sampler(LOGITS) for _ in range(5)] == [1] * 5


def test_top_k_one_is_greedy_at_any_temperature():
    sampler = Sampler(SamplingSettings(temperature=5.0, top_k=1), seed=1)
    assert {sampler(LOGITS) for _ in range(50)} == {1}


def test_top_k_keeps_only_k_tokens():
    probs = truncate(np.exp(LOGITS), top_k=2, top_p=1.0)
    assert np.count_nonzero(probs) == 2 and probs[1] > probs[2] > 0
    assert probs.sum() == pytest.approx(1.0)


def test_top_p_keeps_the_smallest_set_reaching_p():
    probs = truncate(np.exp(LOGITS), top_k=0, top_p=0.75)  # 0.5 + 0.3 reaches 0.75
    assert set(np.flatnonzero(probs)) == {1, 2}
    assert probs[1] == pytest.approx(0.5 / 0.8)


def test_repetition_penalty_lowers_seen_tokens():
    logits = np.array([2.0, -1.0, 1.0])
    penalised = apply_repetition_penalty(logits, [0, 1], 2.0)
    assert penalised.tolist() == [1.0, -2.0, 1.0]


def test_same_seed_same_choices_other_seed_other_choices():
    settings = SamplingSettings(temperature=1.0)

    def draws(seed):
        sampler = Sampler(settings, seed)
        return [sampler(LOGITS) for _ in range(30)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


def test_sampling_follows_the_distribution():
    sampler = Sampler(SamplingSettings(temperature=1.0), seed=0)
    counts = np.bincount([sampler(LOGITS) for _ in range(4000)], minlength=5) / 4000
    assert np.allclose(counts, np.exp(LOGITS), atol=0.03)
