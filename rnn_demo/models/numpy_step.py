"""A NumPy re-implementation of the models' decoding steps: same weights, no TensorFlow call per token.

Keras stays the reference (the parity test compares logits); this path avoids TensorFlow's
per-call overhead, which dominates when one token is fed at a time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * x) + 0.5  # = 1 / (1 + e^-x), without overflow warnings


def rnn_weights(rnn, cell: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(kernel, recurrent kernel, input bias, recurrent bias) of a Keras GRU or LSTM layer."""
    kernel = np.asarray(rnn.cell.kernel, dtype=np.float32)  # (in, gates × units)
    recurrent = np.ascontiguousarray(rnn.cell.recurrent_kernel, dtype=np.float32)  # (units, gates × units)
    bias = np.asarray(rnn.cell.bias, dtype=np.float32)
    if cell == "gru":  # reset_after: bias is (2, 3 × units): input, recurrent
        return kernel, recurrent, bias[0], bias[1]
    return kernel, recurrent, bias, np.zeros_like(bias)


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


@dataclass
class LayerWeights:
    """One recurrent layer's weights as the step reads them (gates in Keras order: GRU z, r, candidate;
    LSTM i, f, candidate, o)."""

    input_kernel: np.ndarray  # (inputs, gates × units); the first layer's is a (vocab, gates × units) table
    recurrent_kernel: np.ndarray  # (units, gates × units)
    input_bias: np.ndarray | None  # (gates × units,); None in the first layer, whose table holds it
    # GRU: the candidate's recurrent bias (units,), the other gates' folded into `input_bias`; LSTM: zeros.
    recurrent_bias: np.ndarray
    dense_kernel: np.ndarray  # (units, width): this layer's rows of the first dense layer
    # (units, next layer's gates × units + width): [next layer's input kernel | dense_kernel], so that one
    # product gives both; the last layer's is its dense_kernel alone.
    output_kernel: np.ndarray = None


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
        self.units = model.config.units
        first = model.bottleneck if model.bottleneck is not None else model.projection
        dense = np.asarray(first.kernel, dtype=np.float32)  # (layers × units, width)
        self.width = dense.shape[1]
        embedding = np.asarray(model.embedding.embeddings, dtype=np.float32)
        self.layers = [self._layer_weights(rnn, index, embedding, dense) for index, rnn in enumerate(model.rnn_layers)]
        for layer, following in zip(self.layers, [*self.layers[1:], None]):
            layer.output_kernel = (layer.dense_kernel if following is None else
                                   np.ascontiguousarray(np.concatenate([following.input_kernel, layer.dense_kernel], 1)))
        self.projection_kernel = (np.ascontiguousarray(model.projection.kernel, dtype=np.float32)
                                  if model.bottleneck is not None else None)  # (rank, vocab)
        self.projection_bias = np.asarray(model.projection.bias, dtype=np.float32)
        self._cell = self._gru if self.config.cell == "gru" else self._lstm

    def _layer_weights(self, rnn, index: int, embedding: np.ndarray, dense: np.ndarray) -> LayerWeights:
        """Layer `index`'s weights, biases folded where they can be (see the class docstring)."""
        kernel, recurrent, input_bias, recurrent_bias = rnn_weights(rnn, self.config.cell)
        if self.config.cell == "gru":
            input_bias, recurrent_bias = fold_gru_biases(input_bias, recurrent_bias)
        if index == 0:  # embedding @ kernel + bias for every token id: (vocab, gates × units)
            kernel, input_bias = embedding @ kernel + input_bias, None
        rows = dense[index * self.units:(index + 1) * self.units]
        return LayerWeights(kernel, recurrent, input_bias, recurrent_bias, np.ascontiguousarray(rows))

    def initial_state(self) -> list:
        parts = 1 if self.config.cell == "gru" else 2
        return [[np.zeros(self.units, np.float32) for _ in range(parts)] for _ in self.layers]

    def _gru(self, x_proj, state, layer: LayerWeights):
        h = gru_cell(x_proj, state[0], layer.recurrent_kernel, layer.recurrent_bias)
        return h, [h]

    def _lstm(self, x_proj, state, layer: LayerWeights):
        h, c = state
        u = self.units
        gates = x_proj + h @ layer.recurrent_kernel  # (4 * units,) in Keras order i, f, c, o
        i, f, o = _sigmoid(gates[:u]), _sigmoid(gates[u:2 * u]), _sigmoid(gates[3 * u:])
        c = f * c + i * np.tanh(gates[2 * u:3 * u])
        h = o * np.tanh(c)
        return h, [h, c]

    def _advance(self, token: int, state: list, want_output: bool) -> tuple[np.ndarray | None, list]:
        """One token through every layer: (the first dense layer's output if wanted, new state)."""
        new_state = []
        x_proj = self.layers[0].input_kernel[token]
        dense = None
        last = len(self.layers) - 1
        for index, layer in enumerate(self.layers):
            h, layer_state = self._cell(x_proj, state[index], layer)
            new_state.append(layer_state)
            if index < last:
                both = h @ layer.output_kernel  # [next layer's input | this layer's dense slice]
                x_proj = both[:-self.width]
                x_proj += self.layers[index + 1].input_bias
                if want_output:
                    dense = both[-self.width:] if dense is None else dense + both[-self.width:]
            elif want_output:
                own = h @ layer.output_kernel
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


@dataclass(frozen=True)
class EncoderMemory:
    """What the encoder read from one source, for every decoder step."""

    values: np.ndarray  # (src, 2 · enc): the encoder's outputs, which attention averages
    keys: np.ndarray  # (src, att): their attention keys
    mask: np.ndarray  # (src,): False at padding
    initial_state: np.ndarray  # (dec,): the decoder's first state


class NumpySeq2Seq:
    """The seq2seq decoder's step in NumPy, batched over beams; the encoder runs once in Keras.

    `encode(source_ids)` returns the `EncoderMemory`; `step(tokens (batch,), state, memory)`
    returns (logits (batch, vocab), state (batch, dec), attention weights (batch, src));
    `decoder(memory)` binds the step to one memory for the decoding loops.
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

    def encode(self, source_ids) -> EncoderMemory:
        """The encoder's reading of one source (a sequence of ids)."""
        source = np.asarray(source_ids, dtype=np.int32)[None, :]
        values, keys, mask, state = self.model.encode(source)
        return EncoderMemory(np.asarray(values[0]), np.asarray(keys[0]), np.asarray(mask[0]), np.asarray(state[0]))

    def step(self, tokens, state, memory: EncoderMemory):
        h = gru_cell(self.input_table[np.asarray(tokens)], state, self.recurrent, self.candidate_bias)
        query = h @ self.query_kernel + self.query_bias  # (batch, att)
        scores = np.tanh(query[:, None, :] + memory.keys[None]) @ self.score_vector  # (batch, src)
        scores = np.where(memory.mask[None, :], scores, -1e9)
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights /= weights.sum(axis=-1, keepdims=True)
        context = weights @ memory.values  # (batch, 2·enc)
        features = np.tanh(np.concatenate([h, context], -1) @ self.combine_kernel + self.combine_bias)
        return features @ self.projection_kernel + self.projection_bias, h, weights

    def decoder(self, memory: EncoderMemory) -> "DecoderStep":
        """The decoder bound to `memory`: the step functions the decoding loops take."""
        return DecoderStep(self, memory)


class DecoderStep:
    """A `NumpySeq2Seq` decoder bound to one source's `EncoderMemory`.

    Beam search calls it as `step(tokens (batch,), state (batch, dec))` → (logits (batch, vocab),
    state); `decoding.stream` calls `feed(tokens, state)` with a sequence of tokens for one reply
    → (logits (vocab,), state).
    """

    def __init__(self, model: NumpySeq2Seq, memory: EncoderMemory):
        self.model, self.memory = model, memory

    def initial_state(self) -> np.ndarray:
        """(1, dec): the state before the start token."""
        return self.memory.initial_state[None, :]

    def with_attention(self, tokens, state) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One token per row: (logits (batch, vocab), state (batch, dec), attention weights (batch, src))."""
        return self.model.step(tokens, state, self.memory)

    def __call__(self, tokens, state) -> tuple[np.ndarray, np.ndarray]:
        logits, state, _ = self.with_attention(tokens, state)
        return logits, state

    def feed(self, tokens, state) -> tuple[np.ndarray, np.ndarray]:
        """Feeds a sequence of tokens to one reply's state: (the last logits (vocab,), state)."""
        for token in tokens:
            logits, state = self(np.asarray([token]), state)
        return logits[0], state
