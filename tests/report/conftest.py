from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from scan_fixture import build_scan_dir


@pytest.fixture(scope="session")
def scan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete scan directory (read-only: copy it before changing anything)."""
    return build_scan_dir(tmp_path_factory.mktemp("scan") / "out")


@pytest.fixture
def fresh_scan_dir(tmp_path: Path) -> Path:
    """A scan directory a test may change."""
    return build_scan_dir(tmp_path / "out")
