"""The map workers' process server's own set-up. Imported only by that server (it is in its
preload list, and nothing else imports it); every worker is forked from the server afterwards.

- pyarrow's first look for pandas is made here with pandas hidden (`distillguard.nopandas`):
  loading pandas (~0.4 s) would take more than the rest of the map step's imports, before the
  first worker can start, and the map step never hands pyarrow a pandas object. A bundle worker
  forked from the server still gets pandas when it asks for it.
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
import os
import sys

from distillguard.nopandas import first_conversion

first_conversion()

from distillguard.signals import multiscan  # noqa: E402  (after the look: it builds arrays)


def _leave() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


multiscan.prepare()
atexit.register(_leave)
