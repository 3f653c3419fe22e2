"""Shared fixtures for the Spark engine's tests: one local SparkSession for the whole run.

The JVM takes seconds to start, so every test reuses one `local[2]` session. The tests are
skipped (not failed) on a machine without Java or PySpark; CI has both.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

# Small shuffles and small file blocks: tests run on a few thousand rows, and small blocks make
# Spark split the plain JSON Lines file, which is what line numbering must survive.
TEST_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.files.maxPartitionBytes": str(128 * 1024),
    "spark.sql.files.openCostInBytes": str(64 * 1024),
    "spark.default.parallelism": "2",
    # Compiling generated code costs more than it saves on a few thousand rows.
    "spark.sql.codegen.wholeStage": "false",
}


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """A local[2] SparkSession shared by every test of the session."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("the Spark engine needs Java 17 on PATH")
    from distillguard.engines.session import get_session

    session = get_session("local[2]", conf=TEST_CONF)
    yield session
    session.stop()
