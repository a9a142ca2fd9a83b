"""The copy task: recall the marked symbol seen N steps before the end; the data of the vanishing-gradient study.

Every step shows one random symbol (one-hot over `symbols`); one step also carries the mark bit. After the
last step the net must name the marked symbol, N steps back (N = 1: the step before the last). Chance is
1 / symbols. Its answer needs the state to carry the symbol across N steps, and learning that needs the
gradient to reach back as far.
"""
from __future__ import annotations

import numpy as np

from .config import CopyConfig

MAX_PAGE_DISTANCE = 60  # the page recomputes up to this far back
PAGE_BATCH = 128  # sequences per recomputation in the page


def batch(config: CopyConfig, rng: np.random.Generator, size: int, distance: int | None = None,
          steps: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs (size, steps, symbols + 1), targets (size,), distances (size,)).

    Args:
        config: the task's symbols and its longest distance.
        rng: the random source.
        size: how many sequences.
        distance: every sequence's N; None: each drawn from 1..max_distance.
        steps: the sequences' length (default max_distance + 1; at least distance + 1).
    """
    steps = steps or config.max_distance + 1
    distances = (np.full(size, distance) if distance is not None
                 else rng.integers(1, config.max_distance + 1, size=size))
    if distances.max() >= steps:
        raise ValueError(f"a distance of {distances.max()} needs more than {steps} steps")
    symbols = rng.integers(config.symbols, size=(size, steps))
    inputs = np.zeros((size, steps, config.symbols + 1), np.float32)
    np.put_along_axis(inputs, symbols[:, :, None], 1.0, axis=2)
    marked = steps - 1 - distances
    inputs[np.arange(size), marked, config.symbols] = 1.0
    return inputs, symbols[np.arange(size), marked], distances


def check_distance(distance) -> int:
    """A distance the page may recompute (ValueError saying the range otherwise)."""
    if isinstance(distance, bool) or not isinstance(distance, (int, float)) or distance != int(distance):
        raise ValueError(f"the distance must be a whole number, not {distance!r}")
    if not 1 <= distance <= MAX_PAGE_DISTANCE:
        raise ValueError(f"the distance must be between 1 and {MAX_PAGE_DISTANCE}, not {int(distance)}")
    return int(distance)


def measure(net, config: CopyConfig, *, distance: int, seed: int, size: int = PAGE_BATCH) -> dict:
    """A NumPy copy net's figures at one distance: mean ‖∂L/∂h_t‖ for each step back, and its accuracy.

    Returns:
        {"distance", "gradient_norms": [step N back … step 0 back (the last)], "accuracy"}.
    """
    rng = np.random.default_rng(seed)
    inputs, targets, _ = batch(config, rng, size, distance=distance, steps=distance + 1)
    norms = net.state_gradient_norms(inputs, targets)
    return {"distance": distance, "gradient_norms": [float(n) for n in norms], "accuracy": net.accuracy(inputs, targets)}
