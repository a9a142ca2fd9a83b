"""Dynamic evaluation (`evaluate shakespeare --dynamic-lr`): the model learns from a text as it reads it."""
import pytest

from rnn_demo import evaluation
from rnn_demo.serving import Engine

VERSE = ("ORSINO:\nIf music be the food of love, play on;\nGive me excess of it, that, surfeiting,\n"
         "The appetite may sicken, and so die.\n")


@pytest.fixture(scope="module")
def model_and_tokenizer(quick_assets):
    engine = Engine(quick_assets)
    return engine.language_model("shakespeare-gru").model, engine.tokenizer


def test_a_step_too_small_to_matter_gives_the_static_figure(model_and_tokenizer):
    # Every token is scored before the model learns from it: with no learning, the figure is the static one.
    model, tokenizer = model_and_tokenizer
    static = evaluation.bits_per_char(model, tokenizer, [VERSE * 3])
    dynamic = evaluation.dynamic_bits_per_char(model, tokenizer, [VERSE * 3], learning_rate=1e-12)
    assert dynamic["bits_per_char"] == pytest.approx(static["bits_per_char"], rel=1e-4)
    assert dynamic["tokens"] == static["tokens"] and dynamic["chars"] == static["chars"]


def test_the_model_learns_a_text_it_reads_again_and_its_weights_come_back(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    before = [variable.numpy().copy() for variable in model.trainable_variables]
    text = VERSE * 8  # the same speech again and again: a model that adapts predicts the repeats better
    static = evaluation.bits_per_char(model, tokenizer, [text])["bits_per_char"]
    dynamic = evaluation.dynamic_bits_per_char(model, tokenizer, [text, VERSE], learning_rate=0.5, segment_tokens=16)
    assert dynamic["per_text"][0] < 0.9 * static  # the quick model: 3.12 bits/char static, 2.64 dynamic
    # Each text starts again from the checkpoint's weights, and they are the checkpoint's afterwards.
    assert dynamic["per_text"][1] == pytest.approx(evaluation.bits_per_char(model, tokenizer, [VERSE])["bits_per_char"],
                                                   rel=0.05)
    for variable, value in zip(model.trainable_variables, before):
        assert (variable.numpy() == value).all()


def test_each_token_scored_alone_adds_up_to_the_texts_bits(model_and_tokenizer):
    """`token_log_likelihoods` (what benchmarks/lm_mixtures.py mixes) is `text_bits` token by token: the same
    state carried through the text, across chunk boundaries too, and one value a token after BOS."""
    import math

    import numpy as np

    model, tokenizer = model_and_tokenizer
    text = VERSE * 3
    bits, tokens = evaluation.text_bits(model, tokenizer, text)
    ids, log_p = evaluation.token_log_likelihoods(model, tokenizer, text, chunk_tokens=7)
    assert len(log_p) == tokens == len(ids) - 1 and (log_p < 0).all()
    assert -log_p.sum() / math.log(2) == pytest.approx(bits, rel=1e-5)
    whole = evaluation.token_log_likelihoods(model, tokenizer, text)[1]
    np.testing.assert_allclose(log_p, whole, atol=1e-4)
