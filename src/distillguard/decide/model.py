"""The fusion model: how detector scores add up to a calibrated risk.

Fusion is additive in log-odds: every detector contributes `weight * score` (its score is 0
when it did not fire). Detectors are grouped in evidence families (content, behaviour,
infrastructure, coordination) and each family's sum is capped, because rules of one family
see the same facet of an account and are not independent witnesses. The account's cluster
contributes `cluster_weight * cluster_score` to the coordination family. A Platt scaling
`sigmoid(a * z + b)` turns the sum into a probability. No family's cap reaches the decision
margin alone (see docs/detection.md): a flag always needs two independent kinds of evidence.
The shipped parameters live in `fusion.json` next to this module.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class FusionModel:
    weights: dict[str, float]  # detector id -> log-odds weight per unit of score
    bias: float  # log-odds of an account with no evidence at all
    cluster_weight: float  # weight of the account's cluster score (coordination findings)
    default_weight: float = 1.0  # for detectors this model has no weight for
    families: dict[str, str] = field(default_factory=dict)  # detector id -> evidence family
    family_caps: dict[str, float] = field(default_factory=dict)  # family -> most log-odds it may add
    platt_a: float = 1.0  # calibration: risk = sigmoid(platt_a * z + platt_b)
    platt_b: float = 0.0
    threshold: float = 0.5  # the shipped decision threshold on calibrated risk
    provenance: dict[str, Any] = field(default_factory=dict)  # how the parameters were obtained

    def weight(self, detector: str) -> float:
        return self.weights.get(detector, self.default_weight)

    def family(self, detector: str) -> str:
        return self.families.get(detector, "coordination")

    def cap(self, family: str) -> float:
        return self.family_caps.get(family, float("inf"))

    def logit(self, evidence: np.ndarray) -> np.ndarray:
        """Raw log-odds from a summed evidence array (sum of weight * score, cluster included)."""
        return self.bias + evidence

    def risk(self, evidence: np.ndarray) -> np.ndarray:
        """Calibrated probability in [0, 1] from summed evidence."""
        z = self.platt_a * self.logit(np.asarray(evidence, dtype="float64")) + self.platt_b
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def to_json(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def from_json(cls, path: Path | str) -> FusionModel:
        data = json.loads(Path(path).read_text())
        return cls(**data)


def shipped() -> FusionModel:
    """The model shipped with distillguard (package data `decide/fusion.json`)."""
    text = resources.files("distillguard.decide").joinpath("fusion.json").read_text()
    return FusionModel(**json.loads(text))


def logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))
