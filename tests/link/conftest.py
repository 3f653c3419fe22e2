"""Fixtures for the linkage tests; the world-building helpers live in link_world.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from link_world import connect


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def make_con() -> Callable[..., Any]:
    return connect
