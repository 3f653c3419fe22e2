from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

# The scan-directory fixture is shared with the report tests.
_spec = importlib.util.spec_from_file_location(
    "share_scan_fixture", Path(__file__).parents[1] / "report" / "scan_fixture.py"
)
assert _spec and _spec.loader
scan_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scan_fixture)

KEY = "correct horse battery staple 42"


@pytest.fixture(scope="session")
def scan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scan_fixture.build_scan_dir(tmp_path_factory.mktemp("scan") / "out")


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> str:
    """The shared pseudonym key, set in the environment."""
    monkeypatch.setenv("DISTILLGUARD_SHARE_KEY", KEY)
    return KEY


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISTILLGUARD_SHARE_KEY", raising=False)
