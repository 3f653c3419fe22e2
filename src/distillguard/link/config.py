"""Options of the link stage, validated from the scan config's `link:` section."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Weight of one kind of shared evidence when a pair's similarity on it is 1.0.
DEFAULT_KIND_WEIGHTS: dict[str, float] = {
    "payment": 1.0,
    "ip": 0.6,
    "subnet": 0.3,
    "user_agent": 0.25,
    "client_fp": 0.3,
    "api_key": 1.0,
    "creation_burst": 0.4,
    "email_domain": 0.2,
    "template": 0.6,
    "system_prompt": 0.4,
    "tool_schema": 0.3,
    "lockstep": 0.8,
    "fingerprint": 0.4,
}


class LinkConfig(BaseModel):
    """Every knob of the account graph. Defaults were set on training worlds only."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    seed: int = 7  # Leiden is randomized; a fixed seed makes clusters reproducible
    resolution: float = 1.0  # RB-configuration resolution; >1 splits communities finer
    min_cluster_size: int = 2

    # Shared-key blocking: each account is paired with at most `block_window` others per key
    # (neighbours in one global account order, so different keys propose the same pairs), and
    # keys held by more than `block_max_share` of all accounts propose no pairs at all.
    block_window: int = 24
    block_max_share: float = 0.2

    ip_window_hours: float = 24.0  # an IP shared within this window is "the same machine"
    ipv6_prefix: int = 48
    creation_burst_hours: float = 6.0  # accounts created within one window form a burst
    lockstep_window_minutes: float = 10.0

    fingerprint_min_exchanges: int = 10  # fewer exchanges make a noisy behaviour vector
    fingerprint_bands: int = 16
    fingerprint_bits: int = 8

    kind_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_KIND_WEIGHTS))
    # A kind counts for a pair only when they share at least this many of its keys: two accounts
    # that send a popular template in the same window once or twice is chance, not lockstep.
    min_shared: dict[str, int] = Field(default_factory=lambda: {"lockstep": 4, "fingerprint": 8})
    # Similarity at which one kind links a pair on its own: a shared payment method, a shared API
    # key, or repeated lockstep (the same template in the same windows, as CopyCatch looks for).
    strong: dict[str, float] = Field(
        default_factory=lambda: {"payment": 0.5, "api_key": 0.5, "lockstep": 0.3}
    )
    evidence_min: float = 0.05  # weighted similarity one piece of evidence needs to count as agreeing
    min_agreeing: int = 2  # weak evidence must come from this many independent kinds
    min_weight: float = 0.15  # combined weight an edge needs to be kept

    density_scale: float = 2.0  # FRAUDAR density at which the cluster score reaches 1 - 1/e
    density_c: float = 5.0  # column weight 1 / log(c + degree), as in FRAUDAR

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> LinkConfig:
        """Validate the `link:` section; unknown keys are an error that names them."""
        raw = dict(raw or {})
        weights = dict(DEFAULT_KIND_WEIGHTS)
        weights.update(raw.pop("kind_weights", {}) or {})
        return cls(kind_weights=weights, **raw)
