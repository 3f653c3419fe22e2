"""Indicator sharing between providers: a STIX 2.1 bundle of the scan's campaigns, and matching a
bundle received from another provider against a local scan."""

from distillguard.share.bundle import BundleError, read_bundle
from distillguard.share.match import IndicatorHit, MatchResult, match_bundle
from distillguard.share.pseudonym import Pseudonymizer, ShareConfig, resolve_key, share_config
from distillguard.share.stix import build_bundle, write_bundle

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
