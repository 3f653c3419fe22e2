"""Detector on model choice: the move of an account's traffic to a newly released model."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from distillguard.detect.base import register
from distillguard.detect.rules import AccountRule, column, ramp


@register
class ModelPivot(AccountRule):
    id = "model-pivot"
    description = (
        "An account already active before a model's release moved most of its traffic to the new model "
        "within 24 hours of its first appearance."
    )
    false_positives = "Release-day benchmark runs; products that track the newest model automatically."
    evidence_fields = (
        "exchanges",
        "pivot_model",
        "pivot_24h_share",
        "pivot_window_exchanges",
        "pre_release_exchanges",
        "new_model_adopt_delay_h",
        "new_model_share",
    )
    defaults: ClassVar[dict[str, float]] = {
        "share_lo": 0.3,
        "share_hi": 0.6,
        "min_window": 20,
        "min_before": 10,
    }

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        moved = ramp(column(f, "pivot_24h_share", 0), o["share_lo"], o["share_hi"])
        enough = (column(f, "pivot_window_exchanges", 0) >= o["min_window"]) & (
            column(f, "pre_release_exchanges", 0) >= o["min_before"]
        )
        return moved * enough

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        delay = r.get("new_model_adopt_delay_h")
        return (
            f"{100 * float(r.get('pivot_24h_share') or 0):.0f}% of the account's traffic in the 24 h after "
            f"{r.get('pivot_model')} appeared went to it, first used "
            f"{'n/a' if delay is None else f'{float(delay):.1f} h'} after release."
        )
