"""The NumPy step equals the Keras reference: logits within 1e-4, same greedy tokens."""
import numpy as np
import pytest

from rnn_demo.config import LanguageModelConfig
from rnn_demo.decoding import stream
from rnn_demo.models.language_model import build_language_model
from rnn_demo.models.numpy_step import NumpyLanguageModel
from rnn_demo.sampling import Sampler, SamplingSettings


@pytest.fixture(scope="module",
                params=[("gru", 0, 2), ("lstm", 0, 2), ("gru", 16, 2), ("lstm", 16, 2), ("gru", 0, 1), ("gru", 16, 3)],
                ids=["gru", "lstm", "gru-bottleneck", "lstm-bottleneck", "gru-1-layer", "gru-3-layers"])
def models(request):
    import keras

    keras.utils.set_random_seed(0)
    cell, rank, layers = request.param
    config = LanguageModelConfig(cell=cell, vocab_size=300, embedding_dim=24, units=40, num_layers=layers,
                                 projection_rank=rank)
    model = build_language_model(config)
    noise = np.random.default_rng(0)
    for variable in model.trainable_variables:  # large enough to matter; biases (zeros at first) too
        variable.assign(variable * 3.0 + noise.normal(0.0, 0.3, variable.shape).astype(np.float32))
    return model, NumpyLanguageModel(model)


def test_logits_match_keras(models):
    model, numpy_model = models
    tokens = [5, 17, 2, 299, 0, 42]
    reference, reference_state = model.step(tokens, model.initial_state())
    logits, state = numpy_model.step(tokens, numpy_model.initial_state())
    np.testing.assert_allclose(logits, reference, atol=1e-4)
    for layer, reference_layer in zip(state, reference_state):
        for part, reference_part in zip(layer, reference_layer):
            np.testing.assert_allclose(part, reference_part[0], atol=1e-5)


def test_greedy_tokens_match_keras(models):
    model, numpy_model = models
    greedy = Sampler(SamplingSettings(temperature=0))

    def run(step, state):
        return [event.token for event in stream(step, state, [1, 7], choose=greedy,
                                                max_new_tokens=25, deadline_s=60)]

    assert run(numpy_model.step, numpy_model.initial_state()) == run(model.step, model.initial_state())


@pytest.mark.parametrize("rank", [80, 12])
def test_svd_initialisation_keeps_the_best_rank_r_projection(rank):
    """Full rank (2 layers × 40 units = 80) reproduces the source's logits; a lower rank gives the
    source projection's truncated SVD, the closest rank-r matrix (Eckart–Young)."""
    import keras

    from rnn_demo.training.language_model import effective_projection as _effective_projection, initialise_from

    keras.utils.set_random_seed(1)
    sizes = dict(vocab_size=300, embedding_dim=24, units=40, num_layers=2)
    source = build_language_model(LanguageModelConfig(**sizes))
    target = build_language_model(LanguageModelConfig(**sizes, projection_rank=rank))
    initialise_from(target, source)
    full = _effective_projection(source)
    u, singular, vt = np.linalg.svd(full, full_matrices=False)
    np.testing.assert_allclose(_effective_projection(target), (u[:, :rank] * singular[:rank]) @ vt[:rank],
                               atol=1e-5)
    if rank == 80:
        tokens = [3, 9, 27]
        np.testing.assert_allclose(target.step(tokens, target.initial_state())[0],
                                   source.step(tokens, source.initial_state())[0], atol=1e-4)


def test_initialisation_refuses_other_sizes():
    from rnn_demo.training.language_model import initialise_from

    source = build_language_model(LanguageModelConfig(vocab_size=300, embedding_dim=24, units=40))
    target = build_language_model(LanguageModelConfig(vocab_size=300, embedding_dim=24, units=48))
    with pytest.raises(ValueError, match="same cell, units"):
        initialise_from(target, source)


def test_word_dropout_zeroes_whole_positions_in_training_only():
    from rnn_demo.models.language_model import PositionDropout

    x = np.ones((4, 50, 6), dtype=np.float32)
    dropped = np.asarray(PositionDropout(0.3)(x, training=True))
    rows = dropped.reshape(-1, 6)
    assert np.all(np.isclose(rows, 0.0) | np.isclose(rows, 1 / 0.7))
    assert np.all(rows == rows[:, :1])  # a position is kept or dropped whole
    assert 0.15 < (rows[:, 0] == 0).mean() < 0.45
    np.testing.assert_array_equal(np.asarray(PositionDropout(0.3)(x, training=False)), x)


def test_a_model_trained_with_word_dropout_serves_the_same_shape():
    config = LanguageModelConfig(vocab_size=300, embedding_dim=24, units=40, embedding_dropout=0.2, dropout=0.3)
    model = build_language_model(config)
    plain = build_language_model(LanguageModelConfig(vocab_size=300, embedding_dim=24, units=40))
    assert [w.path.split("/", 1)[1] for w in model.weights] == [w.path.split("/", 1)[1] for w in plain.weights]
    tokens = np.array([[5, 6, 7]], dtype=np.int32)
    np.testing.assert_array_equal(np.asarray(model(tokens)), np.asarray(model(tokens)))  # no dropout at inference
    with pytest.raises(ValueError, match="embedding_dropout"):
        LanguageModelConfig(embedding_dropout=1.0)
