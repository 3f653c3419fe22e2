"""Pausing Python's cyclic garbage collector around allocation-heavy work that makes no cycles."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic collector for the block. Parsing JSON records and building rows, or a
    page's views, allocates hundreds of thousands of small dicts, lists and strings that reference
    counting frees; the collector's passes over the whole heap (a map worker's text memo, the
    scan's findings) cost up to a tenth of such work and find nothing to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
