"""`simulate`: build a labelled world from a scenario and write it to a folder."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from distillguard.simulate import campaigns, legit
from distillguard.simulate.corpus import SPLITS, Split, corpus_origin
from distillguard.simulate.scenario import Scenario, load_scenario
from distillguard.simulate.world import World, iso
from distillguard.simulate.writer import write_world


@dataclass
class SimResult:
    """What a simulation wrote and how long it took."""

    out_dir: Path
    scenario: str
    seed: int
    split: str
    scale: float
    exchanges: int
    accounts: int
    campaign_accounts: int
    campaign_exchanges: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    bytes: int = 0

    @property
    def exchanges_path(self) -> Path:
        """The exchange log written."""
        return self.out_dir / "exchanges.jsonl"

    @property
    def accounts_path(self) -> Path:
        """The accounts file written."""
        return self.out_dir / "accounts.jsonl"

    @property
    def truth_path(self) -> Path:
        """The per-account ground truth written."""
        return self.out_dir / "truth.jsonl"


def build_world(scenario: Scenario, seed: int = 0, split: Split = "eval", scale: float = 1.0) -> World:
    """Generate every account and exchange of the scenario in memory (no files)."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'eval', got {split!r}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    world = World(scenario, seed, split, scale)
    for name, spec in scenario.legit.items():
        legit.generate(world, name, spec)
    for cidx, spec in enumerate(scenario.campaigns):
        campaigns.generate(world, spec, cidx)
    return world


def simulate(
    scenario: str | Path | Scenario,
    out_dir: str | Path,
    scale: float = 1.0,
    seed: int = 0,
    split: Split = "eval",
    fmt: str = "jsonl",
) -> SimResult:
    """Simulate `scenario` (a built-in name, a YAML path or a `Scenario`) into `out_dir`.

    Same scenario, scale, seed and split give byte-identical files. Use split="train" with
    seeds below 1000 for tuning detectors, split="eval" with seeds from 1000 for reporting.
    """
    started = time.perf_counter()
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    out = Path(out_dir)
    world = build_world(sc, seed=seed, split=split, scale=scale)
    counts = write_world(world, out, fmt=fmt)
    seconds = time.perf_counter() - started
    manifest = {
        "scenario": sc.name,
        "seed": seed,
        "split": split,
        "scale": scale,
        "corpus": corpus_origin(),
        "start": iso(world.start),
        "end": iso(world.end),
        "new_model": world.style.new_model,
        "new_model_release": iso(world.release),
        "campaigns": [c.id for c in sc.campaigns],
        **counts,
        "seconds": round(seconds, 3),
    }
    (out / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return SimResult(
        out_dir=out,
        scenario=sc.name,
        seed=seed,
        split=split,
        scale=scale,
        exchanges=counts["exchanges"],
        accounts=counts["accounts"],
        campaign_accounts=sum(1 for a in world.accounts if a.campaign_id),
        campaign_exchanges=counts["campaign_exchanges"],
        seconds=seconds,
        bytes=counts["bytes"],
    )
