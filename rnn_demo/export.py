"""Export of a language model for other runtimes: a TensorFlow SavedModel (TensorFlow Serving) or a `.keras` bundle.

Both are built from one functional Keras model of the trained layers, the *step model*: token ids and
the recurrent state in, logits and the new state out, and nothing kept between calls (TensorFlow
Serving keeps no state between requests, tensorflow/serving#724), so any replica can answer any call.

The SavedModel has two signatures: `generate` (prompt ids, max tokens, temperature, seed → ids; the
whole loop inside the graph, temperature 0 = greedy, the same tokens as the app's greedy output) and
`step` (the step model, with the logits of the last position only). The `.keras` bundle is the step
model itself, logits of every position; the tokenizer file is written beside it. The app itself never
loads either: it serves from the checkpoints.
"""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import keras
import tensorflow as tf

from . import checkpoints
from .config import LIMITS, Limits, to_dict
from .models import registry
from .tokenizer import BOS_ID, Tokenizer

log = logging.getLogger(__name__)

FORMATS = ("savedmodel", "keras")
GENERATE_SIGNATURE = "generate"
STEP_SIGNATURE = "step"
TOKENIZER_FILE = "tokenizer.model"
DESCRIPTION_FILE = "export.json"
# TensorFlow Serving's folder for files shipped beside a SavedModel (it copies it, and reads nothing there).
EXTRA_FOLDER = "assets.extra"


class ExportError(ValueError):
    """The export cannot be written as asked (an unknown model or format, a folder already in use)."""


def state_names(config) -> list[str]:
    """The names of a language model's state tensors, layer by layer: `h_0` (GRU), or `h_0`, `c_0` (LSTM), …"""
    parts = ("h",) if config.cell == "gru" else ("h", "c")
    return [f"{part}_{layer}" for layer in range(config.num_layers) for part in parts]


def step_model(model) -> keras.Model:
    """The functional step model over the trained layers of a `LanguageModel` (they share its weights).

    Inputs: `tokens` (batch, time) int32, and each state of `state_names` (batch, units), zeros at the start.
    Outputs: `logits` (batch, time, vocab) and the states after the last token, by the same names.
    Only Keras's own layers appear in it, so `keras.saving.load_model` rebuilds it without this package.
    """
    config = model.config
    names = state_names(config)
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    states_in = {name: keras.Input((config.units,), name=name) for name in names}
    x = model.embedding(tokens)  # (batch, time, embedding_dim)
    states_out, outputs = {}, []
    per_layer = len(names) // config.num_layers
    for index, rnn in enumerate(model.rnn_layers):
        layer_names = names[index * per_layer:(index + 1) * per_layer]
        x, *state = rnn(x, initial_state=[states_in[name] for name in layer_names])  # (batch, time, units)
        states_out.update(zip(layer_names, state))
        x = model.dropout(x)
        outputs.append(x)
    skip = outputs[0] if len(outputs) == 1 else keras.layers.Concatenate(name="skip")(outputs)
    if model.bottleneck is not None:
        skip = model.bottleneck(skip)  # (batch, time, projection_rank)
    logits = model.projection(skip)  # (batch, time, vocab)
    return keras.Model({"tokens": tokens, **states_in}, {"logits": logits, **states_out},
                       name=f"{model.name}_step")


def _zero_states(names: list[str], units: int) -> dict:
    return {name: tf.zeros((1, units)) for name in names}


def generation_function(step: keras.Model, config, limits: Limits = LIMITS):
    """The `generate` signature's function: prompt ids → generated ids, the decoding loop in the graph.

    The prompt is fed after the start token (as the app does); then `max_tokens` tokens are chosen, each
    the argmax of the logits when `temperature` is 0, else drawn from softmax(logits / temperature) with
    a stateless draw seeded by (seed, position). `max_tokens` and `temperature` are clipped to the app's
    limits: TensorFlow Serving passes whatever a client sends.
    """
    names = state_names(config)

    def generate(prompt_ids, max_tokens, temperature, seed):
        max_tokens = tf.clip_by_value(max_tokens, 0, limits.max_new_tokens)
        temperature = tf.clip_by_value(temperature, 0.0, limits.max_temperature)
        tokens = tf.concat([[BOS_ID], prompt_ids], axis=0)[None, :]  # (1, 1 + prompt)
        first = step({"tokens": tokens, **_zero_states(names, config.units)})
        logits = first["logits"][:, -1, :]  # (1, vocab)
        states = tuple(first[name] for name in names)

        def choose(logits, position):
            def drawn():
                pair = tf.stack([seed, tf.cast(position, tf.int64)])
                return tf.random.stateless_categorical(logits / temperature, 1, seed=pair, dtype=tf.int32)[0, 0]

            return tf.cond(temperature > 0.0, drawn, lambda: tf.argmax(logits[0], output_type=tf.int32))

        def body(position, logits, states, chosen):
            token = choose(logits, position)
            after = step({"tokens": tf.reshape(token, (1, 1)), **dict(zip(names, states))})
            return (position + 1, after["logits"][:, -1, :], tuple(after[name] for name in names),
                    chosen.write(position, token))

        chosen = tf.TensorArray(tf.int32, size=max_tokens)
        *_, chosen = tf.while_loop(lambda position, *_: position < max_tokens, body,
                                   (tf.constant(0), logits, states, chosen))
        return {"ids": chosen.stack()}  # (max_tokens,)

    return generate


def step_function(step: keras.Model, config):
    """The `step` signature's function: the step model, with the logits of the last position only."""
    names = state_names(config)

    def last_step(tokens, *states):
        out = step({"tokens": tokens, **dict(zip(names, states))})
        return {"logits": out["logits"][:, -1, :], **{name: out[name] for name in names}}  # (batch, vocab), …

    return last_step


def _signatures(config) -> dict[str, list[tf.TensorSpec]]:
    """The input specs of each SavedModel signature; the names are what REST and gRPC clients send."""
    states = [tf.TensorSpec((None, config.units), tf.float32, name=name) for name in state_names(config)]
    return {
        GENERATE_SIGNATURE: [tf.TensorSpec((None,), tf.int32, name="prompt_ids"),
                             tf.TensorSpec((), tf.int32, name="max_tokens"),
                             tf.TensorSpec((), tf.float32, name="temperature"),
                             tf.TensorSpec((), tf.int64, name="seed")],
        STEP_SIGNATURE: [tf.TensorSpec((None, None), tf.int32, name="tokens"), *states],
    }


def _description(name: str, export_format: str, checkpoint: checkpoints.Checkpoint) -> dict:
    """What `export.json` says: the model, the start token, the state tensors and the signatures."""
    config = checkpoint.model_config
    return {
        "model": name, "format": export_format, "bos_id": BOS_ID, "units": config.units,
        "state_names": state_names(config), "tokenizer": TOKENIZER_FILE,
        "signatures": {GENERATE_SIGNATURE: ["prompt_ids", "max_tokens", "temperature", "seed"],
                       STEP_SIGNATURE: ["tokens", *state_names(config)]} if export_format == "savedmodel" else {},
        "limits": {"max_tokens": LIMITS.max_new_tokens, "max_temperature": LIMITS.max_temperature},
        "checkpoint": {"config": to_dict(config), "files": checkpoint.meta.get("files"),
                       "metrics": checkpoint.meta.get("metrics")},
    }


def _write_savedmodel(step: keras.Model, config, out: Path) -> None:
    archive = keras.export.ExportArchive()
    archive.track(step)
    signatures = _signatures(config)
    archive.add_endpoint(GENERATE_SIGNATURE, generation_function(step, config),
                         input_signature=signatures[GENERATE_SIGNATURE])
    archive.add_endpoint(STEP_SIGNATURE, step_function(step, config), input_signature=signatures[STEP_SIGNATURE])
    archive.write_out(str(out), verbose=False)  # `generate` is also `serving_default`, the first endpoint


def _checked_out(out: Path) -> Path:
    """`out`, refused if it is a file or a folder with something in it (an export never overwrites)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} already exists and is not an empty folder; choose a new one or remove it")
    return out


def export(name: str, export_format: str, out: str | Path, *, assets: str | Path) -> dict:
    """Writes the language model `name` of `assets` in `export_format` into the folder `out`.

    Args:
        name: a language model of the registry, e.g. "shakespeare-gru".
        export_format: "savedmodel" (`out` is then a TensorFlow Serving version folder, e.g. `…/name/1`)
            or "keras" (`out/<name>.keras`).
        out: a new or empty folder.
        assets: the folder of the checkpoints and the tokenizer.
    Returns:
        What `export.json` (written beside the model) says, with the paths written.
    """
    if export_format not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}, not {export_format!r}")
    if name not in registry.names(family="language_model"):
        raise ExportError(f"export writes the language models ({', '.join(registry.names(family='language_model'))}),"
                          f" not {name!r}")
    out, assets = _checked_out(Path(out)), Path(assets)
    tokenizer = Tokenizer(assets / TOKENIZER_FILE)
    checkpoint = checkpoints.load_checkpoint(assets / name, tokenizer, family="language_model")
    step = step_model(checkpoint.model)
    beside = out / EXTRA_FOLDER if export_format == "savedmodel" else out
    if export_format == "savedmodel":
        _write_savedmodel(step, checkpoint.model_config, out)
        written = out
    else:
        out.mkdir(parents=True, exist_ok=True)
        written = out / f"{name}.keras"
        step.save(written)
    beside.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tokenizer.path, beside / TOKENIZER_FILE)
    description = _description(name, export_format, checkpoint)
    (beside / DESCRIPTION_FILE).write_text(json.dumps(description, indent=2) + "\n", encoding="utf-8")
    log.info("exported %s as %s to %s", name, export_format, written)
    return {**description, "path": str(written), "tokenizer_path": str(beside / TOKENIZER_FILE)}
