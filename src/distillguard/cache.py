"""Where distillguard keeps what it compiled, so that later processes load it instead.

The compiled pattern database of the signals (`signals.multiscan`) and the report's compiled
templates live in ``$DISTILLGUARD_CACHE_DIR``, else ``$XDG_CACHE_HOME/distillguard``, else
``~/.cache/distillguard``. Everything there is rebuilt when missing, unreadable or stale, so the
folder may be deleted at any time; when it cannot be written, each process compiles for itself.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache folder (it may not exist yet)."""
    if explicit := os.environ.get("DISTILLGUARD_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "distillguard"


def writable_cache_dir() -> Path | None:
    """The cache folder, created if need be; None when it cannot be created."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None
