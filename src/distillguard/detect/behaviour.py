"""Detectors on how an account sends traffic: round-the-clock cadence, machine regularity, no ramp."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from distillguard.detect.base import register
from distillguard.detect.rules import AccountRule, column, ramp


@register
class RoundTheClock(AccountRule):
    id = "round-the-clock"
    description = (
        "Traffic spread flat over all 24 hours of the day, with no human day/night rhythm, "
        "across most hours of the scan window."
    )
    false_positives = "Routers and gateways serving end users in every time zone; scheduled batch jobs."
    evidence_fields = (
        "exchanges",
        "hours_of_day",
        "hour_entropy",
        "diurnal_dispersion",
        "window_hour_coverage",
    )
    defaults: ClassVar[dict[str, float]] = {
        "min_exchanges": 96,
        "dispersion_flat": 1.5,
        "dispersion_diurnal": 4.0,
        "coverage_lo": 0.4,
    }

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        n = column(f, "exchanges", 0)
        flat = 1.0 - ramp(column(f, "diurnal_dispersion", 99), o["dispersion_flat"], o["dispersion_diurnal"])
        hours = ramp(column(f, "hours_of_day", 0), 18, 24)
        cover = ramp(column(f, "window_hour_coverage", 0), o["coverage_lo"], 0.9)
        return flat * hours * cover * (n >= o["min_exchanges"])

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        return (
            f"Active in {r.get('hours_of_day')} of 24 hours of the day and "
            f"{100 * float(r.get('window_hour_coverage') or 0):.0f}% of the window's hours, with an "
            f"hour-of-day dispersion of {float(r.get('diurnal_dispersion') or 0):.1f} (1 = flat)."
        )


@register
class MachineCadence(AccountRule):
    id = "machine-cadence"
    description = "Inter-arrival times far more regular than human or Poisson traffic (scripted pacing)."
    false_positives = "Cron jobs and pollers; rate-limited batch clients."
    evidence_fields = ("exchanges", "gap_mean_s", "gap_std_s", "gap_cv")
    defaults: ClassVar[dict[str, float]] = {"cv_regular": 0.3, "cv_poisson": 0.7, "min_exchanges": 30}

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        n = column(f, "exchanges", 0)
        regular = 1.0 - ramp(column(f, "gap_cv", 9), o["cv_regular"], o["cv_poisson"])
        return regular * (n >= o["min_exchanges"])

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        return (
            f"{r.get('exchanges')} requests paced every {float(r.get('gap_mean_s') or 0):.0f}s on average "
            "with a "
            f"coefficient of variation of {float(r.get('gap_cv') or 0):.2f} (Poisson traffic is near 1)."
        )


@register
class NoRamp(AccountRule):
    id = "no-ramp"
    description = (
        "A young account that runs at full throughput from its first observed day: no exploration, "
        "no ramp-up, its first day already (nearly) its busiest."
    )
    false_positives = "A migration of an existing workload to a fresh account."
    evidence_fields = (
        "exchanges",
        "age_at_first_days",
        "exchanges_per_active_day",
        "first_day_exchanges",
        "peak_day_exchanges",
        "first_day_ratio",
        "peak_hour_exchanges",
    )
    defaults: ClassVar[dict[str, float]] = {
        "young_days": 7.0,
        "old_days": 30.0,
        "rate_lo": 40.0,
        "rate_hi": 150.0,
        "ratio_lo": 0.5,
        "ratio_hi": 0.8,
    }

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        young = 1.0 - ramp(column(f, "age_at_first_days", np.inf), o["young_days"], o["old_days"])
        busy = ramp(column(f, "exchanges_per_active_day", 0), o["rate_lo"], o["rate_hi"])
        flat = ramp(column(f, "first_day_ratio", 0), o["ratio_lo"], o["ratio_hi"])
        return young * busy * flat

    def explain(self, r: dict[str, Any], o: dict[str, float]) -> str:
        age = r.get("age_at_first_days")
        age_txt = "n/a" if age is None else f"{float(age):.1f} days"
        return (
            f"Account first active {age_txt} after creation, already at "
            f"{float(r.get('exchanges_per_active_day') or 0):.0f} requests per active day; its first day "
            f"carried {100 * float(r.get('first_day_ratio') or 0):.0f}% of its busiest day's volume."
        )
