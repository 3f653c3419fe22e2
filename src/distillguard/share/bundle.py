"""Read a STIX 2.1 bundle received from another provider, checking it object by object.

Every problem is reported as a `BundleError` naming the object (its id, or its index when it has
none) and the field, e.g. ``indicator--… : Invalid value for Indicator 'pattern': …``, so the sender
can be told exactly what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import stix2
import stix2.exceptions
from stix2patterns.v21.pattern import Pattern

# A comparison as stix2-patterns reports it: object type, property path, operator, literal.
Comparison = tuple[str, tuple[str, ...], str, str]


class BundleError(ValueError):
    """The file is not a usable STIX 2.1 bundle; the message names the object and the field."""


@dataclass
class ReceivedIndicator:
    id: str
    name: str
    confidence: int | None
    comparisons: list[Comparison]
    extensions: dict[str, Any] = field(default_factory=dict)
    campaigns: list[str] = field(default_factory=list)  # campaign ids this indicator indicates


@dataclass
class ReceivedBundle:
    id: str
    provider: str | None
    indicators: list[ReceivedIndicator]
    campaigns: dict[str, dict[str, Any]]  # id -> campaign object
    skipped: list[str]  # indicators not readable here (other pattern languages), with the reason
    key_ids: set[str]  # pseudonym key fingerprints named by the bundle's distillguard extensions


def _where(obj: Any, index: int) -> str:
    if isinstance(obj, dict) and isinstance(obj.get("id"), str):
        return obj["id"]
    return f"objects[{index}]"


def read_bundle(path: Path) -> ReceivedBundle:
    """Parse and check the bundle at `path`; raise BundleError on the first problem found."""
    try:
        raw = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise BundleError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise BundleError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(raw, dict) or raw.get("type") != "bundle":
        found = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        raise BundleError(f"{path}: not a STIX bundle: top-level 'type' is {found!r}, expected 'bundle'")
    if raw.get("spec_version") not in (
        None,
        "2.1",
    ):  # STIX 2.0 bundles carried a spec_version; 2.1 ones do not
        raise BundleError(
            f"{path}: bundle {raw.get('id')}: 'spec_version' is {raw['spec_version']!r}; match reads STIX 2.1"
        )
    objects = raw.get("objects")
    if not isinstance(objects, list):
        raise BundleError(f"{path}: bundle {raw.get('id')}: 'objects' must be a list")

    indicators: list[ReceivedIndicator] = []
    campaigns: dict[str, dict[str, Any]] = {}
    relations: list[tuple[str, str]] = []
    identities: dict[str, str] = {}
    skipped: list[str] = []
    key_ids: set[str] = set()
    for index, obj in enumerate(objects):
        where = _where(obj, index)
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            raise BundleError(f"{path}: {where}: not a STIX object (no 'type')")
        # TLP 1.0 marking definitions predate spec_version; every other object must say 2.1.
        versioned = obj["type"] != "marking-definition" or "spec_version" in obj
        if versioned and obj.get("spec_version") != "2.1":
            raise BundleError(
                f"{path}: {where}: 'spec_version' is {obj.get('spec_version')!r}, expected '2.1'"
            )
        try:
            stix2.parse(obj, allow_custom=True, version="2.1")
        except (stix2.exceptions.STIXError, ValueError, TypeError) as exc:
            raise BundleError(f"{path}: {where}: {exc}") from None
        confidence = obj.get("confidence")
        if confidence is not None and not (isinstance(confidence, int) and 0 <= confidence <= 100):
            raise BundleError(f"{path}: {where}: 'confidence' is {confidence!r}, expected an integer 0-100")
        kind = obj["type"]
        for ext in (obj.get("extensions") or {}).values():
            if isinstance(ext, dict) and isinstance(ext.get("pseudonym_key_id"), str):
                key_ids.add(ext["pseudonym_key_id"])
        if kind == "identity":
            identities[obj["id"]] = obj.get("name", "")
        elif kind == "campaign":
            campaigns[obj["id"]] = obj
        elif kind == "relationship" and obj.get("relationship_type") == "indicates":
            relations.append((obj["source_ref"], obj["target_ref"]))
        elif kind == "indicator":
            if obj.get("pattern_type") != "stix":
                skipped.append(f"{obj['id']}: pattern_type {obj.get('pattern_type')!r} is not 'stix'")
                continue
            indicators.append(
                ReceivedIndicator(
                    id=obj["id"],
                    name=obj.get("name", ""),
                    confidence=obj.get("confidence"),
                    comparisons=_comparisons(path, obj),
                    extensions=_first_extension(obj),
                )
            )
    by_id = {i.id: i for i in indicators}
    for src, dst in relations:
        if src in by_id and dst in campaigns:
            by_id[src].campaigns.append(dst)
    provider_ids = {o.get("created_by_ref") for o in [*campaigns.values()] if o.get("created_by_ref")}
    provider = next((identities[i] for i in provider_ids if i in identities), None)
    return ReceivedBundle(str(raw.get("id", "")), provider, indicators, campaigns, skipped, key_ids)


def _first_extension(obj: dict[str, Any]) -> dict[str, Any]:
    for ext in (obj.get("extensions") or {}).values():
        if isinstance(ext, dict) and ext.get("extension_type") == "property-extension":
            return ext
    return {}


def _comparisons(path: Path, obj: dict[str, Any]) -> list[Comparison]:
    try:
        data = Pattern(obj["pattern"]).inspect()
    except Exception as exc:  # the pattern parser raises several exception types for bad syntax
        raise BundleError(
            f"{path}: {obj['id']}: field 'pattern' is not a valid STIX pattern: {exc}"
        ) from None
    return [
        (sco, tuple(str(p) for p in prop), op, literal)
        for sco, items in data.comparisons.items()
        for prop, op, literal in items
    ]


_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'")


def literals(literal: str) -> list[str]:
    """The string values of a pattern literal: one for 'x', several for ('x', 'y')."""
    return [re.sub(r"\\(.)", r"\1", m.group(1)) for m in _STRING.finditer(literal)]
