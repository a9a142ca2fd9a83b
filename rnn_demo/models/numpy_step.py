"""A NumPy re-implementation of the models' decoding steps: same weights, no TensorFlow call per token.

Keras stays the reference (the parity test compares logits); this path avoids TensorFlow's
per-call overhead, which dominates when one token is fed at a time.
"""
from __future__ import annotations

import numpy as np


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * x) + 0.5  # = 1 / (1 + e^-x), without overflow warnings


def rnn_weights(rnn, cell: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(kernel, recurrent kernel, input bias, recurrent bias) of a Keras GRU or LSTM layer."""
    kernel, recurrent, bias = (np.asarray(w, dtype=np.float32) for w in rnn.cell.weights)
    if cell == "gru":  # reset_after: bias is (2, 3 * units): input, recurrent
        return kernel, np.ascontiguousarray(recurrent), bias[0], bias[1]
    return kernel, np.ascontiguousarray(recurrent), bias, np.zeros_like(bias)


def fold_gru_biases(input_bias: np.ndarray, recurrent_bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(input bias with the recurrent z and r biases added, the candidate's recurrent bias).

    In Keras's GRU (reset_after) the update and reset gates add both biases, so they can be
    added once here; only the candidate's recurrent bias stays inside r · (h @ W_h + b_h).
    """
    units = len(recurrent_bias) // 3
    folded = input_bias.copy()
    folded[:2 * units] += recurrent_bias[:2 * units]
    return folded, np.ascontiguousarray(recurrent_bias[2 * units:])


def gru_cell(x_proj: np.ndarray, h: np.ndarray, recurrent: np.ndarray, candidate_bias: np.ndarray) -> np.ndarray:
    """One Keras GRU step (reset_after) from the projected input, its biases folded by
    `fold_gru_biases`; works on (units,) or (batch, units) and writes only to new arrays."""
    u = h.shape[-1]
    h_proj = h @ recurrent  # (..., 3 × units) in Keras order z, r, candidate
    gates = x_proj[..., :2 * u] + h_proj[..., :2 * u]
    gates *= 0.5  # sigmoid(x) = 0.5 · tanh(x / 2) + 0.5
    np.tanh(gates, out=gates)
    gates *= 0.5
    gates += 0.5
    candidate = h_proj[..., 2 * u:]
    candidate += candidate_bias
    candidate *= gates[..., u:]
    candidate += x_proj[..., 2 * u:]
    np.tanh(candidate, out=candidate)
    new = h - candidate  # z · h + (1 − z) · c = c + z · (h − c)
    new *= gates[..., :u]
    new += candidate
    return new


class NumpyLanguageModel:
    """Batch-1 `step(tokens, state) -> (logits, state)` over a trained `LanguageModel`'s weights.

    Per token this is a handful of matrix-vector products and about a dozen small NumPy calls
    per layer; the weights are rearranged once so that no call is spent on what can be folded:
    the first layer's input is a row of a (vocab, gates × units) table, the GRU's recurrent
    biases of its update and reset gates are added to the input side, and each layer's output
    is multiplied by the next layer's input kernel and its slice of the output layer at once.
    """

    def __init__(self, model):
        self.config = model.config
        units = self.units = model.config.units
        gru = self.config.cell == "gru"
        embedding = np.asarray(model.embedding.embeddings, dtype=np.float32)
        first = model.bottleneck if model.bottleneck is not None else model.projection
        dense = np.asarray(first.kernel, dtype=np.float32)  # (layers × units, width)
        self.width = dense.shape[1]
        count = len(model.rnn_layers)
        self.layers = []
        for index, rnn in enumerate(model.rnn_layers):
            kernel, recurrent, input_bias, recurrent_bias = rnn_weights(rnn, self.config.cell)
            if gru:
                input_bias, recurrent_bias = fold_gru_biases(input_bias, recurrent_bias)
            if index == 0:  # embedding @ kernel + bias for every token id: (vocab, gates × units)
                kernel, input_bias = embedding @ kernel + input_bias, None
            self.layers.append([kernel, recurrent, input_bias, recurrent_bias])
        # Layer i's output feeds layer i+1's kernel and its own slice of the first dense layer:
        # one product h @ [kernel_{i+1} | dense_i] gives both.
        self.out_kernels = []
        for index in range(count):
            own = dense[index * units:(index + 1) * units]
            if index + 1 < count:
                own = np.concatenate([self.layers[index + 1][0], own], axis=1)
            self.out_kernels.append(np.ascontiguousarray(own))
        self.projection_kernel = (np.ascontiguousarray(model.projection.kernel, dtype=np.float32)
                                  if model.bottleneck is not None else None)  # (rank, vocab)
        self.projection_bias = np.asarray(model.projection.bias, dtype=np.float32)
        self._cell = self._gru if gru else self._lstm

    def initial_state(self) -> list:
        parts = 1 if self.config.cell == "gru" else 2
        return [[np.zeros(self.units, np.float32) for _ in range(parts)] for _ in self.layers]

    def _gru(self, x_proj, state, recurrent, candidate_bias):
        h = gru_cell(x_proj, state[0], recurrent, candidate_bias)
        return h, [h]

    def _lstm(self, x_proj, state, recurrent, recurrent_bias):
        h, c = state
        u = self.units
        gates = x_proj + h @ recurrent  # (4 * units,) in Keras order i, f, c, o
        i, f, o = _sigmoid(gates[:u]), _sigmoid(gates[u:2 * u]), _sigmoid(gates[3 * u:])
        c = f * c + i * np.tanh(gates[2 * u:3 * u])
        h = o * np.tanh(c)
        return h, [h, c]

    def _advance(self, token: int, state: list, want_output: bool) -> tuple[np.ndarray | None, list]:
        """One token through every layer: (the first dense layer's output if wanted, new state)."""
        new_state = []
        x_proj = self.layers[0][0][token]
        dense = None
        last = len(self.layers) - 1
        for index, (_, recurrent, _, recurrent_bias) in enumerate(self.layers):
            h, layer_state = self._cell(x_proj, state[index], recurrent, recurrent_bias)
            new_state.append(layer_state)
            if index < last:
                both = h @ self.out_kernels[index]  # [next layer's input | this layer's dense slice]
                x_proj = both[:-self.width]
                x_proj += self.layers[index + 1][2]
                if want_output:
                    dense = both[-self.width:] if dense is None else dense + both[-self.width:]
            elif want_output:
                own = h @ self.out_kernels[index]
                dense = own if dense is None else dense + own
        return dense, new_state

    def step(self, tokens, state):
        """Feeds `tokens` after `state`; returns (logits (vocab,), new state). Only the last
        token's logits are computed, so feeding a long prompt costs little more than the RNN."""
        tokens = list(tokens)
        dense = None
        for position, token in enumerate(tokens):
            dense, state = self._advance(int(token), state, want_output=position == len(tokens) - 1)
        if self.projection_kernel is not None:
            dense = dense @ self.projection_kernel  # (rank,) → (vocab,); h @ W is 2-3× faster than W.T @ h
        dense += self.projection_bias
        return dense, state


class NumpySeq2Seq:
    """The seq2seq decoder's step in NumPy, batched over beams; the encoder runs once in Keras.

    `encode(source_ids)` returns the encoder memory; `step(tokens (batch,), state, memory)`
    returns (logits (batch, vocab), state (batch, dec), attention weights (batch, src)).
    """

    def __init__(self, model):
        self.model = model
        embedding = np.asarray(model.embedding.embeddings, dtype=np.float32)
        kernel, self.recurrent, input_bias, recurrent_bias = rnn_weights(model.decoder, "gru")
        input_bias, self.candidate_bias = fold_gru_biases(input_bias, recurrent_bias)
        self.input_table = embedding @ kernel + input_bias  # (vocab, 3 * dec) per token id
        self.query_kernel = np.asarray(model.attention_query.kernel, dtype=np.float32)
        self.query_bias = np.asarray(model.attention_query.bias, dtype=np.float32)
        self.score_vector = np.asarray(model.attention_score.kernel, dtype=np.float32)[:, 0]  # (att,)
        self.combine_kernel = np.asarray(model.combine.kernel, dtype=np.float32)
        self.combine_bias = np.asarray(model.combine.bias, dtype=np.float32)
        self.projection_kernel = np.ascontiguousarray(model.projection.kernel, dtype=np.float32)
        self.projection_bias = np.asarray(model.projection.bias, dtype=np.float32)

    def encode(self, source_ids) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(memory (src, 2·enc), keys (src, att), mask (src,), initial state (dec,)) of one source."""
        source = np.asarray(source_ids, dtype=np.int32)[None, :]
        memory, keys, mask, state = self.model.encode(source)
        return (np.asarray(memory[0]), np.asarray(keys[0]), np.asarray(mask[0]), np.asarray(state[0]))

    def step(self, tokens, state, memory):
        memory_values, keys, mask, _ = memory
        h = gru_cell(self.input_table[np.asarray(tokens)], state, self.recurrent, self.candidate_bias)
        query = h @ self.query_kernel + self.query_bias  # (batch, att)
        scores = np.tanh(query[:, None, :] + keys[None]) @ self.score_vector  # (batch, src)
        scores = np.where(mask[None, :], scores, -1e9)
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights /= weights.sum(axis=-1, keepdims=True)
        context = weights @ memory_values  # (batch, 2·enc)
        features = np.tanh(np.concatenate([h, context], -1) @ self.combine_kernel + self.combine_bias)
        return features @ self.projection_kernel + self.projection_bias, h, weights
