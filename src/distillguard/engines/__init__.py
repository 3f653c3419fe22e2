"""The distributed engine: the scan's map and reduce steps on Apache Spark (see docs/spark.md).

`run_map_reduce(paths, store_dir, ...)` builds the same store as the embedded engine; PySpark is
imported only when it runs.
"""

from distillguard.engines.spark import run_map_reduce

__all__ = ["run_map_reduce"]
