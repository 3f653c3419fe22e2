"""Shared helpers for the signal tests: held-out phrasings and a small corpus sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).parent / "data"
CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"


@pytest.fixture(scope="session")
def heldout() -> dict:
    return yaml.safe_load((DATA / "heldout_phrasings.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def dev_phrasings() -> dict:
    return yaml.safe_load((DATA / "dev_phrasings.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def corpus_sample() -> list[str]:
    """Every 40th prompt of each corpus file (about 450 prompts); skipped when absent."""
    if not CORPORA.is_dir():
        pytest.skip("shared corpora not found next to the repository")
    texts: list[str] = []
    for path in sorted(CORPORA.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for i, line in enumerate(fh) if i % 40 == 0]
    return texts
