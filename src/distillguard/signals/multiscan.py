"""Every pattern family in one Hyperscan database: all of a column's family hits in one pass.

The content scores (``elicitation``) and the capability tags (``capability``) ask, per text,
which of some 45 pattern families occur in it. Through Arrow that is one RE2 pass over the
column per scan group and one per family on the candidate rows. Hyperscan (Intel's
multi-pattern engine, package ``hyperscan``) matches every family in one pass per text, about
four times faster on the scan benchmark's prompts, with the same answer: the families are
compiled with the flags that give RE2's semantics — UTF8 (a class or ``.`` matches a code
point, as in RE2 over UTF-8), MULTILINE (the ``(?m)`` the Arrow path prefixes) — and
SINGLEMATCH, since only whether a family occurs is asked. The tests hold both engines to the
same hits on real prompts.

Compiling the database takes a few seconds, so the compiled form is kept in the cache folder
(``distillguard.cache``), keyed by the patterns, the flags and the Hyperscan version: later
processes load it in a millisecond. When the folder cannot be written the database is compiled
in memory, once per process. Where Hyperscan is not installed (it has no wheel for Linux on ARM),
``family_hits`` returns None and the callers take the Arrow path. Setting
``DISTILLGUARD_MULTISCAN=0`` does the same.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from distillguard.cache import cache_dir, writable_cache_dir
from distillguard.signals.patterns import CAPABILITY_FAMILIES, PERSONA_FAMILIES, SIGNALS

try:  # pragma: no cover - which branch runs depends on the installation
    import hyperscan as _hs
except ImportError:  # pragma: no cover
    _hs = None

CAPABILITY = "capability"  # the group of the capability and persona keyword families
# (group, family, pattern): the content signals' families, then the capability keywords.
FAMILIES: tuple[tuple[str, str, str], ...] = (
    *((name, fam, pat) for name, (fams, _) in SIGNALS.items() for fam, pat in fams.items()),
    *((CAPABILITY, fam, pat) for fam, pat in {**CAPABILITY_FAMILIES, **PERSONA_FAMILIES}.items()),
)

_lock = threading.Lock()
_state: dict[str, Any] = {}  # "db": the compiled database, None when it could not be built
_local = threading.local()  # "scratch", with the "db" and "pid" it was made for: one per thread


def enabled() -> bool:
    """Whether the Hyperscan path is installed and not turned off."""
    return _hs is not None and os.environ.get("DISTILLGUARD_MULTISCAN", "1") != "0"


def _flags() -> int:
    return _hs.HS_FLAG_SINGLEMATCH | _hs.HS_FLAG_UTF8 | _hs.HS_FLAG_MULTILINE


def _cache_path() -> Path:
    digest = hashlib.sha256()
    for part in (_hs.__version__, str(_flags()), *(f"{g}\x00{f}\x00{p}" for g, f, p in FAMILIES)):
        digest.update(part.encode() + b"\x01")
    return cache_dir() / f"families-{digest.hexdigest()[:16]}.hsdb"


def _compile() -> Any:
    db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
    db.compile(
        expressions=[pat.encode() for _, _, pat in FAMILIES],
        ids=list(range(len(FAMILIES))),
        elements=len(FAMILIES),
        flags=[_flags()] * len(FAMILIES),
    )
    return db


def _load_or_compile() -> Any:
    """The database from the disk cache, else compiled (and stored for the next process)."""
    path = _cache_path()
    try:
        return _hs.loadb(path.read_bytes(), mode=_hs.HS_MODE_BLOCK)
    except (OSError, _hs.error):  # absent, unreadable, or built for another CPU: compile anew
        pass
    db = _compile()
    if writable_cache_dir() is None:  # a read-only home: compiled in memory, for this process only
        return db
    try:
        scratch = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        scratch.write_bytes(_hs.dumpb(db))
        scratch.replace(path)  # atomic: concurrent workers never read half a file
        for stale in path.parent.glob("families-*.hsdb"):  # earlier patterns or versions
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError:
        pass  # the folder went away or filled up: the database is compiled all the same
    return db


def _database() -> tuple[Any, Any] | None:
    """(database, scratch) for this thread, None when the families do not compile (the Arrow
    path then answers). A forked child inherits the database and makes its own scratch."""
    with _lock:
        if "db" not in _state:
            try:
                _state["db"] = _load_or_compile()
            except _hs.error:  # a family outside what Hyperscan supports
                _state["db"] = None
        db = _state["db"]
    if db is None:
        return None
    if getattr(_local, "pid", None) != os.getpid() or getattr(_local, "db", None) is not db:
        _local.scratch, _local.db, _local.pid = _hs.Scratch(db), db, os.getpid()
    return db, _local.scratch


def prepare() -> bool:
    """Load (or compile and store) the database now rather than at the first scan: a process
    that forks workers does, so that they inherit it. True when the Hyperscan path is on."""
    return enabled() and _database() is not None


def family_hits(folded: pa.Array | pa.ChunkedArray) -> dict[str, dict[str, np.ndarray]] | None:
    """Per group (a content signal, or CAPABILITY) and family: does the family occur in each
    row of `folded` (a string column without nulls). None when Hyperscan is not enabled."""
    found_db = _database() if enabled() else None
    if found_db is None:
        return None
    db, scratch = found_db
    n = len(folded)
    found = np.zeros((n, len(FAMILIES)), dtype=bool)
    if n:
        rows, ids = _scan(db, scratch, folded)
        found[rows, ids] = True
    out: dict[str, dict[str, np.ndarray]] = {}
    for j, (group, fam, _) in enumerate(FAMILIES):
        out.setdefault(group, {})[fam] = found[:, j]
    return out


def _scan(db: Any, scratch: Any, folded: pa.Array) -> tuple[list[int], list[int]]:
    """(row, family number) of every hit, each text scanned on its own (a match never spans
    two rows). The texts are views of the column's data buffer, not copied one by one."""
    if isinstance(folded, pa.ChunkedArray):
        folded = folded.combine_chunks()
    folded = folded.cast(pa.large_string())
    n, first = len(folded), folded.offset
    offsets = np.frombuffer(folded.buffers()[1], np.int64)[first : first + n + 1].tolist()
    data = memoryview(folded.buffers()[2]) if offsets[-1] > offsets[0] else memoryview(b"")
    rows: list[int] = []
    ids: list[int] = []

    def on_match(family: int, start: int, end: int, flags: int, row: int) -> None:
        rows.append(row)
        ids.append(family)

    scan = db.scan
    for i in range(n):
        scan(data[offsets[i] : offsets[i + 1]], match_event_handler=on_match, context=i, scratch=scratch)
    return rows, ids
