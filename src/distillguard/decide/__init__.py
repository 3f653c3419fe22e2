"""Fusion of findings into calibrated risk and verdicts per account and per cluster."""

from distillguard.decide.fusion import ACCOUNT_VERDICT_SCHEMA, CLUSTER_VERDICT_SCHEMA, Verdicts, fuse
from distillguard.decide.model import FusionModel, shipped

DEFAULT_THRESHOLD: float = shipped().threshold

__all__ = [
    "ACCOUNT_VERDICT_SCHEMA",
    "CLUSTER_VERDICT_SCHEMA",
    "DEFAULT_THRESHOLD",
    "FusionModel",
    "Verdicts",
    "fuse",
    "shipped",
]
