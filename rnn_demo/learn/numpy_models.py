"""NumPy forward passes of the Learn models, from their weights by name: the page serves these, no TensorFlow.

Each mirrors a builder of models/learn_models.py; tests/test_learn.py compares them with Keras.
"""
from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np

from ..models.numpy_step import _sigmoid, fold_gru_biases, gru_cell, rnn_weights
from ..models.weights import take
from . import scenes
from .config import CaptionConfig, CopyConfig, GenreConfig

Weights = Mapping[str, np.ndarray]


def _dense(weights: Weights, name: str, inputs: int, outputs: int) -> tuple[np.ndarray, np.ndarray]:
    return take(weights, f"{name}/kernel", (inputs, outputs)), take(weights, f"{name}/bias", (outputs,))


def conv3x3_relu(image: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Keras Conv2D(3, padding="same", relu) on one (h, w, c) image → (h, w, filters), as one matrix product."""
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)))
    patches = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(0, 1))  # (h, w, c, 3, 3)
    patches = patches.transpose(0, 1, 3, 4, 2).reshape(image.shape[0] * image.shape[1], -1)  # (h·w, 3·3·c)
    out = patches @ kernel.reshape(-1, kernel.shape[-1]) + bias
    return np.maximum(out, 0).reshape(image.shape[0], image.shape[1], -1)


def max_pool2(x: np.ndarray) -> np.ndarray:
    """2×2 max pooling of (h, w, c) → (h/2, w/2, c)."""
    h, w, c = x.shape
    return x[:h // 2 * 2, :w // 2 * 2].reshape(h // 2, 2, w // 2, 2, c).max(axis=(1, 3))


class GruLayer:
    """A Keras GRU layer's step (reset_after), its biases folded once."""

    def __init__(self, weights: Weights, layer: str, inputs: int, units: int):
        kernel, self.recurrent, input_bias, recurrent_bias = rnn_weights(weights, layer, "gru", inputs, units)
        self.kernel = kernel
        self.input_bias, self.candidate_bias = fold_gru_biases(input_bias, recurrent_bias)
        self.units = units

    def run(self, x: np.ndarray, h: np.ndarray | None = None) -> np.ndarray:
        """States after each input of x (time, inputs) → (time, units), from h (zeros if None)."""
        h = np.zeros(self.units, np.float32) if h is None else h
        projected = x @ self.kernel + self.input_bias  # (time, 3·units)
        states = []
        for row in projected:
            h = gru_cell(row, h, self.recurrent, self.candidate_bias)
            states.append(h)
        return np.stack(states) if states else np.zeros((0, self.units), np.float32)


class NumpyCaptioner:
    """The caption model: `encode(image)` → the decoder's first state; `step(word, h)` → (logits, h)."""

    def __init__(self, config: CaptionConfig, weights: Weights):
        self.config = config
        f, u, vocab = config.filters, config.caption_units, config.caption_vocab or len(scenes.VOCABULARY)
        self.conv_1 = (take(weights, "conv_1/kernel", (3, 3, 3, f)), take(weights, "conv_1/bias", (f,)))
        self.conv_2 = (take(weights, "conv_2/kernel", (3, 3, f, 2 * f)), take(weights, "conv_2/bias", (2 * f,)))
        flat = (config.image_size // 4) ** 2 * 2 * f
        self.image_state = _dense(weights, "image_state", flat, u)
        self.embedding = take(weights, "word_embedding/embeddings", (vocab, config.word_dim))
        self.decoder = GruLayer(weights, "decoder", config.word_dim, u)
        self.readout = _dense(weights, "readout", u, vocab)

    def encode(self, image: np.ndarray) -> np.ndarray:
        """(s, s, 3) image → (units,) the state that starts the caption."""
        x = max_pool2(conv3x3_relu(image.astype(np.float32), *self.conv_1))
        x = max_pool2(conv3x3_relu(x, *self.conv_2))
        kernel, bias = self.image_state
        return np.tanh(x.reshape(-1) @ kernel + bias)

    def step(self, word: int, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = self.decoder.run(self.embedding[[word]], h)[-1]
        kernel, bias = self.readout
        return h @ kernel + bias, h

    def caption(self, image: np.ndarray) -> Iterator[tuple[str, float]]:
        """Greedy, word by word: yields (word, its probability) until <end> or max_words."""
        h, word = self.encode(image), scenes.WORD_ID[scenes.START]
        for _ in range(self.config.max_words):
            logits, h = self.step(word, h)
            probabilities = np.exp(logits - logits.max())
            probabilities /= probabilities.sum()
            word = int(probabilities.argmax())
            if scenes.VOCABULARY[word] in (scenes.END, scenes.PAD):
                return
            yield scenes.VOCABULARY[word], float(probabilities[word])

    def logits(self, image: np.ndarray, words: np.ndarray) -> np.ndarray:
        """Teacher-forced logits (w, vocab) of decoder inputs `words` (w,): the Keras model's output."""
        states = self.decoder.run(self.embedding[words], self.encode(image))
        kernel, bias = self.readout
        return states @ kernel + bias


class NumpyGenreClassifier:
    """Speech → genre logits: a GRU's last state (`gru`) or the mean embedding through a ReLU layer (`bag`)."""

    def __init__(self, config: GenreConfig, weights: Weights):
        self.config = config
        self.embedding = take(weights, "embedding/embeddings", (config.vocab_size, config.genre_dim))
        if config.kind == "gru":
            self.rnn = GruLayer(weights, "rnn", config.genre_dim, config.genre_units)
        else:
            self.hidden = _dense(weights, "hidden", config.genre_dim, config.genre_units)
        self.readout = _dense(weights, "readout", config.genre_units, config.classes)

    def states(self, ids) -> np.ndarray:
        """The GRU's state after each token (time, units) (the `gru` kind only)."""
        return self.rnn.run(self.embedding[np.asarray(ids, dtype=np.int64)])

    def logits(self, ids) -> np.ndarray:
        """(classes,) for one speech's token ids (no padding; cut to max_tokens)."""
        ids = [i for i in ids if i][:self.config.max_tokens]
        if not ids:
            raise ValueError("a speech needs at least one token")
        if self.config.kind == "gru":
            summary = self.states(ids)[-1]
        else:
            kernel, bias = self.hidden
            summary = np.maximum(self.embedding[ids].mean(axis=0) @ kernel + bias, 0)
        kernel, bias = self.readout
        return summary @ kernel + bias

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The likeliest class of each padded row (n, max_tokens) → (n,)."""
        return np.array([int(self.logits(row).argmax()) for row in rows], np.int32)


class NumpyCopyNet:
    """The copy task's net: forward over a batch, keeping every step's state, and the gradient of the loss
    with respect to each earlier state (backpropagation through time, written out per cell)."""

    GATES = {"simple_rnn": 1, "gru": 3, "lstm": 4}

    def __init__(self, config: CopyConfig, weights: Weights):
        self.config = config
        u, inputs, width = config.copy_units, config.symbols + 1, self.GATES[config.cell] * config.copy_units
        name = f"rnn/{config.cell}_cell"
        self.kernel = take(weights, f"{name}/kernel", (inputs, width))
        self.recurrent = take(weights, f"{name}/recurrent_kernel", (u, width))
        bias_shape = (2, width) if config.cell == "gru" else (width,)
        bias = take(weights, f"{name}/bias", bias_shape)
        self.input_bias, self.recurrent_bias = (bias[0], bias[1]) if config.cell == "gru" else (bias, np.zeros(width))
        self.readout = _dense(weights, "readout", u, config.symbols)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[dict]]:
        """x (batch, time, inputs) → (logits (batch, symbols), per step the values the backward pass needs)."""
        batch, u = x.shape[0], self.config.copy_units
        h, c = np.zeros((batch, u), np.float32), np.zeros((batch, u), np.float32)
        tape = []
        for t in range(x.shape[1]):
            projected = x[:, t] @ self.kernel + self.input_bias
            record = getattr(self, f"_{self.config.cell}")(projected, h, c)
            tape.append(record)
            h, c = record["h"], record.get("c", c)
        kernel, bias = self.readout
        return h @ kernel + bias, tape

    def _simple_rnn(self, projected, h, c) -> dict:
        return {"h": np.tanh(projected + h @ self.recurrent + self.recurrent_bias)}

    def _gru(self, projected, h, c) -> dict:
        u = self.config.copy_units
        hh = h @ self.recurrent + self.recurrent_bias  # (batch, 3u): z, r, candidate
        z = _sigmoid(projected[:, :u] + hh[:, :u])
        r = _sigmoid(projected[:, u:2 * u] + hh[:, u:2 * u])
        candidate = np.tanh(projected[:, 2 * u:] + r * hh[:, 2 * u:])
        return {"h": z * h + (1 - z) * candidate, "h_before": h, "z": z, "r": r, "candidate": candidate,
                "hh": hh[:, 2 * u:]}

    def _lstm(self, projected, h, c) -> dict:
        u = self.config.copy_units
        gates = projected + h @ self.recurrent
        i, f = _sigmoid(gates[:, :u]), _sigmoid(gates[:, u:2 * u])
        g, o = np.tanh(gates[:, 2 * u:3 * u]), _sigmoid(gates[:, 3 * u:])
        c_new = f * c + i * g
        return {"h": o * np.tanh(c_new), "c": c_new, "c_before": c, "i": i, "f": f, "g": g, "o": o}

    def _back(self, record: dict, grad_h: np.ndarray, grad_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(∂L/∂h_{t-1}, ∂L/∂c_{t-1}) from (∂L/∂h_t, ∂L/∂c_t) through step t's record."""
        cell = self.config.cell
        if cell == "simple_rnn":
            return (grad_h * (1 - record["h"] ** 2)) @ self.recurrent.T, grad_c
        if cell == "gru":
            z, r, candidate = record["z"], record["r"], record["candidate"]
            grad_candidate = grad_h * (1 - z) * (1 - candidate ** 2)
            grad_z = grad_h * (record["h_before"] - candidate) * z * (1 - z)
            grad_r = grad_candidate * record["hh"] * r * (1 - r)
            pre = np.concatenate([grad_z, grad_r, grad_candidate * r], axis=1)  # through h @ U
            return grad_h * z + pre @ self.recurrent.T, grad_c
        tanh_c = np.tanh(record["c"])
        total_c = grad_c + grad_h * record["o"] * (1 - tanh_c ** 2)
        i, f, g, o = record["i"], record["f"], record["g"], record["o"]
        pre = np.concatenate([total_c * g * i * (1 - i), total_c * record["c_before"] * f * (1 - f),
                              total_c * i * (1 - g ** 2), grad_h * tanh_c * o * (1 - o)], axis=1)
        return pre @ self.recurrent.T, total_c * f

    def state_gradient_norms(self, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """The mean over the batch of ‖∂L/∂h_t‖ for every step t (time,), L the cross-entropy at the end."""
        logits, tape = self.forward(x)
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        probabilities[np.arange(len(targets)), targets] -= 1  # ∂L/∂logits (per example)
        grad_h = probabilities @ self.readout[0].T
        grad_c = np.zeros_like(grad_h)
        norms = [np.linalg.norm(grad_h, axis=1).mean()]
        for record in reversed(tape[1:]):
            grad_h, grad_c = self._back(record, grad_h, grad_c)
            norms.append(np.linalg.norm(grad_h, axis=1).mean())
        return np.array(norms[::-1], np.float64)

    def accuracy(self, x: np.ndarray, targets: np.ndarray) -> float:
        logits, _ = self.forward(x)
        return float((logits.argmax(axis=1) == targets).mean())
