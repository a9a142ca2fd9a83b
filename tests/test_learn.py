"""The Learn tab's models and studies: data generated in code, NumPy twins equal to Keras, the quick training
run's files and held-out figures, and the tab's handlers (which import no TensorFlow)."""
import json
import pathlib
import shutil

import numpy as np
import pytest

from rnn_demo.learn import copy_task, genres, hidden, scenes
from rnn_demo.learn.config import COPY_CELLS, CaptionConfig, CopyConfig, GenreConfig

LEARN_MODELS = ("learn-caption", "learn-genre-gru", "learn-genre-bag",
                *(f"learn-copy-{cell}" for cell in COPY_CELLS))


def test_scenes_are_drawn_from_the_seed_and_captioned_by_their_content():
    first, second = scenes.dataset(20, 7, 12), scenes.dataset(20, 7, 12)
    assert np.array_equal(first[0], second[0]) and first[3] == second[3]
    rng = np.random.default_rng(0)
    scene = scenes.Scene((scenes.Thing("square", "green"),), place="left")
    image = scenes.draw(scene, rng)
    green = (image[:, :, 1] > 0.5) & (image[:, :, 0] < 0.5)
    assert green[:, :16].sum() > 20 and green[:, 16:].sum() == 0  # drawn on the left only
    assert scene.caption() == "a green square at the left"
    source, target = scenes.encode_caption(scene.caption(), 12)
    assert source[0] == scenes.WORD_ID[scenes.START] and list(target[:7]) == [*source[1:7], scenes.WORD_ID[scenes.END]]
    with pytest.raises(ValueError, match="colours"):
        scenes.check_scene(scenes.Scene((scenes.Thing("square", "mauve"),), place="left"))


def test_every_play_has_a_genre_and_held_out_plays_cover_all_three(tokenizer):
    from rnn_demo.data import corpora

    assert {play.name for play in corpora.plays()} == set(genres.GENRE_OF)
    assert {genres.genre_of(play) for play in genres.HELD_OUT_PLAYS} == set(genres.GENRES)
    held_out = genres.speeches("validation", tokenizer, 16, limit=50)
    assert set(held_out.plays) <= set(genres.HELD_OUT_PLAYS) and held_out.ids.shape == (50, 16)


def test_copy_task_marks_the_symbol_n_steps_back():
    config = CopyConfig(symbols=4, max_distance=6)
    inputs, targets, distances = copy_task.batch(config, np.random.default_rng(1), 30)
    for row, target, distance in zip(inputs, targets, distances):
        marked = np.flatnonzero(row[:, -1])
        assert list(marked) == [len(row) - 1 - distance] and row[marked[0], target] == 1
    with pytest.raises(ValueError, match="between 1 and"):
        copy_task.check_distance(copy_task.MAX_PAGE_DISTANCE + 1)


def _keras_and_twin(build, twin_class, config):
    from rnn_demo.models.weights import named

    model = build(config)
    return model, twin_class(config, named(model))


def test_caption_twin_equals_keras():
    from rnn_demo.learn.numpy_models import NumpyCaptioner
    from rnn_demo.models.learn_models import build_caption_model

    model, twin = _keras_and_twin(build_caption_model, NumpyCaptioner, CaptionConfig())
    images, words, _, _ = scenes.dataset(3, 2, CaptionConfig.max_words)
    expected = np.asarray(model([images, words]))
    for image, row, logits in zip(images, words, expected):
        np.testing.assert_allclose(twin.logits(image, row), logits, atol=1e-4)


@pytest.mark.parametrize("kind", ["gru", "bag"])
def test_genre_twin_equals_keras_on_padded_speeches(kind):
    from rnn_demo.learn.numpy_models import NumpyGenreClassifier
    from rnn_demo.models.learn_models import build_genre_model

    model, twin = _keras_and_twin(build_genre_model, NumpyGenreClassifier, GenreConfig(kind=kind, vocab_size=50))
    rows = genres.pad([list(range(1, 12)), [5, 9, 3]], GenreConfig.max_tokens)
    expected = np.asarray(model(rows))
    for row, logits in zip(rows, expected):
        np.testing.assert_allclose(twin.logits(row), logits, atol=1e-5)


@pytest.mark.parametrize("cell", COPY_CELLS)
def test_copy_twin_and_its_gradients_equal_keras(cell):
    """The NumPy backpropagation through time gives TensorFlow's ‖∂L/∂h_t‖ at every step."""
    import keras
    import tensorflow as tf

    from rnn_demo.learn.numpy_models import NumpyCopyNet
    from rnn_demo.models.learn_models import build_copy_model

    config = CopyConfig(cell=cell, max_distance=5)
    model, twin = _keras_and_twin(build_copy_model, NumpyCopyNet, config)
    inputs, targets, _ = copy_task.batch(config, np.random.default_rng(3), 4)
    np.testing.assert_allclose(twin.forward(inputs)[0], np.asarray(model(inputs)), atol=1e-5)
    rnn, readout = model.get_layer("rnn"), model.get_layer("readout")
    units = config.copy_units
    with tf.GradientTape() as tape:
        state = [tf.zeros((4, units))] * (2 if cell == "lstm" else 1)
        hs = []
        for t in range(inputs.shape[1]):
            tape.watch(state[0])
            hs.append(state[0])
            _, state = rnn.cell(inputs[:, t], state if cell == "lstm" else state[0])
            state = list(state) if isinstance(state, (list, tuple)) else [state]
        loss = keras.losses.sparse_categorical_crossentropy(targets, readout(state[0]), from_logits=True)
        loss = tf.reduce_sum(loss)
    grads = tape.gradient(loss, hs[1:] + [state[0]])
    expected = [float(tf.reduce_mean(tf.norm(g, axis=1))) for g in grads]
    np.testing.assert_allclose(twin.state_gradient_norms(inputs, targets), expected, rtol=1e-4, atol=1e-7)


def test_unit_correlation_finds_a_unit_made_to_follow_a_feature():
    feature = np.array([0, 1, 0, 0, 1, 1, 0, 1], np.float32)
    states = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    states[3] = feature * 2 - 1
    r = hidden.correlations(states, feature)
    assert int(np.argmax(np.abs(r))) == 3 and r[3] == pytest.approx(1.0)


def test_quick_training_writes_every_model_and_both_studies(learn_assets, tokenizer):
    from rnn_demo.learn.store import CHOICES_FILE, COPY_FILE, load_twin

    for name in LEARN_MODELS:
        twin, meta = load_twin(learn_assets / name, tokenizer)
        assert meta["metrics"] and meta["command"].startswith("python -m rnn_demo train learn")
    genre = json.loads((learn_assets / "learn-genre-gru" / "config.json").read_text())["metrics"]
    assert 0 <= genre["accuracy"] <= 1 and set(genre["plays"]) == set(genres.HELD_OUT_PLAYS)
    study = json.loads((learn_assets / "learn" / COPY_FILE).read_text())
    assert set(study["cells"]) == set(COPY_CELLS) and "train learn" in study["command"]
    for cell in study["cells"].values():
        assert len(cell["accuracy_by_distance"]) == study["max_distance"]
        assert len(cell["gradient_norms_trained"]) == study["max_distance"] + 1
    choices = json.loads((learn_assets / "learn" / CHOICES_FILE).read_text())
    assert {"SGD", "Adam"} <= set(choices["runs"])


def test_tab_handlers_serve_without_tensorflow(learn_assets):
    """Run in a fresh process: the handlers' answers, and no TensorFlow imported on the way."""
    import subprocess
    import sys

    script = f"""
import sys, pathlib
from rnn_demo.serving import Engine
from rnn_demo.learn.store import LearnModels
from rnn_demo.ui.tabs import learn
models = LearnModels(Engine(pathlib.Path({str(learn_assets)!r})))
frames = list(learn._make_caption(models, random_scene=False)("circle", "red", "top", "none", "blue", "above", 1))
assert frames[0][0].shape == (192, 192, 3)
gru, bag, note = learn._make_genre(models)(learn.SPEECH)
assert abs(sum(gru.values()) - 1) < 1e-3 and "held-out accuracy" in note
assert "<svg" in learn._make_recompute(models)(5)
assert "<svg" in learn._make_copy_study(models)()[0] and "<svg" in learn._make_choices(models)()[1]
assert learn._make_neighbours(models)("king").count("<tr>") == 1 + 10
print("tensorflow" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


def test_the_neighbours_table_escapes_pieces_and_speaks_the_visitors_language():
    from rnn_demo.ui.tabs import learn

    english = learn.neighbours_table([(" king", 0.81234), ("<b>", -0.5)], "en")
    assert "<th>piece</th><th>cosine</th>" in english
    assert '<td class="piece"> king</td><td>0.812</td>' in english  # the leading space kept (shown by CSS)
    assert "&lt;b&gt;" in english and "<b>" not in english and "-0.500" in english
    assert "<th>余弦相似度</th>" in learn.neighbours_table([], "zh-CN")


@pytest.fixture(scope="module")
def measured_roles(quick_assets, tmp_path_factory):
    """A folder with the quick GRU language model and `train learn --part roles` run on it."""
    from rnn_demo.__main__ import main
    from rnn_demo.models import registry

    assets = tmp_path_factory.mktemp("roles-assets")
    shutil.copy(quick_assets / "tokenizer.model", assets / "tokenizer.model")
    shutil.copytree(quick_assets / registry.DEFAULT_LANGUAGE_MODEL, assets / registry.DEFAULT_LANGUAGE_MODEL)
    assert main(["train", "learn", "--part", "roles", "--quick", "--out", str(assets)]) == 0
    return assets


def test_the_roles_part_stores_the_roles_of_the_weights_it_measured(measured_roles):
    from rnn_demo import checkpoints
    from rnn_demo.learn.store import ROLES_FILE
    from rnn_demo.models import registry
    from rnn_demo.serving import Engine

    stored = json.loads((measured_roles / "learn" / ROLES_FILE).read_text())
    meta = checkpoints.read_meta(measured_roles / registry.DEFAULT_LANGUAGE_MODEL)
    assert hidden.measured_on(stored, meta) and "train learn --part roles" in stored["command"]
    engine = Engine(measured_roles)
    again = hidden.unit_roles(engine.language_model(registry.DEFAULT_LANGUAGE_MODEL).numpy_model, engine.tokenizer)
    assert stored["roles"] == {feature: [list(pair) for pair in units] for feature, units in again["roles"].items()}
    assert stored["tokens"] == again["tokens"] > 1000


def test_unroll_reads_the_stored_roles_and_measures_them_for_other_weights(measured_roles, monkeypatch, tmp_path):
    from rnn_demo.learn.store import ROLES_FILE, LearnModels
    from rnn_demo.serving import Engine
    from rnn_demo.ui.tabs import learn

    measured = []
    monkeypatch.setattr(hidden, "unit_roles", lambda model, tokenizer: measured.append(1) or {"measured": True})
    models = LearnModels(Engine(measured_roles))
    assert "roles" in learn._unit_roles(models, None) and measured == []  # read, not measured
    shutil.copytree(measured_roles, tmp_path / "assets")
    stored = json.loads((tmp_path / "assets" / "learn" / ROLES_FILE).read_text())
    stored["files"] = {"model.safetensors": "0" * 64}  # roles of other weights
    (tmp_path / "assets" / "learn" / ROLES_FILE).write_text(json.dumps(stored))
    assert learn._unit_roles(LearnModels(Engine(tmp_path / "assets")), None) == {"measured": True}
    (tmp_path / "assets" / "learn" / ROLES_FILE).unlink()  # none stored: measured too
    assert learn._unit_roles(LearnModels(Engine(tmp_path / "assets")), None) == {"measured": True}
    assert len(measured) == 2


def test_the_shipped_roles_are_those_of_the_shipped_weights():
    from rnn_demo import checkpoints
    from rnn_demo.learn.store import DATA_FOLDER, ROLES_FILE
    from rnn_demo.models import registry

    assets = pathlib.Path(__file__).resolve().parent.parent / "assets"
    stored = json.loads((assets / DATA_FOLDER / ROLES_FILE).read_text())
    assert hidden.measured_on(stored, checkpoints.read_meta(assets / registry.DEFAULT_LANGUAGE_MODEL))
