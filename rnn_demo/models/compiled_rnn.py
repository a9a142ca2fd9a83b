"""Sampling from a GRU or LSTM language model, for one stream or a batch of streams at once, compiled
with Numba and split over two cores.

Why: per token the NumPy step reads 7.7 MB of float32 weights (the GRU; the LSTM 9.5 MB), more
than a core's 2 MB L2 cache, so one core spends most of each token waiting on memory. Here:
- every weight matrix is cut in two halves by hidden unit (the output layer by vocabulary
  entry), and each half always goes to the same thread: two cores read half the bytes each,
  side by side, and meet once after each layer and once after the logits;
- matrices that training rounded to float16 values (`--round-matrices float16`) are stored as
  float16 and widened in registers: half the bytes, exactly the same numbers;
- the next token is drawn inside the same compiled loop, a block of tokens per call, so Python
  is entered once per block instead of a dozen times per token;
- tanh, the sigmoid and the softmax's exp are plain arithmetic (a rational fit, a polynomial)
  rather than one libm call per value, so the gate and softmax loops run on vector registers: in
  a batch of 16 they had taken a third of each token's time;
- streams that run at the same time are rows of one batch: each weight is read once per token
  for all of them (matrix × matrix), while each row keeps its own temperature, draws and count;
  from ROWS_SPLIT_FROM rows the two threads split the batch by rows instead of the matrices by
  columns, and never wait for each other within a block (a batch waits on arithmetic, not memory).

A seed gives the same text at any load: each half's columns are summed by the same code in the
same order whether one thread or two run the halves, and each row's by the same code whatever
rows run beside it (a stream alone is a batch of one). The Keras model stays the reference;
`tests/test_compiled_rnn.py` compares logits (within 1e-4), greedy tokens and draws.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

HALVES = 2  # one per core of the target machine
GATES = {"gru": 3, "lstm": 4}  # in Keras order: z, r, candidate; i, f, candidate, o
ROWS_SPLIT_FROM = 8  # rows from which the two threads split a batch by rows rather than by columns

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


# Every compiled function: float arithmetic free to reorder and fuse, cached on disk, and a division
# by zero gives inf or nan as in NumPy: Python's error model checks every divisor and raises, a branch that
# kept the gate loops (tanh's rational fit divides) from running on vector registers: 14 ns a unit, 1 with it.
FAST = dict(fastmath=True, cache=True, error_model="numpy")

if numba is not None:

    @intrinsic
    def _half_to_float(typingctx, bits):
        """The float32 value of IEEE half-precision bits (one conversion instruction, vectorised)."""
        if bits != types.uint16:
            return None

        def codegen(context, builder, signature, args):
            return builder.fpext(builder.bitcast(args[0], ir.HalfType()), ir.FloatType())

        return types.float32(types.uint16), codegen

    @intrinsic
    def _float_of_bits(typingctx, bits):
        """The float32 whose IEEE bits are `bits` (int32): a reinterpretation, no instruction."""
        if bits != types.int32:
            return None

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.FloatType())

        return types.float32(types.int32), codegen

    def _widen(weight):
        """A stored weight as float32: half-precision bits are converted, float32 passes through."""

    @overload(_widen, inline="always")
    def _widen_overload(weight):
        if weight == types.uint16:
            return lambda weight: _half_to_float(weight)
        return lambda weight: weight

    @njit(**FAST)
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
        for j in range(vocab):  # the weights, on vector registers
            cumulative[j] = _exp_nonpositive(logits[j] * inverse_temperature - top)
        total = np.float32(0.0)
        for j in range(vocab):  # their running total, in order
            total += cumulative[j]
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

    # tanh(x) ≈ x·P(x²) / Q(x²) on [-7.9, 7.9] (±1 beyond, as float32 rounds it), Eigen's rational
    # fit for float32 (MathFunctionsImpl.h, generic_fast_tanh_float): within 3.5e-7 of the exact
    # value. Plain arithmetic, so the gate loops run on vector registers, where libm's tanhf is one
    # call per value (a third of a batched token's time).
    TANH_CLAMP = np.float32(7.90531110763549805)
    TANH_P = tuple(np.float32(c) for c in (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
                                           5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
                                           4.89352455891786e-03))
    TANH_Q = tuple(np.float32(c) for c in (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03,
                                           4.89352518554385e-03))

    @njit(**FAST)
    def _tanh(x):
        x = min(max(x, -TANH_CLAMP), TANH_CLAMP)
        x2 = x * x
        p, q = TANH_P, TANH_Q  # Horner's rule written out: a loop over a tuple is not unrolled, nor vectorised
        numerator = (((((p[0] * x2 + p[1]) * x2 + p[2]) * x2 + p[3]) * x2 + p[4]) * x2 + p[5]) * x2 + p[6]
        return x * numerator / (((q[0] * x2 + q[1]) * x2 + q[2]) * x2 + q[3])

    # exp(y) for y ≤ 0 as Cephes' expf computes it: y = k·ln 2 + r, |r| ≤ ln 2 / 2, e^r by a polynomial,
    # 2^k written into the exponent bits; within 1e-7 of the exact value, 0 below -87. Plain
    # arithmetic again, so the softmax of a whole vocabulary runs on vector registers.
    EXP_P = tuple(np.float32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
                                          1.6666665459e-1, 5.0000001201e-1))

    @njit(**FAST)
    def _exp_nonpositive(y):
        tiny = y < np.float32(-87.0)
        y = max(y, np.float32(-87.0))
        k = np.floor(y * np.float32(1.44269504088896341) + np.float32(0.5))
        r = y - k * np.float32(0.693359375) - k * np.float32(-2.12194440e-4)
        c = EXP_P  # Horner's rule written out, as in _tanh
        p = ((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]
        p = p * r * r + r + np.float32(1.0)
        value = p * _float_of_bits(np.int32((np.int32(k) + 127) << 23))
        return np.float32(0.0) if tiny else value

    @njit(**FAST)
    def _sigmoid(x):
        half = np.float32(0.5)  # a float32: Python's 0.5 would carry the arithmetic into float64
        return half * _tanh(half * x) + half

    @njit(**FAST)
    def _accumulate_rows(vectors, rows, matrix, out, offset):
        """out[b, offset:offset + cols] += vectors[b] @ matrix for each b in `rows`: a matrix × matrix
        product that reads each weight from memory once for every row. Four matrix rows at a time are
        widened once and applied to four batch rows at a time (`_four_rows`), so each widened weight
        serves four rows from registers; the batch rows left over take the same sums one row at a time
        (`_one_row`). Both write each row's sum as the same expression, and a row's numbers are the same in
        either (tests/test_compiled_rnn.py compares them bit for bit), so they never depend on its batch.
        At a batch of 16 this doubled the step's speed here (blocks of 4 × 4 and of 8 matrix rows × 4 measured
        the same; widening the float16 rows once for the whole batch, into a float32 copy, measured slower)."""
        inner, cols = matrix.shape
        count = len(rows)
        i = 0
        while i + 4 <= inner:
            k = 0
            while k + 4 <= count:
                _four_rows(vectors, rows[k], rows[k + 1], rows[k + 2], rows[k + 3], matrix, i, out, offset, cols)
                k += 4
            while k < count:
                _one_row(vectors, rows[k], matrix, i, out, offset, cols)
                k += 1
            i += 4
        while i < inner:
            m0 = matrix[i]
            for k in range(count):
                b = rows[k]
                a = vectors[b, i]
                target = out[b, offset:offset + cols]
                for j in range(cols):
                    target[j] += a * _widen(m0[j])
            i += 1

    @njit(**FAST, inline="always")
    def _one_row(vectors, b, matrix, i, out, offset, cols):
        """Matrix rows i..i+3 into batch row b."""
        m0, m1, m2, m3 = matrix[i], matrix[i + 1], matrix[i + 2], matrix[i + 3]
        a, c, d, e = vectors[b, i], vectors[b, i + 1], vectors[b, i + 2], vectors[b, i + 3]
        target = out[b, offset:offset + cols]
        for j in range(cols):
            target[j] += ((a * _widen(m0[j]) + c * _widen(m1[j])) + d * _widen(m2[j])) + e * _widen(m3[j])

    @njit(**FAST, inline="always")
    def _four_rows(vectors, b0, b1, b2, b3, matrix, i, out, offset, cols):
        """Matrix rows i..i+3 into batch rows b0..b3, each weight widened once for the four."""
        m0, m1, m2, m3 = matrix[i], matrix[i + 1], matrix[i + 2], matrix[i + 3]
        a0, c0, d0, e0 = vectors[b0, i], vectors[b0, i + 1], vectors[b0, i + 2], vectors[b0, i + 3]
        a1, c1, d1, e1 = vectors[b1, i], vectors[b1, i + 1], vectors[b1, i + 2], vectors[b1, i + 3]
        a2, c2, d2, e2 = vectors[b2, i], vectors[b2, i + 1], vectors[b2, i + 2], vectors[b2, i + 3]
        a3, c3, d3, e3 = vectors[b3, i], vectors[b3, i + 1], vectors[b3, i + 2], vectors[b3, i + 3]
        t0, t1 = out[b0, offset:offset + cols], out[b1, offset:offset + cols]
        t2, t3 = out[b2, offset:offset + cols], out[b3, offset:offset + cols]
        for j in range(cols):
            w0, w1, w2, w3 = _widen(m0[j]), _widen(m1[j]), _widen(m2[j]), _widen(m3[j])
            t0[j] += ((a0 * w0 + c0 * w1) + d0 * w2) + e0 * w3
            t1[j] += ((a1 * w0 + c1 * w1) + d1 * w2) + e1 * w3
            t2[j] += ((a2 * w0 + c2 * w1) + d2 * w2) + e2 * w3
            t3[j] += ((a3 * w0 + c3 * w1) + d3 * w2) + e3 * w3

    @njit(**FAST)
    def _rows_left(counts, step):
        """The rows that still draw at `step` (their count is larger)."""
        return np.nonzero(counts > step)[0]

    @njit(**FAST, nogil=True)
    def _draw(rows, s, logits, vocab, inverse_temperatures, greedy, uniforms, embedding, tokens_out, embedded):
        """Each of `rows` draws its token `s` from its logits; its embedding goes to `embedded`."""
        for b in rows:
            token = _choose(logits[b], vocab, inverse_temperatures[b], greedy[b], uniforms[b, s])
            tokens_out[b, s] = token
            embedded[b] = embedding[token]

    @njit(**FAST, nogil=True)
    def _layer_half(part, layer, rows, embedded, hidden, cells, fresh, fresh_cells, first_kernel, first_bias,
                    recurrent, kernels, input_biases, candidate_biases, inputs, mixed):
        """Half `part` of layer `layer`'s units for `rows`: their new values go to `fresh` (and `fresh_cells`)."""
        half = hidden.shape[2] // HALVES
        lstm = cells.shape[0] > 0
        for b in rows:
            inputs[part, b] = first_bias[part] if layer == 0 else input_biases[layer - 1, part]
            mixed[part, b] = 0.0
        if layer == 0:
            _accumulate_rows(embedded, rows, first_kernel[part], inputs[part], 0)
        else:
            _accumulate_rows(fresh[layer - 1], rows, kernels[layer - 1, part], inputs[part], 0)
        _accumulate_rows(hidden[layer], rows, recurrent[layer, part], mixed[part], 0)
        offset = part * half
        for b in rows:  # one row's vectors at a time
            if lstm:
                _lstm_units(inputs[part, b], mixed[part, b], cells[layer, b], fresh[layer, b], fresh_cells[layer, b],
                            offset, half)
            else:
                _gru_units(inputs[part, b], mixed[part, b], candidate_biases[layer, part], hidden[layer, b],
                           fresh[layer, b], offset, half)

    @njit(**FAST, nogil=True)
    def _gru_units(x, m, candidate_bias, previous, out, offset, half):
        """One row's GRU units offset..offset + half from their gates' input (x) and recurrent (m) sums."""
        for j in range(half):
            update = _sigmoid(x[j] + m[j])
            reset = _sigmoid(x[half + j] + m[half + j])
            candidate = _tanh(x[2 * half + j] + reset * (m[2 * half + j] + candidate_bias[j]))
            out[offset + j] = candidate + update * (previous[offset + j] - candidate)

    @njit(**FAST, nogil=True)
    def _lstm_units(x, m, cells, out, out_cells, offset, half):
        """One row's LSTM units offset..offset + half (and their cells) from their gates' sums."""
        for j in range(half):
            input_gate = _sigmoid(x[j] + m[j])
            forget = _sigmoid(x[half + j] + m[half + j])
            candidate = _tanh(x[2 * half + j] + m[2 * half + j])
            output = _sigmoid(x[3 * half + j] + m[3 * half + j])
            cell = forget * cells[offset + j] + input_gate * candidate
            out_cells[offset + j] = cell
            out[offset + j] = output * _tanh(cell)

    @njit(**FAST, nogil=True)
    def _keep(rows, hidden, cells, fresh, fresh_cells):
        """The rows' new state becomes their state."""
        for b in rows:
            hidden[:, b] = fresh[:, b]
            if cells.shape[0] > 0:
                cells[:, b] = fresh_cells[:, b]

    @njit(**FAST, nogil=True)
    def _logits_half(part, rows, hidden, dense, projection, projection_bias, f, fill, logits):
        """Half `part` of the vocabulary's logits for `rows`, from the features `f` of every layer (the
        bottleneck's outputs, or the layers' outputs side by side), which are computed first if `fill`."""
        layers, _, units = hidden.shape
        rank = dense.shape[2]
        width = projection.shape[2]
        for b in rows:
            if fill:
                if rank > 0:
                    f[b] = 0.0
                else:
                    for layer in range(layers):
                        f[b, layer * units:(layer + 1) * units] = hidden[layer, b]
            logits[b, part * width:(part + 1) * width] = projection_bias[part]
        if fill and rank > 0:
            for layer in range(layers):
                _accumulate_rows(hidden[layer], rows, dense[layer], f, 0)
        _accumulate_rows(f, rows, projection[part], logits, part * width)

    @njit(**FAST, nogil=True)
    def _block_of_rows(mine, logits, hidden, cells, embedding, first_kernel, first_bias, recurrent, kernels,
                       input_biases, candidate_biases, dense, projection, projection_bias, vocab, inverse_temperatures,
                       greedy, uniforms, counts, tokens_out, logits_out, fresh, fresh_cells, inputs, mixed, embedded,
                       features):
        """`_sample_block`'s work for the rows `mine` alone, on one thread: both halves of every matrix in turn,
        the features computed once for both halves of the vocabulary."""
        for s in range(counts[mine].max() if len(mine) else 0):
            rows = mine[counts[mine] > s]
            _draw(rows, s, logits, vocab, inverse_temperatures, greedy, uniforms, embedding, tokens_out, embedded)
            for layer in range(hidden.shape[0]):
                for part in range(HALVES):
                    _layer_half(part, layer, rows, embedded, hidden, cells, fresh, fresh_cells, first_kernel,
                                first_bias, recurrent, kernels, input_biases, candidate_biases, inputs, mixed)
            _keep(rows, hidden, cells, fresh, fresh_cells)
            for part in range(HALVES):
                _logits_half(part, rows, hidden, dense, projection, projection_bias, features, part == 0, logits)
            for b in rows:
                logits_out[b, s] = logits[b]

    @njit(**FAST, parallel=True, nogil=True)
    def _sample_block(logits, hidden, cells, embedding, first_kernel, first_bias, recurrent, kernels, input_biases,
                      candidate_biases, dense, projection, projection_bias, vocab, inverse_temperatures, greedy,
                      uniforms, counts, tokens_out, logits_out, by_rows):
        """Draws counts[b] tokens for each row b of a batch: each from the row's previous logits, then feeds it.

        Rows are independent streams: each has its own temperature (or greedy), uniform numbers and
        count, and its numbers are the same alone as beside any others. logits (batch, padded vocab)
        are each row's logits before its first token, and after its last on return; hidden and cells
        (layers, batch, units) are updated in place (cells: the LSTM's, (0, batch, units) for a
        GRU); tokens_out[b, s] is row b's token s and logits_out[b, s] the logits after it.
        Weights as for one stream, with h = units / 2, g = 3 gates (GRU) or 4 (LSTM) and V = the
        padded vocabulary / 2: embedding (vocab, e); first_kernel (2, e, g·h) and first_bias (2, g·h), the
        first layer's input side; recurrent (layers, 2, units, g·h); kernels
        (layers − 1, 2, units, g·h) and input_biases (layers − 1, 2, g·h) for layers after the
        first; candidate_biases (layers, 2, h), the GRU's; dense (layers, units, rank), or rank 0
        without a bottleneck; projection (2, rank or layers × units, V); projection_bias (2, V).
        Each half's columns: its units of each gate.

        How the two threads share the work:
        - by_rows False (a few rows): each thread takes one half of every matrix's columns for all
          the rows, and they meet after the draws, after each layer and after the logits: two cores
          read the weights, half each, which is what a lone stream waits on;
        - by_rows True (a batch): each thread takes half the rows (dealt by their counts, so the
          work is even) for the whole block, both halves of every matrix in turn, and they never
          meet: a batch waits on arithmetic, not on the weights, and the meetings (four a token) and
          the bottleneck both threads computed had cost a third of its time here.
        A row's numbers are the same either way: every column is summed by the same code in the same order.
        """
        layers, batch, units = hidden.shape
        columns = recurrent.shape[3]
        rank = dense.shape[2]
        features_width = rank if rank > 0 else layers * units
        fresh = np.empty_like(hidden)
        fresh_cells = np.empty_like(cells)
        inputs = np.zeros((HALVES, batch, columns), np.float32)
        embedded = np.zeros((batch, embedding.shape[1]), np.float32)
        mixed = np.zeros((HALVES, batch, columns), np.float32)
        features = np.zeros((HALVES, batch, features_width), np.float32)
        if by_rows:
            order = np.argsort(-counts, kind="mergesort")
            for group in prange(HALVES):  # each thread its share of the rows, the whole block
                _block_of_rows(order[group::HALVES], logits, hidden, cells, embedding, first_kernel, first_bias,
                               recurrent, kernels, input_biases, candidate_biases, dense, projection, projection_bias,
                               vocab, inverse_temperatures, greedy, uniforms, counts, tokens_out, logits_out, fresh,
                               fresh_cells, inputs, mixed, embedded, features[0])
            return
        for s in range(counts.max()):
            rows = _rows_left(counts, s)
            for k in prange(len(rows)):  # 1. each row draws its token from its logits
                _draw(rows[k:k + 1], s, logits, vocab, inverse_temperatures, greedy, uniforms, embedding, tokens_out,
                      embedded)
            for layer in range(layers):  # 2. the tokens through each layer, each half of its units on a thread
                for part in prange(HALVES):
                    _layer_half(part, layer, rows, embedded, hidden, cells, fresh, fresh_cells, first_kernel,
                                first_bias, recurrent, kernels, input_biases, candidate_biases, inputs, mixed)
            _keep(rows, hidden, cells, fresh, fresh_cells)
            for part in prange(HALVES):  # 3. logits, each half of the vocabulary on a thread (the bottleneck is
                _logits_half(part, rows, hidden, dense, projection, projection_bias, features[part], True,  # small:
                             logits)  # both compute it)
            for b in rows:
                logits_out[b, s] = logits[b]


_precompiling: subprocess.Popen | None = None  # another process filling Numba's cache, once started
PRECOMPILE_TIMEOUT_S = 120


def start_precompiling() -> None:
    """Compiles the sampling loop for float16-stored weights in another process, into Numba's
    cache, while this one loads the models: another core, and no lock shared with the loading
    (in a thread of this process it overlapped with nothing). `CompiledSampler.warm_up` waits for
    it and then reads the compiled code from the cache. Nothing is started when the cache already
    holds it: waiting for a process that only reads the cache cost the first answer about 1.5 s."""
    global _precompiling
    if numba is None or _precompiling is not None or cache_holds_the_sampler():
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


def cache_holds_the_sampler() -> bool:
    """Whether Numba's cache holds `_sample_block` compiled from this source, for the stand-ins' types and this
    CPU (read from Numba's own index, which it checks against the source's hash); False when it cannot tell."""
    try:
        signature = tuple(numba.typeof(argument) for argument in _stand_ins())
        machine = _sample_block.targetctx.codegen().magic_tuple()  # this CPU and its features
        index = _sample_block._cache._cache_file._load_index()  # Numba's reader of its index: {key: file}
    except Exception:  # noqa: BLE001 -- another Numba's internals: then the other process compiles, as always
        return False
    return any(key[0] == signature and key[1] == machine for key in index)


def precompile() -> None:
    """Compiles `_sample_block` for float16-stored weights on tiny stand-ins (`_stand_ins`)."""
    _sample_block(*_stand_ins())


def _stand_ins() -> tuple:
    """Tiny arguments of `_sample_block`: what Numba compiles (and caches) depends on the arguments' types,
    not their sizes; these are the types `CompiledSampler.sample` passes for a model trained with
    `--round-matrices float16`."""
    layers, units, vocab, rank, width_of_embedding = 2, HALVES, 2, 1, 1
    columns, half, width = 3 * units // HALVES, units // HALVES, vocab // HALVES

    def floats(*shape):
        return np.zeros(shape, np.float32)

    def halves(*shape):
        return np.zeros(shape, np.uint16)

    return (floats(1, vocab), floats(layers, 1, units), floats(0, 1, units), floats(vocab, width_of_embedding),
            halves(HALVES, width_of_embedding, columns), floats(HALVES, columns),
            halves(layers, HALVES, units, columns), halves(layers - 1, HALVES, units, columns),
            floats(layers - 1, HALVES, columns), floats(layers, HALVES, half), halves(layers, units, rank),
            halves(HALVES, rank, width), floats(HALVES, width), vocab, floats(1), np.zeros(1, np.bool_),
            np.zeros((1, 1)), np.ones(1, np.int64), np.empty((1, 1), np.int64), floats(1, 1, vocab), False)


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
        self.embedding = numpy_model.embedding  # the NumPy step's own array: one copy
        self.first_kernel = _halves_of_gates(numpy_model.layers[0].input_kernel, units)
        self.first_bias = _halves_of_gates(numpy_model.layers[0].input_bias, units)
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
        if self.lstm:  # its one bias is on the input side: first_bias and input_biases
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
        matrices = ("first_kernel", "recurrent", "kernels", "dense", "projection")
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
        """Draws `count` tokens for one stream, the first from `logits`; `uniforms` (count,) in [0, 1)
        drive the draws (ignored for temperature 0, greedy). Returns (tokens, (count, vocab) logits,
        state). A batch of one row of `sample_rows`: the same numbers as that stream beside others."""
        hidden, cells = self.packed([state])
        first = np.zeros((1, self.padded_vocab), np.float32)
        first[0, :self.vocab] = logits
        draws = np.zeros((1, count)) if uniforms is None else np.asarray(uniforms, dtype=np.float64)[None, :]
        tokens, after = self.sample_rows(first, hidden, cells, np.asarray([count]), draws,
                                         np.asarray([temperature]), threads=threads)
        return tokens[0], after[0], self.unpacked(hidden, cells)[0]

    def sample_rows(self, logits: np.ndarray, hidden: np.ndarray, cells: np.ndarray, counts: np.ndarray,
                    uniforms: np.ndarray, temperatures: np.ndarray, *, threads: int = HALVES
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Draws counts[b] tokens for each row b of a batch of streams, in one pass over the weights per token.

        Args:
            logits: (batch, padded_vocab) float32, each row's logits before its first token; on return,
                after its last.
            hidden, cells: (layers, batch, units) float32 (`packed`), each row's state, updated in place.
            counts: (batch,) tokens to draw for each row.
            uniforms: (batch, ≥ max count) in [0, 1), each row's own draws (a greedy row's are not read).
            temperatures: (batch,) each row's temperature; 0 = greedy.
            threads: cores to use (each takes one half of every weight matrix).
        Returns:
            (tokens (batch, max count), the logits after each (batch, max count, vocab)); a row's
            entries past its own count are not set.
        """
        counts = np.asarray(counts, dtype=np.int64)
        temperatures = np.asarray(temperatures, dtype=np.float64)
        greedy = temperatures == 0
        inverse = np.where(greedy, 0.0, 1.0 / np.where(greedy, 1.0, temperatures)).astype(np.float32)
        steps = int(counts.max())
        tokens = np.zeros((len(counts), steps), np.int64)
        logits_out = np.empty((len(counts), steps, self.padded_vocab), np.float32)
        threads = max(1, min(threads, HALVES, numba.config.NUMBA_NUM_THREADS))
        numba.set_num_threads(threads)
        _sample_block(logits, hidden, cells, self.embedding, self.first_kernel, self.first_bias, self.recurrent,
                      self.kernels, self.input_biases, self.candidate_biases, self.dense, self.projection,
                      self.projection_bias, self.vocab, inverse, greedy, np.ascontiguousarray(uniforms, dtype=np.float64),
                      counts, tokens, logits_out, threads > 1 and len(counts) >= ROWS_SPLIT_FROM)
        return tokens, logits_out[:, :, :self.vocab]

    def packed(self, states: list) -> tuple[np.ndarray, np.ndarray]:
        """NumPy-step states (one per row) → (hidden, cells), each (layers, batch, units) float32;
        a GRU's cells are (0, batch, units)."""
        hidden = np.ascontiguousarray(np.stack([[layer[0] for layer in state] for state in states], axis=1),
                                      dtype=np.float32)
        if not self.lstm:
            return hidden, np.zeros((0, *hidden.shape[1:]), np.float32)
        cells = np.stack([[layer[1] for layer in state] for state in states], axis=1)
        return hidden, np.ascontiguousarray(cells, dtype=np.float32)

    def unpacked(self, hidden: np.ndarray, cells: np.ndarray) -> list:
        """(hidden, cells) (layers, batch, units) → one NumPy-step state per row (copies)."""
        if self.lstm:
            return [[[h[row].copy(), c[row].copy()] for h, c in zip(hidden, cells)] for row in range(hidden.shape[1])]
        return [[[h[row].copy()] for h in hidden] for row in range(hidden.shape[1])]
