"""The one result type every detector returns.

A finding always carries its evidence: a flag without a reason a reviewer can check is useless
to a trust-and-safety team, so `evidence` is required and `explanation` is a sentence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SubjectKind = Literal["account", "cluster", "exchange"]


@dataclass(frozen=True, slots=True)
class Finding:
    detector: str  # registry id, e.g. "cot-harvest"
    subject_kind: SubjectKind
    subject_id: str
    score: float  # in [0, 1]: how strongly this detector implicates the subject
    explanation: str  # one sentence a reviewer can read
    evidence: dict[str, Any] = field(default_factory=dict)  # counts, ids, templates, linked accounts
    severity: Literal["info", "low", "medium", "high"] = "medium"

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"{self.detector}: score {self.score!r} is outside [0, 1]")
        if not self.evidence:
            raise ValueError(f"{self.detector}: a finding needs evidence")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
