"""Building the SparkSession the distributed engine runs on.

Local mode (`local[N]`, the default) gets settings that work on a laptop or a CI box with no
network beyond loopback: the driver binds to 127.0.0.1, the web UI is off, Python workers run the
interpreter that runs distillguard, and memory is modest. On a cluster (`yarn`, `k8s://...`,
`spark://...`) only the settings that make results identical are forced (UTC session time zone,
Arrow transfers, microsecond Parquet timestamps); everything else comes from spark-submit or
spark-defaults.conf, where cluster operators expect it.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[2]"

# Settings every run needs for identical answers, whatever the master.
REQUIRED_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Int96 timestamps would lose the time zone and differ from the embedded store's columns.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # ANSI mode turns a division by zero into an error; both engines must return NULL instead.
    "spark.sql.ansi.enabled": "false",
}

# Defaults for local mode only: a cluster takes these from spark-submit.
LOCAL_CONF: dict[str, str] = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.memory": os.environ.get("DISTILLGUARD_SPARK_DRIVER_MEMORY", "2g"),
    # The account feature table (one row per account) is collected to the driver.
    "spark.driver.maxResultSize": "2g",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "5000",
    "spark.sql.adaptive.enabled": "true",
}


def is_local(master: str | None) -> bool:
    """True when `master` runs everything in this process's JVM (`local`, `local[N]`, `local[*]`)."""
    return master is None or master == "local" or master.startswith("local[")


def get_session(master: str | None = None, conf: dict[str, str] | None = None) -> SparkSession:
    """Return the active SparkSession, or build one for `master` (default `local[2]`, or the
    master given to spark-submit when running under it).

    An already running session is reused (its JVM start-up is the slowest part of a small run);
    the settings in `REQUIRED_CONF` and `conf` are applied to it at run time. Raises ImportError
    with the install hint when PySpark is missing.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the Spark engine needs PySpark: pip install 'distillguard[spark]' (and Java 17)"
        ) from exc
    # PySpark warns that pandas 3 is not fully supported; the engine exchanges Arrow, not pandas.
    warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas.*")

    active = SparkSession.getActiveSession()
    if active is not None:
        for key, value in {**REQUIRED_CONF, **(conf or {})}.items():
            if not key.startswith(("spark.driver.", "spark.executor.", "spark.ui.", "spark.local.")):
                active.conf.set(key, value)
        return active

    # Under spark-submit the master and resources come from its command line (it starts the JVM
    # and tells the Python driver how to reach it): do not override them.
    submitted = master is None and "PYSPARK_GATEWAY_PORT" in os.environ
    master = master or DEFAULT_MASTER
    settings = dict(REQUIRED_CONF)
    if not submitted and is_local(master):
        settings.update(LOCAL_CONF)
        # Workers must import pyarrow and distillguard: run them with this interpreter.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    settings.update(conf or {})

    builder = SparkSession.builder.appName("distillguard")
    if not submitted:
        builder = builder.master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(os.environ.get("DISTILLGUARD_SPARK_LOG_LEVEL", "ERROR"))
    return session
