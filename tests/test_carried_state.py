"""Language models trained with the state carried between windows (`--window-state carried`)."""
from pathlib import Path

import keras
import numpy as np
import pytest

from rnn_demo.__main__ import main
from rnn_demo.config import LanguageModelConfig, TrainingConfig
from rnn_demo.data.datasets import language_model_lanes
from rnn_demo.models.language_model import build_language_model
from rnn_demo.training.language_model import CarriedStateModel, compile_language_model

SHIPPED_TOKENIZER = Path(__file__).resolve().parents[1] / "assets" / "tokenizer.model"
STREAM = np.arange(1, 1 + 4 * 5 * 8 + 7, dtype=np.int32)  # 4 lanes of 5 windows of 8 tokens, and a few left over


def _batches(dataset, count):
    return [(inputs.numpy(), fresh.numpy(), targets.numpy()) for (inputs, fresh), targets in dataset.take(count)]


def test_each_row_continues_the_row_above_it_in_the_batch_before():
    batches = _batches(language_model_lanes(STREAM, seq_len=8, batch_size=4, shuffle=False), 100)
    assert len(batches) == 5  # one pass: (167 - 1) // (4 · 8) batches
    lanes = np.concatenate([inputs for inputs, _, _ in batches], axis=1)  # (4, 40)
    np.testing.assert_array_equal(lanes.ravel(), STREAM[:160])  # lane b is the b-th quarter of the text, in order
    for (inputs, _, targets), (after, _, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(targets[:, :-1], inputs[:, 1:])  # targets: the next token
        np.testing.assert_array_equal(targets[:, -1], after[:, 0])  # the next batch goes on where this one ended
    assert batches[0][1].tolist() == [1.0] * 4 and all(not fresh.any() for _, fresh, _ in batches[1:])


def test_training_passes_go_on_from_moved_offsets_and_restart_rows_at_the_share_asked():
    batches = _batches(language_model_lanes(STREAM, seq_len=8, batch_size=4, shuffle=True, seed=3,
                                            reset_share=0.5), 40)
    assert len(batches) == 40  # passes without end
    starts = [index for index, (inputs, _, _) in enumerate(batches) if inputs[0, 0] <= 8]  # lane 0 at the text's head
    assert len(starts) >= 8 and all(batches[index][1].all() for index in starts)  # a pass starts every row afresh
    assert len({batches[index][0][0, 0] for index in starts}) > 1  # each pass from its own offset below seq_len
    restarted = np.concatenate([fresh for index, (_, fresh, _) in enumerate(batches) if index not in starts])
    assert 0.25 < restarted.mean() < 0.75
    never = _batches(language_model_lanes(STREAM, seq_len=8, batch_size=4, shuffle=True, seed=3), 12)
    assert sum(fresh.any() for _, fresh, _ in never) == 3  # only at the start of each pass (4 or 5 batches each)


def test_a_text_too_short_for_the_lanes_is_refused():
    with pytest.raises(ValueError, match="too short for 4 lanes of 64 tokens"):
        language_model_lanes(STREAM, seq_len=64, batch_size=4, shuffle=False)


@pytest.fixture(scope="module")
def carried_model():
    keras.utils.set_random_seed(0)
    config = LanguageModelConfig(vocab_size=200, embedding_dim=8, units=12, num_layers=2, cell="lstm", dropout=0.0)
    model = build_language_model(config, CarriedStateModel).carry_states(4)
    compile_language_model(model, TrainingConfig())
    return model


def test_validation_carries_the_state_through_each_lane_as_one_pass_over_it_would(carried_model):
    loss = carried_model.evaluate(language_model_lanes(STREAM, seq_len=8, batch_size=4, shuffle=False), verbose=0)
    plain = build_language_model(carried_model.config)
    plain.set_weights(carried_model.get_weights())  # the same weights, in the same order: no carried state among them
    lanes = STREAM[:161]
    logits = plain(lanes[:-1].reshape(4, 40))  # each lane read in one call, from a zero state
    whole = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(lanes[1:].reshape(4, 40), logits)
    assert loss == pytest.approx(float(whole), rel=1e-5)
    windows = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
        lanes[1:].reshape(20, 8), plain(lanes[:-1].reshape(20, 8)))  # every window from a zero state instead
    assert abs(float(windows) - float(whole)) > 1e-4  # so the state did matter to the figure compared


def test_training_carries_the_state_and_lowers_the_loss(carried_model):
    lanes = language_model_lanes(STREAM, seq_len=8, batch_size=4, shuffle=True, seed=1, reset_share=0.0)
    history = carried_model.fit(lanes, epochs=6, steps_per_epoch=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    state = [np.asarray(part) for layer in carried_model._carried["train"] for part in layer]
    assert all(part.shape == (4, 12) and np.abs(part).sum() > 0 for part in state)  # what the next batch starts from


def test_the_cli_trains_a_carried_model_that_loads_as_any_other(tmp_path, tokenizer):
    code = main(["train", "shakespeare", "--quick", "--window-state", "carried", "--tokenizer", str(SHIPPED_TOKENIZER),
                 "--out", str(tmp_path)])
    assert code == 0
    from rnn_demo import checkpoints

    meta = checkpoints.read_meta(tmp_path / "shakespeare-gru")
    assert meta["training"]["window_state"] == "carried"
    assert np.isfinite(meta["metrics"]["bits_per_char"])
    checkpoints.load_checkpoint(tmp_path / "shakespeare-gru", tokenizer, family="language_model")


def test_the_cli_refuses_carried_windows_where_they_would_be_ignored(tmp_path, capsys):
    assert main(["train", "chatbot", "--quick", "--window-state", "carried", "--out", str(tmp_path)]) == 2
    assert "--window-state trains the language models (shakespeare) only" in capsys.readouterr().err
    assert main(["train", "shakespeare", "--quick", "--window-state", "carried", "--strategy", "mirrored",
                 "--out", str(tmp_path)]) == 2
    assert "cannot be combined with --strategy" in capsys.readouterr().err
    with pytest.raises(ValueError, match="window_state must be one of zero, carried"):
        TrainingConfig(window_state="kept")
