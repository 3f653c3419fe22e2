"""Per-account behaviour features: one SQL definition for every engine (see docs/detection.md)."""

from distillguard.features.materialize import materialize
from distillguard.features.sql import ACCOUNT_FEATURES_SQL, DIALECTS, render

__all__ = ["ACCOUNT_FEATURES_SQL", "DIALECTS", "materialize", "render"]
