"""Labelled traffic worlds from YAML scenarios: the red team's simulator.

`simulate(scenario, out_dir, scale, seed, split)` writes exchanges.jsonl, accounts.jsonl,
truth.jsonl, exchange_truth.parquet and manifest.json. See docs/simulator.md.
"""

from distillguard.simulate.corpus import load_prompts, split_of
from distillguard.simulate.errors import ScenarioError
from distillguard.simulate.scenario import Scenario, builtin_scenarios, load_scenario, parse_scenario
from distillguard.simulate.simulator import SimResult, build_world, simulate

__all__ = [
    "Scenario",
    "ScenarioError",
    "SimResult",
    "build_world",
    "builtin_scenarios",
    "load_prompts",
    "load_scenario",
    "parse_scenario",
    "simulate",
    "split_of",
]
