import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "detect"))

import toyworld


@pytest.fixture(scope="module")
def world():
    return toyworld.build()
