from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from share_support import KEY, scan_fixture


@pytest.fixture(scope="session")
def scan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete scan directory (read-only)."""
    return scan_fixture.build_scan_dir(tmp_path_factory.mktemp("scan") / "out")


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> str:
    """The shared pseudonym key, set in the environment."""
    monkeypatch.setenv("DISTILLGUARD_SHARE_KEY", KEY)
    return KEY


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISTILLGUARD_SHARE_KEY", raising=False)
