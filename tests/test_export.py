"""`python -m rnn_demo export`: the SavedModel and the `.keras` bundle of a shipped language model, reloaded
with TensorFlow and SentencePiece alone (no code of this package), write the app's greedy text."""
import json
from pathlib import Path

import numpy as np
import pytest
import sentencepiece as spm

from rnn_demo.__main__ import main

ASSETS = Path(__file__).resolve().parent.parent / "assets"
PROMPT = "ROMEO:\nBut soft, what light"
TOKENS = 40
BOS_ID = 2  # what export.json says; read from there below, pinned here as the app's own start token


@pytest.fixture(scope="module")
def app_greedy():
    """The app's greedy text for PROMPT, by model name (the serving engine, as the page and API run it)."""
    from rnn_demo.serving import Engine, GenerationRequest

    engine = Engine(ASSETS)

    def greedy(model: str) -> str:
        request = GenerationRequest(PROMPT, model=model, max_tokens=TOKENS, temperature=0.0)
        return engine.generate(request).text

    return greedy


def export(model: str, export_format: str, out: Path) -> None:
    assert main(["export", "--model", model, "--format", export_format, "--assets", str(ASSETS), str(out),
                 "--json"]) == 0


def greedy_by_steps(step, description: dict, prompt_ids: list[int], count: int) -> list[int]:
    """Greedy decoding as a TensorFlow Serving client would do it over the stateless step: the state goes
    out with each answer and comes back with the next request.

    Args:
        step: (tokens (1, time) int32, {state name: (1, units)}) -> (logits (1, vocab) of the last position,
            {state name: (1, units)}).
        description: the export's export.json.
        prompt_ids: the prompt's ids, without the start token.
        count: tokens to generate.
    """
    assert description["bos_id"] == BOS_ID
    states = {name: np.zeros((1, description["units"]), np.float32) for name in description["state_names"]}
    tokens, chosen = [description["bos_id"], *prompt_ids], []
    for _ in range(count):
        logits, states = step(np.asarray([tokens], np.int32), states)
        tokens = [int(np.argmax(logits[0]))]
        chosen.append(tokens[0])
    return chosen


def test_savedmodel_signatures_write_the_apps_greedy_text(tmp_path, app_greedy):
    import tensorflow as tf

    out = tmp_path / "shakespeare-gru" / "1"  # TensorFlow Serving's <base>/<model>/<version>
    export("shakespeare-gru", "savedmodel", out)
    description = json.loads((out / "assets.extra" / "export.json").read_text())
    tokenizer = spm.SentencePieceProcessor(model_file=str(out / "assets.extra" / "tokenizer.model"))
    prompt_ids = tokenizer.encode(PROMPT)
    loaded = tf.saved_model.load(str(out))
    assert set(loaded.signatures) == {"generate", "step", "serving_default"}

    def generate(max_tokens, temperature, seed, signature="generate"):
        return loaded.signatures[signature](
            prompt_ids=tf.constant(prompt_ids, tf.int32), max_tokens=tf.constant(max_tokens, tf.int32),
            temperature=tf.constant(temperature, tf.float32), seed=tf.constant(seed, tf.int64))["ids"].numpy().tolist()

    greedy = generate(TOKENS, 0.0, 1)
    assert len(greedy) == TOKENS
    expected = app_greedy("shakespeare-gru")
    assert PROMPT + tokenizer.decode(greedy) == expected
    assert generate(TOKENS, 0.0, 99) == greedy  # the seed does not matter when greedy
    assert generate(TOKENS, 0.0, 1, signature="serving_default") == greedy
    sampled = generate(TOKENS, 1.0, 7)
    assert generate(TOKENS, 1.0, 7) == sampled and generate(TOKENS, 1.0, 8) != sampled
    assert len(generate(10**6, 0.0, 1)) == description["limits"]["max_tokens"]  # clipped to the app's limit

    def step(tokens, states):
        answer = loaded.signatures["step"](tokens=tf.constant(tokens),
                                           **{name: tf.constant(value) for name, value in states.items()})
        return answer["logits"].numpy(), {name: answer[name].numpy() for name in states}

    assert description["state_names"] == ["h_0", "h_1"]  # two GRU layers
    assert greedy_by_steps(step, description, prompt_ids, TOKENS) == greedy


def test_keras_bundle_writes_the_apps_greedy_text(tmp_path, app_greedy):
    import keras

    out = tmp_path / "bundle"
    export("shakespeare-lstm", "keras", out)
    assert sorted(path.name for path in out.iterdir()) == ["export.json", "shakespeare-lstm.keras", "tokenizer.model"]
    description = json.loads((out / "export.json").read_text())
    tokenizer = spm.SentencePieceProcessor(model_file=str(out / "tokenizer.model"))
    model = keras.saving.load_model(out / "shakespeare-lstm.keras")  # Keras's own layers only: no custom objects

    def step(tokens, states):
        answer = model({"tokens": tokens, **states})
        return (np.asarray(answer["logits"])[:, -1], {name: np.asarray(answer[name]) for name in states})

    assert description["state_names"] == ["h_0", "c_0", "h_1", "c_1"]  # two LSTM layers
    greedy = greedy_by_steps(step, description, tokenizer.encode(PROMPT), TOKENS)
    assert PROMPT + tokenizer.decode(greedy) == app_greedy("shakespeare-lstm")


def test_export_refuses_a_used_folder_and_other_models(tmp_path, capsys):
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("someone's file")
    assert main(["export", "--assets", str(ASSETS), str(used)]) == 2
    assert "already exists and is not an empty folder" in capsys.readouterr().err
    assert (used / "keep.txt").read_text() == "someone's file"
    with pytest.raises(SystemExit):  # argparse: only language models are offered
        main(["export", "--model", "chatbot", "--assets", str(ASSETS), str(tmp_path / "new")])
    assert "invalid choice: 'chatbot'" in capsys.readouterr().err

    from rnn_demo.export import ExportError, export as export_model

    with pytest.raises(ExportError, match="--format must be one of savedmodel, keras"):
        export_model("shakespeare-gru", "onnx", tmp_path / "onnx", assets=ASSETS)
