"""Shared fixtures: a tiny scenario with every archetype and a reseller campaign, simulated once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sim_tiny import TINY

from distillguard.simulate import parse_scenario, simulate


@pytest.fixture(scope="session")
def tiny_scenario():
    return parse_scenario(TINY, "<tiny>")


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory, tiny_scenario) -> Path:
    out = tmp_path_factory.mktemp("tiny-world")
    simulate(tiny_scenario, out, seed=1001, split="eval")
    return out
