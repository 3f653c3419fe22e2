"""The fusion model: how detector scores add up to a calibrated risk.

Fusion is additive in log-odds. Every detector contributes `weight * score` (0 when it did not
fire) and the account's cluster `cluster_weight * cluster_score`. Detectors are grouped in four
evidence families (content, behaviour, infrastructure, coordination; the cluster counts as
coordination) and every pair of families gets an interaction term `pair_weight * F_a * F_b`,
where `F` is the strongest score among the family's specific detectors (`interacting`):
agreement between independent kinds of evidence is worth more than either alone, and a family
on its own gets only its main effects. A Platt scaling `sigmoid(a * z + b)` turns the sum into
a probability. The shipped parameters live in `fusion.json` next to this module, with the
command that produced them.
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
    pair_weights: dict[str, float] = field(default_factory=dict)  # "famA|famB" -> interaction weight
    # Detectors specific enough to vouch for their family in an interaction; weak context rules
    # (popular templates, a narrow capability, a tier) only add their main effect.
    interacting: list[str] = field(default_factory=list)
    # Detectors that are never evidence alone, only through an interaction (an IP per request is
    # how serverless apps look too; it counts when harvest content or coordination agrees).
    pair_only: list[str] = field(default_factory=list)
    # Detectors reported as evidence for a reviewer but given no weight at all (sharing a prompt
    # skeleton with other accounts is as common for public benchmarks, homework and popular
    # prompts as for scripts; the link stage's multi-kind evidence carries that signal instead).
    context_only: list[str] = field(default_factory=list)
    # Family pairs that are not independent witnesses (coordination often rests on shared
    # infrastructure, so IP rotation and linkage would count one fact twice): no interaction.
    pairs_off: list[str] = field(default_factory=list)
    platt_a: float = 1.0  # calibration: risk = sigmoid(platt_a * z + platt_b)
    platt_b: float = 0.0
    threshold: float = 0.5  # the shipped decision threshold on calibrated risk
    provenance: dict[str, Any] = field(default_factory=dict)  # how the parameters were obtained

    def weight(self, detector: str) -> float:
        if detector in self.pair_only or detector in self.context_only:
            return 0.0
        return self.weights.get(detector, self.default_weight)

    def interacts(self, detector: str) -> bool:
        if detector in self.context_only:
            return False
        return not self.interacting or detector in self.interacting

    def family(self, detector: str) -> str:
        return "coordination" if detector == "cluster" else self.families.get(detector, "coordination")

    def cap(self, family: str) -> float:
        return self.family_caps.get(family, float("inf"))

    def evidence(
        self, scores: dict[str, float], cluster_score: float = 0.0
    ) -> tuple[float, dict[str, float]]:
        """Summed log-odds evidence of one subject (bias excluded) and each detector's share of it.

        `scores` maps detector id -> score in [0, 1]; the cluster's share is keyed "cluster". An
        interaction term is split evenly between the strongest detectors of its two families.
        """
        parts: dict[str, float] = {}
        sums: dict[str, float] = {}
        top: dict[str, tuple[float, str]] = {}
        for det, sc in scores.items():
            if sc <= 0:
                continue
            fam = self.family(det)
            parts[det] = parts.get(det, 0.0) + self.weight(det) * sc
            sums[fam] = sums.get(fam, 0.0) + self.weight(det) * sc
            if sc > top.get(fam, (0.0, ""))[0] and self.interacts(det):
                top[fam] = (sc, det)
        if cluster_score > 0:
            parts["cluster"] = self.cluster_weight * cluster_score
            sums["coordination"] = sums.get("coordination", 0.0) + parts["cluster"]
            if cluster_score > top.get("coordination", (0.0, ""))[0]:
                top["coordination"] = (cluster_score, "cluster")
        total = 0.0
        for fam, v in sums.items():
            capped = min(v, self.cap(fam))
            total += capped
            if capped < v:  # a capped family's members share the cap in proportion
                for det in list(parts):
                    if self.family(det) == fam:
                        parts[det] *= capped / v
        for key, v in self.pair_weights.items():
            fa, fb = key.split("|")
            if v and fa in top and fb in top:
                term = v * top[fa][0] * top[fb][0]
                total += term
                for det in (top[fa][1], top[fb][1]):
                    parts[det] = parts.get(det, 0.0) + term / 2
        return total, parts

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


DEFAULT_THRESHOLD: float = shipped().threshold

FAMILIES = ("content", "behaviour", "infrastructure", "coordination")
PAIRS = tuple(f"{a}|{b}" for i, a in enumerate(FAMILIES) for b in FAMILIES[i + 1 :])


def logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))
