"""One interface for every detector, and the registry that holds them.

A detector reads the scan's tables through a `DetectionContext` and returns findings; it keeps no
state between scans. Timing and error handling live once, in `run_detectors`, not in each detector.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from distillguard.findings import Finding


@dataclass
class DetectionContext:
    """What a detector may read. `con` is a DuckDB connection over the scan's store."""

    con: Any  # duckdb.DuckDBPyConnection with views exchanges, accounts, account_features
    linkage: Any = None  # distillguard.link.Linkage, once the link stage has run
    config: dict[str, Any] = field(default_factory=dict)  # this detector's options, from the scan config
    # What several detectors look up about the same accounts (their top templates), kept for the
    # detectors after: the rules flag many of the same accounts.
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)


@runtime_checkable
class Detector(Protocol):
    id: ClassVar[str]  # stable, kebab-case: "cot-harvest"
    subject_kind: ClassVar[str]  # "account" | "cluster"
    description: ClassVar[str]

    def detect(self, ctx: DetectionContext) -> list[Finding]: ...


def needs_linkage(cls: type) -> bool:
    """Whether a detector reads `ctx.linkage` (or the edges it wrote). A detector that declares
    `needs_linkage = False` can run before the link stage ends; one that declares nothing waits."""
    return bool(getattr(cls, "needs_linkage", True))


def split_by_linkage(enabled: Iterable[str] | None = None) -> tuple[list[str], list[str]]:
    """The enabled detector ids (all by default) in registry order, as (without linkage, with)."""
    wanted = set(enabled) if enabled is not None else None
    ids = [d for d in _REGISTRY if wanted is None or d in wanted]
    late = [d for d in ids if needs_linkage(_REGISTRY[d])]
    return [d for d in ids if d not in late], late


def in_registry_order(findings: list[Finding]) -> list[Finding]:
    """Findings of detectors run in several batches, ordered as one `run_detectors` call orders them."""
    rank = {det_id: i for i, det_id in enumerate(_REGISTRY)}
    return sorted(findings, key=lambda f: rank.get(f.detector, len(rank)))


_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: add a detector to the registry under its `id`."""
    if cls.id in _REGISTRY and _REGISTRY[cls.id] is not cls:
        raise ValueError(f"detector id {cls.id!r} is registered twice")
    _REGISTRY[cls.id] = cls
    return cls


def registry() -> dict[str, type]:
    return dict(_REGISTRY)


def run_detectors(
    ctx: DetectionContext,
    enabled: Iterable[str] | None = None,
    on_done: Callable[[str, float, int], None] | None = None,
) -> list[Finding]:
    """Run the enabled detectors (all by default) and return their findings in registry order."""
    import time

    wanted = set(enabled) if enabled is not None else None
    findings: list[Finding] = []
    for det_id, cls in _REGISTRY.items():
        if wanted is not None and det_id not in wanted:
            continue
        started = time.perf_counter()
        out = cls().detect(ctx)
        findings.extend(out)
        if on_done:
            on_done(det_id, time.perf_counter() - started, len(out))
    return findings
