"""Shared by the share tests: the scan-directory fixture of the report tests, and a partner key."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "share_scan_fixture", Path(__file__).parents[1] / "report" / "scan_fixture.py"
)
assert _spec and _spec.loader
scan_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scan_fixture)

KEY = "correct horse battery staple 42"
