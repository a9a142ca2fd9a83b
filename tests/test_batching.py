"""Batched decoding: streams decoded together give the texts they give alone, and one stream's end,
deadline or error never stops the others."""
import threading

import numpy as np
import pytest

from rnn_demo.config import LanguageModelConfig
from rnn_demo.decoding import StopReason
from rnn_demo.models import compiled_rnn
from rnn_demo.models.numpy_step import NumpyLanguageModel
from rnn_demo.serving.batching import BatchDecoder

pytestmark = pytest.mark.skipif(not compiled_rnn.supports(LanguageModelConfig(cell="gru", units=2)),
                                reason="Numba is not installed")

PROMPT = (1, 7, 42)
DEADLINE_S = 60.0
# (seed, temperature, max tokens): greedy and sampled, blocks cut short and whole.
SETTINGS = [(0, 0.8, 70), (1, 0.0, 3), (2, 1.3, 40), (3, 0.5, 100), (4, 0.8, 36), (5, 0.0, 50), (6, 2.0, 5),
            (7, 1.0, 64)]


def _weights(config: LanguageModelConfig) -> dict[str, np.ndarray]:
    """Random weights by name, large enough to matter, matrices rounded to float16 values (as shipped)."""
    noise = np.random.default_rng(0)
    gates = {"gru": 3, "lstm": 4}[config.cell] * config.units
    shapes = {"embedding/embeddings": (config.vocab_size, config.embedding_dim),
              "bottleneck/kernel": (config.num_layers * config.units, config.projection_rank),
              "projection/kernel": (config.projection_rank, config.vocab_size),
              "projection/bias": (config.vocab_size,)}
    for index in range(config.num_layers):
        prefix = f"rnn_{index}/{config.cell}_cell"
        shapes[f"{prefix}/kernel"] = (config.embedding_dim if index == 0 else config.units, gates)
        shapes[f"{prefix}/recurrent_kernel"] = (config.units, gates)
        shapes[f"{prefix}/bias"] = (2, gates) if config.cell == "gru" else (gates,)
    weights = {name: noise.normal(0.0, 0.5, shape).astype(np.float32) for name, shape in shapes.items()}
    return {name: value.astype(np.float16).astype(np.float32) if value.ndim == 2 and "embedding" not in name
            else value for name, value in weights.items()}


@pytest.fixture(scope="module", params=["gru", "lstm"])
def model(request):
    config = LanguageModelConfig(cell=request.param, vocab_size=301, embedding_dim=24, units=40, num_layers=2,
                                 projection_rank=16)
    numpy_model = NumpyLanguageModel(config, _weights(config))
    sampler = compiled_rnn.CompiledSampler(numpy_model)
    assert sampler.half_precision
    sampler.warm_up()  # compiled before any deadline runs
    return numpy_model, sampler


def _stream(decoder, numpy_model, seed, temperature, max_tokens, *, deadline_s=DEADLINE_S, rng=None, stop=None):
    return decoder.stream(numpy_model.step, numpy_model.initial_state(), PROMPT, temperature=temperature,
                          rng=rng if rng is not None else np.random.default_rng(seed), max_new_tokens=max_tokens,
                          deadline_s=deadline_s, stop=stop)


def _run(decoder, numpy_model, settings, **options):
    stop = StopReason("unset")
    tokens = [event.token for event in _stream(decoder, numpy_model, *settings, stop=stop, **options)]
    return tokens, stop.reason


def _at_once(jobs):
    """Runs each job in its own thread, all released together; returns their results (or errors) in order."""
    start = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def work(index, job):
        start.wait()
        try:
            results[index] = job()
        except Exception as error:  # noqa: BLE001 -- the test looks at which job failed, and how
            results[index] = error

    threads = [threading.Thread(target=work, args=item) for item in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_S)
    return results


class _Recorder:
    """Counts the rows of each batched call of a sampler, and keeps each call's tokens a row."""

    def __init__(self, sampler, monkeypatch):
        self.batches, self.counts = [], []
        original = sampler.sample_rows

        def sample_rows(logits, hidden, cells, counts, *args, **kwargs):
            self.batches.append(len(logits))
            self.counts.append(list(counts))
            return original(logits, hidden, cells, counts, *args, **kwargs)

        monkeypatch.setattr(sampler, "sample_rows", sample_rows)


def _assert_idle(decoder):
    """Every stream gone: the decoder holds nothing of them."""
    for _ in range(200):
        if decoder.streams == 0:
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"{decoder.streams} streams still held")


def test_alone_and_eight_at_once_give_the_same_texts(model, monkeypatch):
    numpy_model, sampler = model
    decoder = BatchDecoder(sampler)
    alone = [_run(decoder, numpy_model, settings) for settings in SETTINGS]
    assert [len(tokens) for tokens, _ in alone] == [max_tokens for _, _, max_tokens in SETTINGS]
    assert {reason for _, reason in alone} == {"max_tokens"}
    recorder = _Recorder(sampler, monkeypatch)
    together = _at_once([lambda settings=settings: _run(decoder, numpy_model, settings) for settings in SETTINGS])
    assert together == alone
    assert max(recorder.batches) > 1  # they did share steps
    _assert_idle(decoder)


def test_the_same_as_the_compiled_sampler_block_by_block(model):
    """A stream of the decoder draws what `decoding.stream` draws with the sampler's blocks on its own."""
    from rnn_demo.decoding import stream
    from rnn_demo.sampling import Sampler, SamplingSettings

    numpy_model, sampler = model
    for seed, temperature, max_tokens in SETTINGS[:3]:
        choose = Sampler(SamplingSettings(temperature), seed=seed)

        def draw_block(logits, state, count, choose=choose, temperature=temperature):
            uniforms = None if temperature == 0 else choose.rng.random(count)
            tokens, after, state = sampler.sample(logits, state, count, uniforms, temperature, threads=2)
            return tokens.tolist(), after, state

        solo = [event.token for event in stream(numpy_model.step, numpy_model.initial_state(), PROMPT, choose=choose,
                                                max_new_tokens=max_tokens, deadline_s=DEADLINE_S,
                                                draw_block=draw_block)]
        assert solo == _run(BatchDecoder(sampler), numpy_model, (seed, temperature, max_tokens))[0]


def test_a_stream_closed_midway_leaves_and_the_others_go_on(model):
    numpy_model, sampler = model
    decoder = BatchDecoder(sampler)
    alone = [_run(decoder, numpy_model, settings) for settings in SETTINGS[:4]]
    left = threading.Event()

    def leaver():
        events = _stream(decoder, numpy_model, 9, 0.8, 1_000)
        taken = [next(events).token for _ in range(10)]
        events.close()  # the client left
        left.set()
        return taken

    results = _at_once([leaver] + [lambda settings=settings: _run(decoder, numpy_model, settings)
                                   for settings in SETTINGS[:4]])
    assert left.is_set() and len(results[0]) == 10
    assert results[1:] == alone
    _assert_idle(decoder)


def test_a_deadline_in_one_stream_ends_it_alone(model):
    numpy_model, sampler = model
    decoder = BatchDecoder(sampler)
    alone = [_run(decoder, numpy_model, settings) for settings in SETTINGS[:4]]
    late = lambda: _run(decoder, numpy_model, (9, 0.8, 500), deadline_s=0.0)  # noqa: E731 -- over before it starts
    results = _at_once([late] + [lambda settings=settings: _run(decoder, numpy_model, settings)
                                 for settings in SETTINGS[:4]])
    assert results[0] == ([], "deadline")
    assert results[1:] == alone
    _assert_idle(decoder)


class _FailingRandom:
    """A stream's random numbers that fail after a few blocks."""

    def __init__(self, blocks: int):
        self.rng, self.blocks = np.random.default_rng(0), blocks

    def random(self, count):
        self.blocks -= 1
        if self.blocks < 0:
            raise ValueError("this stream's numbers ran out")
        return self.rng.random(count)


def test_an_error_in_one_stream_is_raised_there_and_the_others_go_on(model):
    numpy_model, sampler = model
    decoder = BatchDecoder(sampler)
    alone = [_run(decoder, numpy_model, settings) for settings in SETTINGS[:4]]
    failing = lambda: _run(decoder, numpy_model, (0, 0.8, 500), rng=_FailingRandom(2))  # noqa: E731
    results = _at_once([failing] + [lambda settings=settings: _run(decoder, numpy_model, settings)
                                    for settings in SETTINGS[:4]])
    assert isinstance(results[0], ValueError) and "ran out" in str(results[0])
    assert results[1:] == alone
    _assert_idle(decoder)
    assert _run(decoder, numpy_model, SETTINGS[0]) == alone[0]  # and the decoder still serves


def test_streams_that_start_together_take_their_first_blocks_together(model, monkeypatch):
    """While a stream takes its short first block, so does every stream beside it (a call lasts as long as
    its longest block), and the texts are still those drawn alone."""
    from rnn_demo.decoding import BLOCK_TOKENS, FIRST_BLOCK_TOKENS

    numpy_model, sampler = model
    decoder = BatchDecoder(sampler)
    alone = [_run(decoder, numpy_model, settings) for settings in SETTINGS]
    recorder = _Recorder(sampler, monkeypatch)
    first_of = {}
    original = decoder._counted

    def counted(rows, **options):  # which rows of each call are at their first block
        first_of[len(recorder.counts)] = [row.produced == 0 for row in rows if row.produced < row.max_new_tokens]
        return original(rows, **options)

    monkeypatch.setattr(decoder, "_counted", counted)
    together = _at_once([lambda settings=settings: _run(decoder, numpy_model, settings) for settings in SETTINGS])
    assert together == alone
    for index, counts in enumerate(recorder.counts):  # a call's first block: first_of[index]
        assert max(counts) <= (FIRST_BLOCK_TOKENS if any(first_of[index]) else BLOCK_TOKENS)


def test_the_decoder_waits_for_a_stream_still_feeding_its_prompt(model, monkeypatch):
    """A stream that joins while another is still feeding its prompt (prompts are fed one at a time) does not
    start alone: the first call takes both (the wait is bounded; long here)."""
    from rnn_demo.serving import batching

    numpy_model, sampler = model
    monkeypatch.setattr(batching, "ARRIVAL_WAIT_S", 30.0)
    decoder = BatchDecoder(sampler)
    recorder = _Recorder(sampler, monkeypatch)
    feeding, release = threading.Event(), threading.Event()

    def held_step(tokens, state):
        feeding.set()
        release.wait(DEADLINE_S)
        return numpy_model.step(tokens, state)

    first = threading.Thread(target=lambda: list(decoder.stream(
        held_step, numpy_model.initial_state(), PROMPT, temperature=0.8, rng=np.random.default_rng(1),
        max_new_tokens=10, deadline_s=DEADLINE_S)))
    first.start()
    assert feeding.wait(DEADLINE_S)
    second = threading.Thread(target=lambda: _run(decoder, numpy_model, (2, 0.8, 10)))
    second.start()
    for _ in range(500):  # the second is arriving: waiting to feed its prompt
        if decoder._arriving == 2:
            break
        threading.Event().wait(0.01)
    assert decoder._arriving == 2
    release.set()  # the first joins; the decoder waits for the second rather than starting without it
    first.join(DEADLINE_S)
    second.join(DEADLINE_S)
    assert recorder.batches[0] == 2
    assert decoder._arriving == 0


def test_a_prompt_that_fails_leaves_no_stream_arriving(model):
    numpy_model, sampler = model
    decoder = BatchDecoder(sampler)

    def failing(tokens, state):
        raise ValueError("no prompt")

    with pytest.raises(ValueError, match="no prompt"):
        list(decoder.stream(failing, numpy_model.initial_state(), PROMPT, temperature=0.8,
                            rng=np.random.default_rng(0), max_new_tokens=5, deadline_s=DEADLINE_S))
    assert decoder._arriving == 0
    assert len(_run(decoder, numpy_model, SETTINGS[0])[0]) == SETTINGS[0][2]


def test_a_slow_reader_does_not_hold_up_the_others(model):
    """A reader that takes nothing for a while sits out; the others finish meanwhile."""
    numpy_model, sampler = model
    decoder = BatchDecoder(sampler)
    alone = _run(decoder, numpy_model, SETTINGS[3])
    slow = _stream(decoder, numpy_model, 0, 0.8, 1_000)
    first = next(slow)  # joined; then reads nothing more
    assert _run(decoder, numpy_model, SETTINGS[3]) == alone
    rest = [event.token for event in slow]
    assert len(rest) == 999 and first is not None
    _assert_idle(decoder)


@pytest.mark.parametrize("settings, most", [(dict(temperature=0.8), 4), (dict(top_k=5), 2)], ids=["batched", "solo"])
def test_streams_the_decoder_cannot_batch_run_one_per_core(quick_assets, monkeypatch, settings, most):
    """The page lets 16 streams run; those outside the batched decoder (top-k here) take a core each, two at most."""
    import time

    from rnn_demo.serving import Engine, GenerationRequest, engine as engine_module, generation

    engine = Engine(quick_assets)
    engine.language_model("shakespeare-gru")
    inside, peak, lock = [0], [0], threading.Lock()

    def counted(*args, **kwargs):
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        try:
            time.sleep(0.3)  # long enough for every thread to try to enter at once
            yield from ()
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(generation, "stream", counted)
    request = GenerationRequest(prompt="ROMEO:", max_tokens=5, seed=1, **settings)
    threads = [threading.Thread(target=lambda: list(engine.stream(request))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == most and engine_module.SOLO_STREAMS == 2
