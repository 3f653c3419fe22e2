"""The map workers' process server's own set-up. Imported only by that server (it is in its
preload list, and nothing else imports it); every worker is forked from the server afterwards.

- pyarrow is told here that pandas is absent. The first time pyarrow converts Python objects
  it looks for pandas, to recognise its objects, and imports it when it is installed: ~0.4 s,
  more than the rest of the map step's imports, before the first worker can start. The map
  step never hands pyarrow a pandas object, so the server makes that first look while pandas
  is hidden; pyarrow remembers the answer. Code that does ask pyarrow for pandas
  (`Table.to_pandas()`, in a bundle worker) still gets it: pyarrow looks again then.
- The signals' pattern database (`signals.multiscan`) is loaded here, once, and each worker
  inherits it. On a machine where no scan has run yet, it is compiled here once (2-3 s), not
  once in every worker at its first batch.
- When the scan that started the server ends, the server leaves at once. Otherwise it tears its
  interpreter down module by module (~0.3 s with pyarrow and pandas loaded), and all that time it
  holds the scan's standard output and error, which it inherited: a pipe reading the scan
  (`distillguard scan ... | tee log`, a subprocess capturing the output) stays open after the
  scan itself has exited. The server has nothing to clean up: its workers are gone by then, and
  each of them leaves through `os._exit` anyway.
"""

from __future__ import annotations

import atexit
import importlib.abc
import os
import sys

import pyarrow as pa


class _HidePandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"{name} is hidden from pyarrow's first look", name=name)


def _pyarrow_without_pandas() -> None:
    if "pandas" in sys.modules:  # already loaded: nothing to save
        return
    hide = _HidePandas()
    sys.meta_path.insert(0, hide)
    try:
        pa.array([0])  # pyarrow's one look for pandas
    finally:
        sys.meta_path.remove(hide)


_pyarrow_without_pandas()

from distillguard.signals import multiscan  # noqa: E402  (after the look: it builds arrays)


def _leave() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


multiscan.prepare()
atexit.register(_leave)
