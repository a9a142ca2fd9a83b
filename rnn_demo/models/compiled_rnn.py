"""Batch-1 sampling from a GRU or LSTM language model, compiled with Numba and split over two cores.

Why: per token the NumPy step reads 7.7 MB of float32 weights (the GRU; the LSTM 9.5 MB), more
than a core's 2 MB L2 cache, so one core spends most of each token waiting on memory. Here:
- every weight matrix is cut in two halves by hidden unit (the output layer by vocabulary
  entry), and each half always goes to the same thread: two cores read half the bytes each,
  side by side, and meet once after each layer and once after the logits;
- matrices that training rounded to float16 values (`--round-matrices float16`) are stored as
  float16 and widened in registers: half the bytes, exactly the same numbers;
- the next token is drawn inside the same compiled loop, a block of tokens per call, so Python
  is entered once per block instead of a dozen times per token.

A seed gives the same text at any load: each half's columns are summed by the same code in the
same order whether one thread or two run the halves. The Keras model stays the reference;
`tests/test_compiled_rnn.py` compares logits (within 1e-4), greedy tokens and draws.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

HALVES = 2  # one per core of the target machine
GATES = {"gru": 3, "lstm": 4}  # in Keras order: z, r, candidate; i, f, candidate, o

try:
    import numba
    from llvmlite import ir
    from numba import njit, prange, types
    from numba.extending import intrinsic, overload

    # omp or tbb: both take calls from several Python threads at once (workqueue aborts on that).
    numba.config.THREADING_LAYER = "threadsafe"
except ImportError:  # the NumPy step serves instead
    numba = None


def supports(config) -> bool:
    """Whether this model can be sampled here: Numba is installed, and it has an even number of units."""
    return numba is not None and config.cell in GATES and config.units % HALVES == 0


if numba is not None:

    @intrinsic
    def _half_to_float(typingctx, bits):
        """The float32 value of IEEE half-precision bits (one conversion instruction, vectorised)."""
        if bits != types.uint16:
            return None

        def codegen(context, builder, signature, args):
            return builder.fpext(builder.bitcast(args[0], ir.HalfType()), ir.FloatType())

        return types.float32(types.uint16), codegen

    def _widen(weight):
        """A stored weight as float32: half-precision bits are converted, float32 passes through."""

    @overload(_widen, inline="always")
    def _widen_overload(weight):
        if weight == types.uint16:
            return lambda weight: _half_to_float(weight)
        return lambda weight: weight

    @njit(fastmath=True, cache=True)
    def _accumulate(vector, matrix, out):
        """out += vector @ matrix, four rows per pass (fewer loads and stores of `out`)."""
        rows, cols = matrix.shape
        i = 0
        while i + 4 <= rows:
            a, b, c, d = vector[i], vector[i + 1], vector[i + 2], vector[i + 3]
            for j in range(cols):
                out[j] += (a * _widen(matrix[i, j]) + b * _widen(matrix[i + 1, j])
                           + c * _widen(matrix[i + 2, j]) + d * _widen(matrix[i + 3, j]))
            i += 4
        while i < rows:
            a = vector[i]
            for j in range(cols):
                out[j] += a * _widen(matrix[i, j])
            i += 1

    @njit(fastmath=True, cache=True)
    def _choose(logits, vocab, inverse_temperature, greedy, uniform):
        """The NumPy sampler's fast path (float32 softmax weights, inverse-CDF draw), or argmax."""
        if greedy:
            best = 0
            for j in range(1, vocab):
                if logits[j] > logits[best]:
                    best = j
            return best
        top = np.float32(-np.inf)
        for j in range(vocab):
            top = max(top, logits[j] * inverse_temperature)
        cumulative = np.empty(vocab, np.float32)
        total = np.float32(0.0)
        for j in range(vocab):
            total += np.exp(logits[j] * inverse_temperature - top)
            cumulative[j] = total
        threshold = np.float32(uniform) * total
        low, high = 0, vocab  # first index whose running total exceeds the threshold
        while low < high:
            middle = (low + high) // 2
            if cumulative[middle] > threshold:
                high = middle
            else:
                low = middle + 1
        return min(low, vocab - 1)

    @njit(fastmath=True, cache=True)
    def _sigmoid(x):
        return 0.5 * np.tanh(0.5 * x) + 0.5

    @njit(parallel=True, fastmath=True, cache=True)
    def _sample_block(logits_in, hidden, cells, table, recurrent, kernels, input_biases, candidate_biases, dense,
                      projection, projection_bias, vocab, inverse_temperature, greedy, uniforms, tokens_out,
                      logits_out):
        """Draws len(tokens_out) tokens: each from the previous logits, then feeds it.

        hidden and cells (layers, units) are updated in place (cells: the LSTM's, 0 rows for a
        GRU); logits_out[s] are the logits after token s. Shapes, with h = units / 2, g = 3
        gates (GRU) or 4 (LSTM) and V = the padded vocabulary / 2: table (2, vocab, g·h);
        recurrent (layers, 2, units, g·h); kernels (layers − 1, 2, units, g·h) and input_biases
        (layers − 1, 2, g·h) for layers after the first; candidate_biases (layers, 2, h), the
        GRU's; dense (layers, units, rank), or rank 0 without a bottleneck; projection (2, rank
        or layers × units, V); projection_bias (2, V). Each half's columns: its units of each gate.
        """
        layers, units = hidden.shape
        half = units // HALVES
        lstm = cells.shape[0] > 0
        columns = recurrent.shape[3]
        rank = dense.shape[2]
        width = projection.shape[2]
        fresh = np.empty_like(hidden)
        fresh_cells = np.empty_like(cells)
        for s in range(len(tokens_out)):
            previous = logits_in if s == 0 else logits_out[s - 1]
            token = _choose(previous, vocab, inverse_temperature, greedy, uniforms[s])
            tokens_out[s] = token
            for layer in range(layers):
                for part in prange(HALVES):
                    inputs = np.empty(columns, np.float32)
                    if layer == 0:
                        inputs[:] = table[part, token]
                    else:
                        inputs[:] = input_biases[layer - 1, part]
                        _accumulate(fresh[layer - 1], kernels[layer - 1, part], inputs)
                    mixed = np.zeros(columns, np.float32)
                    _accumulate(hidden[layer], recurrent[layer, part], mixed)
                    for j in range(half):
                        unit = part * half + j
                        first = _sigmoid(inputs[j] + mixed[j])  # GRU: update z; LSTM: input i
                        second = _sigmoid(inputs[half + j] + mixed[half + j])  # GRU: reset r; LSTM: forget f
                        if lstm:
                            candidate = np.tanh(inputs[2 * half + j] + mixed[2 * half + j])
                            output = _sigmoid(inputs[3 * half + j] + mixed[3 * half + j])
                            cell = second * cells[layer, unit] + first * candidate
                            fresh_cells[layer, unit] = cell
                            fresh[layer, unit] = output * np.tanh(cell)
                        else:
                            candidate = np.tanh(inputs[2 * half + j]
                                                + second * (mixed[2 * half + j] + candidate_biases[layer, part, j]))
                            fresh[layer, unit] = candidate + first * (hidden[layer, unit] - candidate)
            hidden[:] = fresh
            cells[:] = fresh_cells
            for part in prange(HALVES):  # each half of the vocabulary; the bottleneck is small, so both compute it
                if rank > 0:
                    features = np.zeros(rank, np.float32)
                    for layer in range(layers):
                        _accumulate(hidden[layer], dense[layer], features)
                else:
                    features = hidden.reshape(layers * units).copy()
                out = logits_out[s, part * width:(part + 1) * width]
                out[:] = projection_bias[part]
                _accumulate(features, projection[part], out)


_precompiling: subprocess.Popen | None = None  # another process filling Numba's cache, once started
PRECOMPILE_TIMEOUT_S = 120


def start_precompiling() -> None:
    """Compiles the sampling loop for float16-stored weights in another process, into Numba's
    cache, while this one loads the models: another core, and no lock shared with the loading
    (in a thread of this process it overlapped with nothing). `CompiledSampler.warm_up` waits for
    it and then reads the compiled code from the cache."""
    global _precompiling
    if numba is None or _precompiling is not None:
        return
    _precompiling = subprocess.Popen(
        [sys.executable, "-c", f"from {__name__} import precompile; precompile()"],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_precompiling() -> None:
    if _precompiling is not None:
        try:
            _precompiling.wait(PRECOMPILE_TIMEOUT_S)
        except subprocess.TimeoutExpired:  # this process compiles for itself
            pass


def precompile() -> None:
    """Compiles `_sample_block` for float16-stored weights on tiny stand-ins: what Numba compiles
    (and caches) depends on the arguments' types, not their sizes; these are the types
    `CompiledSampler.sample` passes for a model trained with `--round-matrices float16`."""
    layers, units, vocab, rank = 2, HALVES, 2, 1
    columns, half, width = 3 * units // HALVES, units // HALVES, vocab // HALVES

    def floats(*shape):
        return np.zeros(shape, np.float32)

    def halves(*shape):
        return np.zeros(shape, np.uint16)

    _sample_block(floats(vocab), floats(layers, units), floats(0, units), floats(HALVES, vocab, columns),
                  halves(layers, HALVES, units, columns), halves(layers - 1, HALVES, units, columns),
                  floats(layers - 1, HALVES, columns), floats(layers, HALVES, half), halves(layers, units, rank),
                  halves(HALVES, rank, width), floats(HALVES, width), vocab, np.float32(1.0), False,
                  np.zeros(1), np.empty(1, np.int64), floats(1, vocab))


def _halves_of_gates(matrix: np.ndarray, units: int) -> np.ndarray:
    """(..., gates·units), gates in Keras order → (2, ..., gates·half): each half's units of each gate."""
    half = units // HALVES
    gates = matrix.shape[-1] // units
    return np.ascontiguousarray(np.stack([
        np.concatenate([matrix[..., gate * units + part * half:gate * units + (part + 1) * half]
                        for gate in range(gates)], axis=-1)
        for part in range(HALVES)]), dtype=np.float32)


def _is_half_exact(values: np.ndarray) -> bool:
    return bool(np.array_equal(values.astype(np.float16).astype(np.float32), values))


class CompiledSampler:
    """Draws blocks of tokens from a GRU or LSTM language model's `NumpyLanguageModel` weights.

    `sample(logits, state, count, uniforms, temperature, threads)` returns (tokens, logits
    after each token, new state); the state is the NumPy step's, so the two can take turns.
    """

    def __init__(self, numpy_model):
        config = numpy_model.config
        if not supports(config):
            raise ValueError("the compiled sampler needs Numba, and a GRU or LSTM with an even number of units")
        units, layers = config.units, config.num_layers
        self.lstm = config.cell == "lstm"
        self.vocab = config.vocab_size
        self.table = _halves_of_gates(numpy_model.layers[0].input_kernel, units)
        self.recurrent = np.stack([_halves_of_gates(layer.recurrent_kernel, units)
                                   for layer in numpy_model.layers])  # (layers, 2, units, 3h)
        later = numpy_model.layers[1:]
        if later:
            self.kernels = np.stack([_halves_of_gates(layer.input_kernel, units) for layer in later])
            self.input_biases = np.stack([_halves_of_gates(layer.input_bias, units) for layer in later])
        else:  # one layer: empty, never read
            gates = GATES[config.cell] * units
            self.kernels = np.zeros((0, HALVES, units, gates // HALVES), np.float32)
            self.input_biases = np.zeros((0, HALVES, gates // HALVES), np.float32)
        half = units // HALVES
        if self.lstm:  # its one bias is on the input side, in the table and input_biases
            self.candidate_biases = np.zeros((layers, HALVES, half), np.float32)
        else:
            self.candidate_biases = np.ascontiguousarray(np.stack([
                np.stack([layer.recurrent_bias[part * half:(part + 1) * half] for part in range(HALVES)])
                for layer in numpy_model.layers]))
        own = [layer.dense_kernel for layer in numpy_model.layers]  # each layer's rows of the first dense layer
        if numpy_model.projection_kernel is not None:  # bottleneck: (layers, units, rank), then (rank, vocab)
            self.dense = np.ascontiguousarray(np.stack(own), dtype=np.float32)
            projection = numpy_model.projection_kernel
        else:
            self.dense = np.zeros((layers, units, 0), np.float32)
            projection = np.concatenate(own, axis=0)  # (layers × units, vocab)
        width = -(-self.vocab // HALVES)
        padded = np.zeros((projection.shape[0], width * HALVES), np.float32)
        padded[:, :self.vocab] = projection
        self.projection = np.ascontiguousarray(np.stack(np.split(padded, HALVES, axis=1)))
        matrices = ("recurrent", "kernels", "dense", "projection")
        # Weights rounded to float16 values in training (`--round-matrices float16`) are read as
        # float16: half the bytes, the same numbers. Others stay float32.
        self.half_precision = all(_is_half_exact(getattr(self, name)) for name in matrices)
        if self.half_precision:
            for name in matrices:
                setattr(self, name, getattr(self, name).astype(np.float16).view(np.uint16))
        bias = np.zeros(width * HALVES, np.float32)
        bias[:self.vocab] = numpy_model.projection_bias
        self.projection_bias = bias.reshape(HALVES, width)
        self.padded_vocab = width * HALVES

    def warm_up(self) -> None:
        """Compiles the sampling loop (seconds on a fresh machine; read from Numba's cache later)."""
        _wait_for_precompiling()
        zeros = np.zeros(self.recurrent.shape[2], np.float32)
        state = [[zeros] * (2 if self.lstm else 1) for _ in range(self.recurrent.shape[0])]
        self.sample(np.zeros(self.vocab, np.float32), state, 1, None, 0.0)

    def sample(self, logits: np.ndarray, state: list, count: int, uniforms: np.ndarray | None,
               temperature: float, threads: int = 1) -> tuple[np.ndarray, np.ndarray, list]:
        """Draws `count` tokens, the first from `logits`; `uniforms` (count,) in [0, 1) drive the
        draws (ignored for temperature 0, greedy). Returns (tokens, (count, vocab) logits, state)."""
        hidden = np.ascontiguousarray(np.stack([layer[0] for layer in state]), dtype=np.float32)
        cells = (np.ascontiguousarray(np.stack([layer[1] for layer in state]), dtype=np.float32) if self.lstm
                 else np.zeros((0, hidden.shape[1]), np.float32))
        first = np.zeros(self.padded_vocab, np.float32)
        first[:self.vocab] = logits
        tokens = np.empty(count, np.int64)
        logits_out = np.empty((count, self.padded_vocab), np.float32)
        greedy = temperature == 0
        draws = np.zeros(count) if uniforms is None else np.asarray(uniforms, dtype=np.float64)
        inverse = np.float32(0.0 if greedy else 1.0 / temperature)
        numba.set_num_threads(max(1, min(threads, HALVES, numba.config.NUMBA_NUM_THREADS)))
        _sample_block(first, hidden, cells, self.table, self.recurrent, self.kernels, self.input_biases,
                      self.candidate_biases, self.dense, self.projection, self.projection_bias, self.vocab,
                      inverse, greedy, draws, tokens, logits_out)
        if self.lstm:
            return tokens, logits_out[:, :self.vocab], [[h.copy(), c.copy()] for h, c in zip(hidden, cells)]
        return tokens, logits_out[:, :self.vocab], [[row.copy()] for row in hidden]
