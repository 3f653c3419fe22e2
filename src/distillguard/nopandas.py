"""pyarrow's first look for pandas, made with pandas hidden.

The first time pyarrow converts Python objects it looks for pandas, to recognise pandas objects,
and imports it when it is installed (~0.3-0.4 s). A process that does not need pandas yet makes
that first conversion here, with pandas hidden from the calling thread only; pyarrow remembers
the answer. Code that asks pyarrow for pandas (`Table.to_pandas()`, `Table.from_pandas()`) still
gets it: pyarrow looks again then, and so does everything that imports pandas itself.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading

import pyarrow as pa


class _HidePandas(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if threading.get_ident() == self.thread and (name == "pandas" or name.startswith("pandas.")):
            raise ModuleNotFoundError(f"{name} is hidden from pyarrow's first look", name=name)


def first_conversion() -> None:
    """Make this process's first conversion of Python objects by pyarrow without loading pandas
    (nothing to do when pandas is loaded already)."""
    if "pandas" in sys.modules:
        return
    hide = _HidePandas()
    sys.meta_path.insert(0, hide)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(hide)
