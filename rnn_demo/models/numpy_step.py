"""A NumPy re-implementation of the models' decoding steps: same weights, no TensorFlow call per token.

Keras stays the reference (the parity test compares logits); this path avoids TensorFlow's
per-call overhead, which dominates when one token is fed at a time. Each model is built from its
weights by name (`models.weights`), as a checkpoint holds them, so the serving process never
imports TensorFlow; a Keras model can be given instead (the parity tests, training's probes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .weights import named, take


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * x) + 0.5  # = 1 / (1 + e^-x), without overflow warnings


def _keras_or_named(model, weights: Mapping[str, np.ndarray] | None) -> tuple[object, Mapping[str, np.ndarray]]:
    """(config, weights by name) from a Keras model alone, or from a config and its weights."""
    return (model.config, named(model)) if weights is None else (model, weights)


def rnn_weights(weights: Mapping[str, np.ndarray], layer: str, cell: str, inputs: int,
                units: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(kernel, recurrent kernel, input bias, recurrent bias) of the Keras GRU, LSTM or SimpleRNN (`simple_rnn`)
    layer whose weights are named `<layer>/<cell>_cell/…` (WeightError if they are missing or of other shapes)."""
    width = {"gru": 3, "lstm": 4, "simple_rnn": 1}[cell] * units
    kernel = take(weights, f"{layer}/{cell}_cell/kernel", (inputs, width))  # (in, gates × units)
    recurrent = np.ascontiguousarray(take(weights, f"{layer}/{cell}_cell/recurrent_kernel", (units, width)))
    if cell == "gru":  # reset_after: bias is (2, 3 × units): input, recurrent
        bias = take(weights, f"{layer}/{cell}_cell/bias", (2, width))
        return kernel, recurrent, bias[0], bias[1]
    bias = take(weights, f"{layer}/{cell}_cell/bias", (width,))
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

    input_kernel: np.ndarray  # (inputs, gates × units): the embedding's width for the first layer
    recurrent_kernel: np.ndarray  # (units, gates × units)
    input_bias: np.ndarray  # (gates × units,)
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
    the GRU's recurrent biases of its update and reset gates are added to the input side, and
    each layer's output is multiplied by the next layer's input kernel and its slice of the
    output layer at once. The first layer's input is the token's embedding times its kernel, as
    Keras computes it: a table of that product for every token (vocab × gates × units: 18.4 MB
    for the shipped GRU, 24.6 MB for the LSTM) saved one product of 256 × gates·units per token,
    which is not worth a sixth of the served process's memory.
    """

    def __init__(self, model, weights: Mapping[str, np.ndarray] | None = None):
        """`NumpyLanguageModel(keras_model)`, or `NumpyLanguageModel(config, weights)` with the weights by
        name as a checkpoint holds them (WeightError if they do not fit the config)."""
        config, weights = _keras_or_named(model, weights)
        self.config = config
        self.units = config.units
        vocab, rank, stacked = config.vocab_size, config.projection_rank, config.num_layers * config.units
        self.width = rank or vocab
        dense = take(weights, "bottleneck/kernel" if rank else "projection/kernel", (stacked, self.width))
        self.embedding = np.ascontiguousarray(take(weights, "embedding/embeddings", (vocab, config.embedding_dim)),
                                              dtype=np.float32)
        self.layers = [self._layer_weights(weights, index, dense) for index in range(config.num_layers)]
        for layer, following in zip(self.layers, [*self.layers[1:], None]):
            if following is None:
                layer.output_kernel = layer.dense_kernel
            else:  # the next layer's input kernel is then read from here: one copy of it, not two
                gates = following.input_kernel.shape[1]
                layer.output_kernel = np.ascontiguousarray(np.concatenate([following.input_kernel,
                                                                           layer.dense_kernel], 1))
                following.input_kernel = layer.output_kernel[:, :gates]
        self.projection_kernel = (np.ascontiguousarray(take(weights, "projection/kernel", (rank, vocab)))
                                  if rank else None)  # (rank, vocab)
        self.projection_bias = take(weights, "projection/bias", (vocab,))
        self._cell = {"gru": self._gru, "lstm": self._lstm, "simple_rnn": self._simple_rnn}[self.config.cell]

    def _layer_weights(self, weights: Mapping[str, np.ndarray], index: int, dense: np.ndarray) -> LayerWeights:
        """Layer `index`'s weights, biases folded where they can be (see the class docstring)."""
        inputs = self.config.embedding_dim if index == 0 else self.units
        kernel, recurrent, input_bias, recurrent_bias = rnn_weights(weights, f"rnn_{index}", self.config.cell,
                                                                    inputs, self.units)
        if self.config.cell == "gru":
            input_bias, recurrent_bias = fold_gru_biases(input_bias, recurrent_bias)
        rows = dense[index * self.units:(index + 1) * self.units]
        return LayerWeights(kernel, recurrent, input_bias, recurrent_bias, np.ascontiguousarray(rows))

    def initial_state(self) -> list:
        parts = 2 if self.config.cell == "lstm" else 1
        return [[np.zeros(self.units, np.float32) for _ in range(parts)] for _ in self.layers]

    def _simple_rnn(self, x_proj, state, layer: LayerWeights):
        h = np.tanh(x_proj + state[0] @ layer.recurrent_kernel)  # Keras SimpleRNN: its one bias is on the input side
        return h, [h]

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
        first = self.layers[0]
        x_proj = self.embedding[token] @ first.input_kernel
        x_proj += first.input_bias
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
    """The seq2seq model in NumPy: the encoder once per source, the decoder's step batched over beams.

    `encode(source_ids)` returns the `EncoderMemory`; `step(tokens (batch,), state, memory)`
    returns (logits (batch, vocab), state (batch, dec), attention weights (batch, src));
    `decoder(memory)` binds the step to one memory for the decoding loops.
    """

    def __init__(self, model, weights: Mapping[str, np.ndarray] | None = None):
        """`NumpySeq2Seq(keras_model)`, or `NumpySeq2Seq(config, weights)` with the weights by name as a
        checkpoint holds them (WeightError if they do not fit the config)."""
        config, weights = _keras_or_named(model, weights)
        self.config = config
        vocab, encoder, decoder = config.vocab_size, config.encoder_units, config.decoder_units
        attention = config.attention_units
        self.embedding = take(weights, "embedding/embeddings", (vocab, config.embedding_dim))
        self.encoder = [self._encoder_weights(weights, direction) for direction in ("forward", "backward")]
        self.bridge_kernel = take(weights, "bridge/kernel", (2 * encoder, decoder))
        self.bridge_bias = take(weights, "bridge/bias", (decoder,))
        self.key_kernel = take(weights, "attention_keys/kernel", (2 * encoder, attention))
        kernel, self.recurrent, input_bias, recurrent_bias = rnn_weights(weights, "decoder", "gru",
                                                                         config.embedding_dim, decoder)
        input_bias, self.candidate_bias = fold_gru_biases(input_bias, recurrent_bias)
        # The decoder's input projection, computed at each step for the few tokens of the beams, as Keras
        # does: a (vocab, 3 · dec) table of every token's would cost 12 MB per model for a 4-row product.
        self.input_kernel, self.input_bias = kernel, input_bias
        self.query_kernel = take(weights, "attention_query/kernel", (decoder, attention))
        self.query_bias = take(weights, "attention_query/bias", (attention,))
        self.score_vector = take(weights, "attention_score/kernel", (attention, 1))[:, 0]  # (att,)
        self.combine_kernel = take(weights, "combine/kernel", (decoder + 2 * encoder, decoder))
        self.combine_bias = take(weights, "combine/bias", (decoder,))
        self.projection_kernel = np.ascontiguousarray(take(weights, "projection/kernel", (decoder, vocab)))
        self.projection_bias = take(weights, "projection/bias", (vocab,))

    def _encoder_weights(self, weights: Mapping[str, np.ndarray], direction: str) -> LayerWeights:
        """One direction of the bidirectional encoder (GRU biases folded; no dense rows)."""
        kernel, recurrent, input_bias, recurrent_bias = rnn_weights(
            weights, f"encoder/{direction}_gru", "gru", self.config.embedding_dim, self.config.encoder_units)
        input_bias, recurrent_bias = fold_gru_biases(input_bias, recurrent_bias)
        return LayerWeights(kernel, recurrent, input_bias, recurrent_bias, dense_kernel=None)

    def encode(self, source_ids) -> EncoderMemory:
        """The encoder's reading of one source (a sequence of ids; 0 is padding, which it skips as Keras's mask
        does: the state passes over it unchanged and its outputs are zeros)."""
        source = np.asarray(source_ids, dtype=np.int64)
        mask = source != 0
        embedded = self.embedding[source]  # (src, emb)
        forward, forward_state = self._encode_direction(embedded, mask, self.encoder[0], reverse=False)
        backward, backward_state = self._encode_direction(embedded, mask, self.encoder[1], reverse=True)
        values = np.concatenate([forward, backward], -1)  # (src, 2 · enc)
        state = np.tanh(np.concatenate([forward_state, backward_state]) @ self.bridge_kernel + self.bridge_bias)
        return EncoderMemory(values, values @ self.key_kernel, mask, state)

    @staticmethod
    def _encode_direction(embedded: np.ndarray, mask: np.ndarray, layer: LayerWeights,
                          reverse: bool) -> tuple[np.ndarray, np.ndarray]:
        """(outputs (src, enc), last state (enc,)) of one encoder direction over the embedded source."""
        inputs = embedded @ layer.input_kernel + layer.input_bias  # (src, 3 · enc), all positions at once
        h = np.zeros(layer.recurrent_kernel.shape[0], np.float32)
        outputs = np.zeros((len(embedded), len(h)), np.float32)
        for position in (reversed(range(len(embedded))) if reverse else range(len(embedded))):
            if mask[position]:
                h = gru_cell(inputs[position], h, layer.recurrent_kernel, layer.recurrent_bias)
                outputs[position] = h
        return outputs, h

    def step(self, tokens, state, memory: EncoderMemory):
        inputs = self.embedding[np.asarray(tokens)] @ self.input_kernel + self.input_bias  # (batch, 3 · dec)
        h = gru_cell(inputs, state, self.recurrent, self.candidate_bias)
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
