"""Imported only by the map workers' process server (it is in its preload list, and nothing else
imports it): when the scan that started the server ends, the server leaves at once.

Otherwise it tears its interpreter down module by module (~0.3 s with pyarrow and pandas
loaded), and all that time it holds the scan's standard output and error, which it inherited: a
pipe reading the scan (`distillguard scan ... | tee log`, a subprocess capturing the output)
stays open after the scan itself has exited. The server has nothing to clean up: its workers
are gone by then, and each of them leaves through `os._exit` anyway.
"""

from __future__ import annotations

import atexit
import os
import sys


def _leave() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


atexit.register(_leave)
