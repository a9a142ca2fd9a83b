"""Batched decoding: the streams of one language model that run at the same time share each step.

One decoder thread per model (started when the first stream joins, asleep while none runs) gathers
the streams that are ready, draws the next block of tokens for all of them in one call of the
compiled sampler (each weight read once per token for every stream: matrix × matrix), and hands
each stream its block through its own queue. Each stream keeps its own temperature, random
numbers, max tokens and deadline, and its numbers are the same beside any others as alone (a
stream alone is a batch of one), so a seed and settings give the same text at any load.

A stream joins and leaves between blocks: one that ends, is closed by its reader (the client
left), or fails, is dropped before the next block, and the others go on. Streams feed their prompts
one at a time (NumPy, in their own threads), and the decoder waits a moment for those still feeding
before it starts a block, so that streams that start together share their first blocks. A reader that falls
behind sits out (its queue holds at most `BLOCKS_AHEAD` blocks) without holding up the others.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from ..decoding import BLOCK_TOKENS, FIRST_BLOCK_TOKENS, StepFn, StopReason, StreamEvent

log = logging.getLogger(__name__)

BLOCKS_AHEAD = 2  # blocks a stream's queue holds before its reader takes them: bounds memory (logits)
ARRIVAL_WAIT_S = 0.005  # how long the decoder waits for streams still feeding their prompts before a block
WAIT_MARGIN_S = 5.0  # a reader gives up this long after its deadline if no block came (the decoder died)


@dataclass
class _End:
    """The last item of a stream's queue: why it ended, or the error that ended it."""

    reason: str = ""
    error: BaseException | None = None


@dataclass(eq=False)
class _Row:
    """One stream as the decoder holds it between blocks."""

    logits: np.ndarray  # (padded vocab,) the logits the next token is drawn from
    state: list  # the NumPy step's state
    temperature: float
    rng: np.random.Generator
    max_new_tokens: int
    deadline: float  # time.monotonic() after which no block starts
    blocks: queue.Queue = field(default_factory=queue.Queue)  # (tokens, logits after each) blocks, then an _End
    produced: int = 0  # tokens drawn so far
    waiting: int = 0  # blocks in `blocks` not yet taken by the reader
    closed: bool = False  # the reader left, or the stream ended


class BatchDecoder:
    """Draws tokens for every stream of one language model at once (see the module docstring)."""

    def __init__(self, sampler, *, threads: int = 2):
        """
        Args:
            sampler: the model's `compiled_rnn.CompiledSampler`.
            threads: cores each batched call may use.
        """
        self.sampler = sampler
        self.threads = threads
        self._rows: list[_Row] = []
        self._arriving = 0  # streams feeding their prompts, about to join
        # One prompt fed at a time: 16 streams feeding theirs at once (NumPy, in their own threads) took 6-21 ms
        # each here, fighting over the interpreter lock between small NumPy calls, against 0.44 ms alone.
        self._feeding = threading.Lock()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    @property
    def streams(self) -> int:
        """Streams being decoded now."""
        with self._changed:
            return len(self._rows)

    def stream(self, step: StepFn, state, prompt_ids: Sequence[int], *, temperature: float, rng: np.random.Generator,
               max_new_tokens: int, deadline_s: float, stop: StopReason | None = None) -> Iterator[StreamEvent]:
        """As `decoding.stream` with the compiled sampler's blocks (the same tokens for the same `rng`):
        feeds the prompt with `step` in the caller's thread, then yields the tokens the decoder draws.

        A reader that wants no more tokens closes the iterator: the stream leaves before the next block.

        Args:
            step: the NumPy step that feeds the prompt.
            state: the state before the prompt.
            prompt_ids: tokens to feed first (at least one).
            temperature: 0 = greedy.
            rng: the stream's random numbers (as `Sampler.rng`: one uniform number per token).
            max_new_tokens: at most this many tokens are yielded.
            deadline_s: wall-clock seconds after which no further block starts.
            stop: if given, its `reason` is set to why the stream ended.
        """
        stop = stop if stop is not None else StopReason()
        deadline = time.monotonic() + deadline_s
        with self._changed:
            self._arriving += 1
        try:
            with self._feeding:
                logits, state = step(list(prompt_ids), state)
            padded = np.zeros(self.sampler.padded_vocab, np.float32)
            padded[:len(logits)] = logits
            row = _Row(padded, state, temperature, rng, max_new_tokens, deadline)
        except BaseException:
            with self._changed:
                self._arriving -= 1
                self._changed.notify()
            raise
        self._join(row)
        try:
            yield from self._events(row, logits, stop)
        finally:
            self._leave(row)

    def _events(self, row: _Row, logits: np.ndarray, stop: StopReason) -> Iterator[StreamEvent]:
        """The stream's tokens as the decoder hands them over, each with the logits it was drawn from."""
        while True:
            try:
                item = row.blocks.get(timeout=max(0.0, row.deadline - time.monotonic()) + WAIT_MARGIN_S)
            except queue.Empty:
                raise RuntimeError("the batch decoder stopped answering") from None
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                stop.reason = item.reason
                return
            with self._changed:
                row.waiting -= 1
                self._changed.notify()  # room in this stream's queue: it may draw again
            tokens, after = item
            for token, following in zip(tokens.tolist(), after):
                yield StreamEvent(token, logits)
                logits = following

    def _join(self, row: _Row) -> None:
        with self._changed:
            self._arriving -= 1
            self._rows.append(row)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="batch-decoder", daemon=True)
                self._thread.start()
            self._changed.notify()

    def _leave(self, row: _Row) -> None:
        with self._changed:
            row.closed = True
            if row in self._rows:
                self._rows.remove(row)
            self._changed.notify()

    def _run(self) -> None:
        """The decoder thread: one block for every ready stream, again and again; asleep while there is none.

        It lives as long as the process: Numba's OpenMP threads belong to the thread that calls the
        compiled code, and a new calling thread per stream would make (and spin) a new team each time."""
        while True:
            with self._changed:
                while not (ready := [row for row in self._rows if row.waiting < BLOCKS_AHEAD]):
                    self._changed.wait()
                if self._arriving:  # streams a moment from joining: one call for them too
                    self._changed.wait_for(lambda: not self._arriving, timeout=ARRIVAL_WAIT_S)
                    ready = [row for row in self._rows if row.waiting < BLOCKS_AHEAD]
                arriving = self._arriving > 0
            self._draw(self._counted(ready, short=arriving))

    def _counted(self, rows: list[_Row], *, short: bool = False) -> list[tuple[_Row, int, np.ndarray]]:
        """Each ready stream with the tokens of its next block and their uniform numbers; streams that are
        over get their end instead, and one whose numbers fail gets its error (the others go on).

        The blocks are those of `decoding.stream`: a short first block, then BLOCK_TOKENS, the
        deadline checked before each; the numbers are those the stream alone draws, in the same order.
        While a stream takes its short first block, the others' blocks are as short: a call lasts as long as
        its longest block, and the newcomers would otherwise sit idle for the rest of it (with 16 streams
        starting together, most of a whole block's time). So are they (`short`) while streams still arriving
        were not waited for: they join after a short call rather than a whole block. Where blocks end never
        changes a stream's text."""
        going = []
        for row in rows:
            if row.produced >= row.max_new_tokens:
                self._end(row, _End("max_tokens"))
            elif time.monotonic() > row.deadline:
                self._end(row, _End("deadline"))
            else:
                going.append(row)
        longest = FIRST_BLOCK_TOKENS if short or any(row.produced == 0 for row in going) else BLOCK_TOKENS
        counted = []
        for row in going:
            count = min(longest, row.max_new_tokens - row.produced)
            try:
                uniforms = np.zeros(count) if row.temperature == 0 else row.rng.random(count)
            except Exception as error:  # noqa: BLE001 -- this stream's own failure: its reader raises it
                self._end(row, _End(error=error))
                continue
            counted.append((row, count, uniforms))
        return counted

    def _draw(self, counted: list[tuple[_Row, int, np.ndarray]]) -> None:
        """One batched call for the counted streams; each gets its block (or, if the call fails, the error)."""
        if not counted:
            return
        rows = [row for row, _, _ in counted]
        counts = np.asarray([count for _, count, _ in counted])
        uniforms = np.zeros((len(rows), counts.max()))
        for index, (_, count, drawn) in enumerate(counted):
            uniforms[index, :count] = drawn
        try:
            logits = np.stack([row.logits for row in rows])
            hidden, cells = self.sampler.packed([row.state for row in rows])
            tokens, after = self.sampler.sample_rows(logits, hidden, cells, counts, uniforms,
                                                     np.asarray([row.temperature for row in rows]),
                                                     threads=self.threads)
            states = self.sampler.unpacked(hidden, cells)
        except Exception as error:  # noqa: BLE001 -- handed to each stream of the batch, whose reader raises it
            log.exception("batched step failed for %d streams", len(rows))
            for row in rows:
                self._end(row, _End(error=error))
            return
        for index, (row, count, _) in enumerate(counted):
            row.logits, row.state = logits[index], states[index]
            row.produced += count
            with self._changed:
                if row.closed:
                    continue
                row.waiting += 1
            row.blocks.put((tokens[index, :count], after[index, :count]))
            if row.produced >= row.max_new_tokens:
                self._end(row, _End("max_tokens"))

    def _end(self, row: _Row, end: _End) -> None:
        """Hands the stream its end and drops it from the batch (its reader still takes what is queued)."""
        with self._changed:
            row.closed = True
            if row in self._rows:
                self._rows.remove(row)
        row.blocks.put(end)
