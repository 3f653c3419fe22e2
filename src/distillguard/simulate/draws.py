"""Small, fast random draws used by every generator (numpy's `choice` is slow on short lists)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def pick(rng: np.random.Generator, options: Sequence[T]) -> T:
    """One of `options`, uniformly (rng.choice is slow on small Python sequences)."""
    return options[int(rng.random() * len(options))]


def weighted_index(rng: np.random.Generator, weights: tuple[float, ...]) -> int:
    """An index drawn in proportion to `weights`."""
    r = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        r -= w
        if r < 0:
            return i
    return len(weights) - 1


def weighted(rng: np.random.Generator, weights: dict[str, float]) -> str:
    """One key of `weights`, drawn in proportion to its weight (cheaper than rng.choice)."""
    total = sum(weights.values())
    r = rng.random() * total
    for name, w in weights.items():
        r -= w
        if r < 0:
            return name
    return next(k for k, w in reversed(weights.items()) if w > 0)


def answer_len(rng: np.random.Generator, low: int = 200, high: int = 2500) -> int:
    """A log-uniform answer length in characters."""
    return int(low * (high / low) ** rng.random())
