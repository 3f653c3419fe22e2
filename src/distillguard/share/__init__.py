"""Indicator sharing between providers: a STIX 2.1 bundle of the scan's campaigns, and matching a
bundle received from another provider against a local scan.

The names are imported on first use: writing a bundle needs neither the pattern parser nor the
STIX library that reading one does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from distillguard.lazy import lazy_exports

if TYPE_CHECKING:
    from distillguard.share.bundle import BundleError, read_bundle
    from distillguard.share.match import IndicatorHit, MatchResult, match_bundle
    from distillguard.share.pseudonym import Pseudonymizer, ShareConfig, resolve_key, share_config
    from distillguard.share.stix import build_bundle, write_bundle

_EXPORTS = {
    "BundleError": "bundle",
    "read_bundle": "bundle",
    "IndicatorHit": "match",
    "MatchResult": "match",
    "match_bundle": "match",
    "Pseudonymizer": "pseudonym",
    "ShareConfig": "pseudonym",
    "resolve_key": "pseudonym",
    "share_config": "pseudonym",
    "build_bundle": "stix",
    "write_bundle": "stix",
}
__all__ = [
    "BundleError",
    "IndicatorHit",
    "MatchResult",
    "Pseudonymizer",
    "ShareConfig",
    "build_bundle",
    "match_bundle",
    "read_bundle",
    "resolve_key",
    "share_config",
    "write_bundle",
]

__getattr__ = lazy_exports(__name__, _EXPORTS)
