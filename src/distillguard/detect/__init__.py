"""Detectors behind one interface, and their registry.

Importing this package registers every detector module: the account-level rules here and the
cluster-level coordination detectors (when that module is present).
"""

import contextlib

from distillguard.detect import behaviour, content, infrastructure, linked, models, pool, pool_content
from distillguard.detect.base import (
    DetectionContext,
    Detector,
    in_registry_order,
    register,
    registry,
    run_detectors,
    split_by_linkage,
)
from distillguard.detect.catalog import catalog

with contextlib.suppress(ImportError):
    from distillguard.detect import coordination  # noqa: F401  (cluster-level detectors)

__all__ = [
    "DetectionContext",
    "Detector",
    "behaviour",
    "catalog",
    "content",
    "in_registry_order",
    "infrastructure",
    "linked",
    "models",
    "pool",
    "pool_content",
    "register",
    "registry",
    "run_detectors",
    "split_by_linkage",
]
