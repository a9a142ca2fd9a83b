"""The compiled sampler (GRU and LSTM) equals the Keras reference, draws as the NumPy sampler does, and gives
the same tokens on one core or two."""
import numpy as np
import pytest

from rnn_demo.config import LanguageModelConfig
from rnn_demo.models import compiled_rnn
from rnn_demo.models.language_model import build_language_model
from rnn_demo.models.numpy_step import NumpyLanguageModel

pytestmark = pytest.mark.skipif(not compiled_rnn.supports(LanguageModelConfig(cell="gru", units=2)),
                                reason="Numba is not installed")


def _model(cell: str, rank: int, layers: int, vocab: int, half: bool):
    import keras

    from rnn_demo.training.language_model import round_matrices

    keras.utils.set_random_seed(0)
    config = LanguageModelConfig(cell=cell, vocab_size=vocab, embedding_dim=24, units=40, num_layers=layers,
                                 projection_rank=rank)
    model = build_language_model(config)
    noise = np.random.default_rng(0)
    for variable in model.trainable_variables:  # large enough to matter; biases (zeros at first) too
        variable.assign(variable * 3.0 + noise.normal(0.0, 0.3, variable.shape).astype(np.float32))
    if half:
        round_matrices(model, "float16")
    return model


@pytest.fixture(scope="module",
                params=[("gru", 0, 2, 300, False), ("gru", 16, 2, 300, True), ("gru", 16, 2, 301, False),
                        ("gru", 0, 1, 300, True), ("gru", 16, 3, 301, True), ("lstm", 16, 2, 301, False),
                        ("lstm", 0, 2, 300, True), ("lstm", 16, 1, 300, True)],
                ids=["gru-float32", "gru-float16-bottleneck", "gru-odd-vocab", "gru-float16-1-layer",
                     "gru-float16-3-layers", "lstm-float32-odd-vocab", "lstm-float16", "lstm-float16-1-layer"])
def pair(request):
    model = _model(*request.param)
    numpy_model = NumpyLanguageModel(model)
    return model, numpy_model, compiled_rnn.CompiledSampler(numpy_model), request.param[4]


def _start(numpy_model, prompt=(1, 7, 42)):
    return numpy_model.step(list(prompt), numpy_model.initial_state())


def test_reads_half_precision_only_when_every_matrix_is_exactly_half(pair):
    _, _, sampler, half = pair
    assert sampler.half_precision == half
    assert sampler.projection.dtype == (np.uint16 if half else np.float32)


@pytest.mark.parametrize("threads", [1, 2])
def test_greedy_tokens_and_logits_match_keras(pair, threads):
    model, numpy_model, sampler, _ = pair
    logits, state = _start(numpy_model)
    tokens, after, new_state = sampler.sample(logits, state, 20, None, 0.0, threads=threads)
    reference_logits, reference_state = model.step([1, 7, 42], model.initial_state())
    for index, token in enumerate(tokens.tolist()):
        assert token == int(np.argmax(reference_logits))
        reference_logits, reference_state = model.step([token], reference_state)
        np.testing.assert_allclose(after[index], reference_logits, atol=1e-4)
    # An LSTM's cells reach about 15 in these models, where float32's last place is 1e-6, and the recurrent matrix
    # spreads a few such differences to every unit over the 20 steps (measured up to 1.02e-5).
    for layer, reference_layer in zip(new_state, reference_state):
        for part, reference_part in zip(layer, reference_layer, strict=True):  # h, and an LSTM's c
            np.testing.assert_allclose(part, reference_part[0], atol=2e-5)


def test_one_core_or_two_give_identical_numbers(pair):
    _, numpy_model, sampler, _ = pair
    logits, state = _start(numpy_model)
    uniforms = np.random.default_rng(3).random(40)
    one = sampler.sample(logits, state, 40, uniforms, 0.9, threads=1)
    two = sampler.sample(logits, state, 40, uniforms, 0.9, threads=2)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


@pytest.mark.parametrize("batch", [7, 11])
def test_a_row_has_the_same_numbers_alone_and_in_a_batch(pair, batch):
    """Seven rows take both paths of the batched product (four rows together, then three one at a time),
    with the two threads splitting the columns; eleven rows are split between the threads by rows (dealt by
    their counts, which differ): each row's tokens, logits and state are bit for bit those of the row drawn
    alone (one row: split by columns)."""
    _, numpy_model, sampler, _ = pair
    assert (batch >= compiled_rnn.ROWS_SPLIT_FROM) == (batch == 11)
    rng = np.random.default_rng(5)
    steps = 12
    counts = np.full(batch, steps) if batch == 7 else rng.integers(1, steps + 1, batch)
    logits = rng.normal(size=(batch, sampler.padded_vocab)).astype(np.float32)
    states = [numpy_model.step([int(token)], numpy_model.initial_state())[1] for token in rng.integers(1, 200, batch)]
    uniforms, temperatures = rng.random((batch, steps)), np.linspace(0.5, 1.2, batch)
    hidden, cells = sampler.packed(states)
    together = sampler.sample_rows(logits.copy(), hidden, cells, counts, uniforms, temperatures)
    for row in range(batch):
        count = counts[row]
        alone_hidden, alone_cells = sampler.packed([states[row]])
        alone = sampler.sample_rows(logits[row:row + 1].copy(), alone_hidden, alone_cells, np.full(1, count),
                                    uniforms[row:row + 1], temperatures[row:row + 1])
        np.testing.assert_array_equal(alone[0][0], together[0][row, :count])
        np.testing.assert_array_equal(alone[1][0], together[1][row, :count])
        np.testing.assert_array_equal(alone_hidden[:, 0], hidden[:, row])
        np.testing.assert_array_equal(alone_cells[:, 0] if sampler.lstm else 0, cells[:, row] if sampler.lstm else 0)


def test_draws_are_the_inverse_cdf_of_the_softmax(pair):
    """Each token is the first whose cumulative softmax probability exceeds its uniform number
    (as `Sampler` draws); draws within float32 rounding of a boundary are not judged."""
    _, numpy_model, sampler, _ = pair
    logits, state = _start(numpy_model)
    temperature = 0.7
    uniforms = np.random.default_rng(5).random(60)
    tokens, after, _ = sampler.sample(logits, state, 60, uniforms, temperature)
    judged = 0
    for index, (token, uniform) in enumerate(zip(tokens.tolist(), uniforms)):
        previous = logits if index == 0 else after[index - 1]
        scaled = previous.astype(np.float64) / temperature
        cumulative = np.cumsum(np.exp(scaled - scaled.max()))
        cumulative /= cumulative[-1]
        expected = int(np.searchsorted(cumulative, uniform, side="right"))
        if np.min(np.abs(cumulative - uniform)) < 1e-5:
            continue
        judged += 1
        assert token == expected
    assert judged > 50


def test_the_state_carries_over_to_the_numpy_step(pair):
    """The sampler's state is the NumPy step's: feeding the drawn tokens there gives the same logits."""
    _, numpy_model, sampler, _ = pair
    logits, state = _start(numpy_model)
    tokens, after, new_state = sampler.sample(logits, state, 5, np.full(5, 0.5), 1.0)
    continued, continued_state = numpy_model.step(tokens.tolist(), state)
    np.testing.assert_allclose(continued, after[-1], atol=1e-4)
    for layer, numpy_layer in zip(new_state, continued_state):
        for part, numpy_part in zip(layer, numpy_layer, strict=True):
            np.testing.assert_allclose(part, numpy_part, atol=1e-5)


def test_rounding_touches_every_matrix_but_the_embedding():
    model = _model("gru", 16, 2, 300, half=False)
    embedding = np.asarray(model.embedding.embeddings).copy()
    from rnn_demo.training.language_model import round_matrices

    rounded = round_matrices(model, "float16")
    matrices = [w for w in model.weights if len(w.shape) == 2 and w.path != model.embedding.embeddings.path]
    assert rounded == sum(int(np.prod(w.shape)) for w in matrices)
    for weight in matrices:
        values = np.asarray(weight)
        np.testing.assert_array_equal(values.astype(np.float16).astype(np.float32), values)
    np.testing.assert_array_equal(np.asarray(model.embedding.embeddings), embedding)
    with pytest.raises(ValueError, match="round-matrices"):
        round_matrices(model, "int4")


def test_the_engine_streams_through_it_with_the_same_text_on_one_core_or_two(quick_assets, monkeypatch):
    from rnn_demo.serving import Engine, GenerationRequest

    engine = Engine(quick_assets)
    loaded = engine.language_model("shakespeare-gru")
    assert loaded.sampler is not None and loaded.sampler.half_precision  # trained with --round-matrices float16
    assert engine.language_model("shakespeare-lstm").sampler.half_precision
    blocks = []
    sample_rows = loaded.sampler.sample_rows

    def recording(logits, hidden, cells, counts, *args, **kwargs):  # the batched decoder's one call a block
        blocks.extend(counts.tolist())
        return sample_rows(logits, hidden, cells, counts, *args, **kwargs)

    monkeypatch.setattr(loaded.sampler, "sample_rows", recording)
    request = GenerationRequest(prompt="ROMEO:", max_tokens=70, temperature=0.8, seed=3)
    texts = []
    for cores in (1, 2):
        monkeypatch.setattr(loaded.decoder, "threads", cores)
        result = engine.generate(request)
        assert result.tokens == 70 and result.stop_reason == "max_tokens"
        texts.append(result.text)
    assert texts[0] == texts[1]
    assert blocks == [4, 32, 32, 2] * 2
    # Top-k sampling is not compiled: the NumPy step serves it, one token at a time.
    blocks.clear()
    assert engine.generate(GenerationRequest(prompt="ROMEO:", max_tokens=20, top_k=5, seed=3)).tokens == 20
    assert blocks == []


def test_without_numba_the_numpy_step_serves(quick_assets, monkeypatch):
    from rnn_demo.serving import Engine, GenerationRequest

    monkeypatch.setattr(compiled_rnn, "supports", lambda config: False)
    engine = Engine(quick_assets)
    assert engine.language_model("shakespeare-gru").sampler is None
    result = engine.generate(GenerationRequest(prompt="ROMEO:", max_tokens=30, seed=3))
    assert result.tokens == 30 and result.text.startswith("ROMEO:")


def test_one_request_alone_gets_both_cores(quick_assets):
    from rnn_demo.serving import Engine

    engine = Engine(quick_assets)
    with engine._at_work():
        assert engine._cores_for_one() == 2
        with engine._at_work():
            assert engine._cores_for_one() == 1
    assert engine._working == 0


def test_precompile_compiles_what_a_rounded_model_runs(pair):
    """`precompile` (run in another process at start-up) must fill the cache with the very
    specialisation that a model trained with --round-matrices float16 calls."""
    _, numpy_model, sampler, half = pair
    if not half:
        pytest.skip("full float32 weights are compiled on first use")
    compiled_rnn.precompile()
    compiled = set(compiled_rnn._sample_block.signatures)
    logits, state = _start(numpy_model)
    sampler.sample(logits, state, 3, np.full(3, 0.5), 0.8, threads=2)
    assert set(compiled_rnn._sample_block.signatures) == compiled


def test_simultaneous_streams_give_the_texts_they_give_alone(quick_assets):
    """Two threads streaming at once (each then gets one core, and both again once one ends)
    get the same texts as one after the other: the cores a stream gets never change its numbers."""
    from concurrent.futures import ThreadPoolExecutor

    from rnn_demo.serving import Engine, GenerationRequest

    engine = Engine(quick_assets)
    requests = [GenerationRequest(prompt="ROMEO:", model=model, max_tokens=300, temperature=1.0, seed=seed)
                for model, seed in (("shakespeare-gru", 1), ("shakespeare-gru", 2), ("shakespeare-lstm", 3))]
    alone = [engine.generate(request).text for request in requests]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda request: engine.generate(request).text, requests * 2))
    assert together == alone * 2
    assert engine._working == 0


def test_the_sampler_shares_the_embedding_and_keeps_no_table_of_every_token(pair):
    """The first layer's input is the token's embedding times its kernel, in the NumPy step and the sampler
    alike: the embedding is held once, and no (vocab, gates × units) table is built (18-25 MB a model)."""
    model, numpy_model, sampler, _ = pair
    assert sampler.embedding is numpy_model.embedding
    config = numpy_model.config
    columns = compiled_rnn.GATES[config.cell] * config.units
    tables = {(config.vocab_size, columns), (compiled_rnn.HALVES, config.vocab_size, columns // compiled_rnn.HALVES)}
    shapes = [value.shape for holder in (vars(sampler), *map(vars, numpy_model.layers), vars(numpy_model))
              for value in holder.values() if isinstance(value, np.ndarray)]
    assert len(shapes) > 10 and not tables & set(shapes)


def test_no_process_is_started_to_fill_a_cache_that_already_holds_the_sampler(monkeypatch):
    compiled_rnn.precompile()  # the cache now holds it, as after any earlier start
    assert compiled_rnn.cache_holds_the_sampler()
    started = []
    monkeypatch.setattr(compiled_rnn, "_precompiling", None)
    monkeypatch.setattr(compiled_rnn.subprocess, "Popen", lambda *args, **kwargs: started.append(args) or "process")
    compiled_rnn.start_precompiling()
    assert started == [] and compiled_rnn._precompiling is None
    monkeypatch.setattr(compiled_rnn, "cache_holds_the_sampler", lambda: False)  # a fresh machine, an edited source
    compiled_rnn.start_precompiling()
    assert len(started) == 1 and compiled_rnn._precompiling == "process"
