"""Generation loops over a model's `step(tokens, state) -> (logits, state)`."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np

StepFn = Callable[[Sequence[int], object], tuple[np.ndarray, object]]
ChooseFn = Callable[[np.ndarray, Sequence[int]], int]


@dataclass
class StreamEvent:
    """One generated token, with the distribution it was drawn from (for display)."""

    token: int
    logits: np.ndarray


@dataclass
class StopReason:
    reason: str = "max_tokens"  # "max_tokens", "stop_token", "deadline" or "cancelled"


def stream(step: StepFn, state, prompt_ids: Sequence[int], *, choose: ChooseFn, max_new_tokens: int,
           deadline_s: float, stop_ids: Sequence[int] = (), should_stop: Callable[[], bool] = lambda: False,
           stop: StopReason | None = None) -> Iterator[StreamEvent]:
    """Feeds the prompt, then yields one chosen token at a time.

    Args:
        step: the model's resumable step.
        state: the state before the prompt.
        prompt_ids: tokens to feed first (at least one).
        choose: picks the next token from logits and the tokens so far.
        max_new_tokens: at most this many tokens are yielded.
        deadline_s: wall-clock seconds after which the loop ends.
        stop_ids: tokens that end the loop (not yielded).
        should_stop: polled before each token; True ends the loop (e.g. the client left).
        stop: if given, its `reason` is set to why the loop ended.
    """
    stop = stop if stop is not None else StopReason()
    deadline = time.monotonic() + deadline_s
    history = list(prompt_ids)
    logits, state = step(history, state)
    for _ in range(max_new_tokens):
        if should_stop():
            stop.reason = "cancelled"
            return
        if time.monotonic() > deadline:
            stop.reason = "deadline"
            return
        token = choose(logits, history)
        if token in stop_ids:
            stop.reason = "stop_token"
            return
        yield StreamEvent(token, logits)
        history.append(token)
        logits, state = step([token], state)
    stop.reason = "max_tokens"
