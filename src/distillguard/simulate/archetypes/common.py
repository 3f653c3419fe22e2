"""What the legitimate archetypes share: default rates, body pools, request specs, model choice."""

from __future__ import annotations

import numpy as np

from distillguard.simulate.bodies import RequestSpec
from distillguard.simulate.draws import answer_len, pick, weighted
from distillguard.simulate.scenario import ArchetypeSpec
from distillguard.simulate.timing import HOUR
from distillguard.simulate.world import World

DEFAULT_RATE: dict[str, tuple[float, float]] = {
    "casual_chat": (2, 15),
    "tool_developer": (30, 160),
    "chat_product": (1500, 6000),
    "eval_runner": (1500, 5000),
    "router": (5000, 15000),
    "ci_agent": (150, 900),
    "serverless": (300, 2500),
    "new_account": (5, 60),
    "synthetic_data": (1500, 6000),
    "classroom": (4, 25),
}
DEFAULT_FLAVORS = {"anthropic_messages": 0.5, "openai_chat": 0.35, "openai_responses": 0.15}
POOL_CAP = 2500  # distinct bodies per high-volume account; repeats beyond that are realistic
REPEAT = 6  # a templated high-volume source sends each distinct body about this often


def flavor_for(rng: np.random.Generator, weights: dict[str, float] | None) -> str:
    """An API shape for one account."""
    return weighted(rng, weights or DEFAULT_FLAVORS)


def make_spec(rng: np.random.Generator, flavor: str, model: str, user: str, **kw) -> RequestSpec:
    """A request spec with typical answer size, max_tokens and temperature unless given."""
    kw.setdefault("answer_chars", answer_len(rng))
    kw.setdefault("max_tokens", pick(rng, (1024, 2048, 4096, 8192)))
    kw.setdefault("temperature", None if rng.random() < 0.5 else pick(rng, (0.2, 0.5, 0.7, 1.0)))
    return RequestSpec(flavor=flavor, model=model, user=user, **kw)


def new_model_mask(world: World, rng: np.random.Generator, ts: np.ndarray, adopt: float) -> np.ndarray:
    """Per exchange: True when the new model is used (after release, with probability `adopt`)."""
    return (ts >= world.release + int(rng.uniform(0.5, 12) * HOUR)) & (rng.random(len(ts)) < adopt)


def pool_size(n: int) -> int:
    """Distinct bodies for `n` requests of one templated source: repeats are part of the shape."""
    return min(POOL_CAP, max(20, n // REPEAT))


def pool_pick(rng: np.random.Generator, pool: list[int], n: int) -> np.ndarray:
    """`n` body indexes drawn from a pool."""
    return np.asarray(pool, dtype=np.int32)[rng.integers(0, len(pool), n)]


def rate_for(world: World, spec: ArchetypeSpec, name: str, rng: np.random.Generator) -> float:
    """Requests a day for one account: the scenario's range, else the archetype default."""
    return world.draw(spec.exchanges_per_day or DEFAULT_RATE[name], rng)
