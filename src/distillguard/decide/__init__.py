"""Fusion of findings into calibrated risk and verdicts per account and per cluster.

The names are imported on first use: the scan reads `DEFAULT_THRESHOLD` when it parses its
options, long before fusion runs, and should not pay then for the detectors fusion imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from distillguard.lazy import lazy_exports

if TYPE_CHECKING:
    from distillguard.decide.fusion import ACCOUNT_VERDICT_SCHEMA, CLUSTER_VERDICT_SCHEMA, Verdicts, fuse
    from distillguard.decide.model import DEFAULT_THRESHOLD, FusionModel, shipped

_EXPORTS = {
    "ACCOUNT_VERDICT_SCHEMA": "fusion",
    "CLUSTER_VERDICT_SCHEMA": "fusion",
    "Verdicts": "fusion",
    "fuse": "fusion",
    "DEFAULT_THRESHOLD": "model",
    "FusionModel": "model",
    "shipped": "model",
}
__all__ = [
    "ACCOUNT_VERDICT_SCHEMA",
    "CLUSTER_VERDICT_SCHEMA",
    "DEFAULT_THRESHOLD",
    "FusionModel",
    "Verdicts",
    "fuse",
    "shipped",
]

__getattr__ = lazy_exports(__name__, _EXPORTS)
