"""The scan's flagged clusters as a STIX 2.1 bundle that another provider can act on.

Per flagged cluster the bundle holds a `campaign` (time window, confidence from the cluster's risk,
capabilities and models in a distillguard property extension) and `indicator`s for what the cluster
left behind, each related to the campaign by `indicates`:

- IP ranges: ``[ipv4-addr:value ISSUBSET '203.0.113.0/24']`` (IPv6: /48)
- user agents: ``[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = '...']``
- template fingerprints: ``[x-distillguard-template:skeleton_hash = '...']``
- payment methods and e-mail domains, pseudonymized:
  ``[x-distillguard-account:payment_pseudonym = '...']``, ``email_domain_pseudonym``
- the cluster's accounts, pseudonymized: ``[user-account:user_id IN ('...', ...)]``

An `identity` names the reporting provider; a `report` lists every object; all objects carry a TLP
marking. Prompt text appears only when `share.include_prompts` is set.

The objects are written as JSON directly, property for property as the `stix2` library serializes
them (tests parse every object with `stix2.parse(..., allow_custom=False)` and check that it
serializes back to the same JSON). Building them with `stix2` costs a second per few hundred
indicators, most of it re-parsing each pattern, and its import costs a fifth of a second more;
every pattern here is one of a few fixed shapes around literals escaped by `quote`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from distillguard.report.scandir import Scan, open_scan
from distillguard.share.observables import ClusterObservables, Observable, collect
from distillguard.share.pseudonym import Pseudonymizer, ShareConfig, resolve_key, share_config

log = logging.getLogger(__name__)

# Stable identifiers of the distillguard extension, so that every bundle refers to the same definition.
_NS = uuid.UUID("6f1c0b1e-4d5a-5b8e-9a57-1f6e2d7c3b40")
EXTENSION_ID = f"extension-definition--{uuid.uuid5(_NS, 'distillguard-share-v1')}"
PROJECT_IDENTITY_ID = f"identity--{uuid.uuid5(_NS, 'distillguard-project')}"
_EPOCH = "2026-01-01T00:00:00.000Z"
SCHEMA_URL = "https://github.com/distillguard/distillguard/blob/main/docs/sharing.md"
ACCOUNTS_PER_INDICATOR = 200  # pseudonyms per user-account pattern, to keep patterns readable
SAMPLE_CHARS = 500

UA_PATH = "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"
# The TLP 1.0 marking definitions of STIX 2.1 (section 7.2.1.4): fixed ids, as stix2.TLP_* holds them.
_TLP_IDS = {
    "clear": ("white", "613f2e26-407d-48c7-9eca-b8e91df99dc9"),
    "green": ("green", "34098fce-860f-48ae-8e50-ebd3cc5e41da"),
    "amber": ("amber", "f88d31f6-486f-44da-b317-01333bde0b82"),
    "red": ("red", "5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),
}
_KIND_NAMES = {
    "ip_range": "IP range",
    "user_agent": "user agent",
    "template": "prompt template",
    "payment": "payment method",
    "email_domain": "e-mail domain",
}


def quote(value: str) -> str:
    """A STIX pattern string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern_for(item: Observable, pseudonym: Pseudonymizer) -> str:
    """The STIX pattern of one observable; payment methods and e-mail domains are pseudonymized."""
    if item.kind == "ip_range":
        sco = "ipv6-addr" if ":" in item.value else "ipv4-addr"
        return f"[{sco}:value ISSUBSET {quote(item.value)}]"
    if item.kind == "user_agent":
        return f"[{UA_PATH} = {quote(item.value)}]"
    if item.kind == "template":
        return f"[x-distillguard-template:skeleton_hash = {quote(item.value)}]"
    if item.kind in ("payment", "email_domain"):
        value = quote(pseudonym(item.kind, item.value))  # type: ignore[arg-type]
        return f"[x-distillguard-account:{item.kind}_pseudonym = {value}]"
    raise ValueError(f"no pattern for observable kind {item.kind!r}")


def timestamp(moment: datetime, *, millis: bool = False) -> str:
    """A STIX timestamp as stix2 writes it: UTC with a 'Z', the fraction of a second without trailing
    zeros, and at least milliseconds for `created` and `modified` (`millis`)."""
    moment = moment.astimezone(UTC)
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    if millis:
        fraction = fraction.ljust(3, "0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def _ts(epoch: float) -> str:
    return timestamp(datetime.fromtimestamp(epoch, UTC))


def _random_id(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


def _confidence(risk: float) -> int:
    return max(0, min(100, round(float(risk) * 100)))


def tlp_marking(level: str) -> dict[str, Any]:
    """The TLP marking definition for `share.tlp` (clear is TLP:WHITE in STIX 2.1)."""
    name, marking_uuid = _TLP_IDS[level]
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{marking_uuid}",
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": f"TLP:{name.upper()}",
        "definition": {"tlp": name},
    }


def _identity(identity_id: str, name: str, identity_class: str, created: str) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": created,
        "modified": created,
        "name": name,
        "identity_class": identity_class,
    }


def _extension_definition() -> dict[str, Any]:
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": EXTENSION_ID,
        "created_by_ref": PROJECT_IDENTITY_ID,
        "created": _EPOCH,
        "modified": _EPOCH,
        "name": "distillguard indicator context",
        "description": "Counts, capabilities, models and keyed pseudonyms attached to distillation "
        "campaigns and their indicators by distillguard.",
        "schema": SCHEMA_URL,
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }


def _ext(**props: Any) -> dict[str, Any]:
    return {
        EXTENSION_ID: {
            "extension_type": "property-extension",
            **{k: v for k, v in props.items() if v is not None},
        }
    }


def _sdo(kind: str, object_id: str, common: dict[str, Any], **props: Any) -> dict[str, Any]:
    """A STIX domain or relationship object in stix2's property order: the header, then `props` in
    the order given (the specification's), then the marking and the extension."""
    extensions = props.pop("extensions", None)
    obj = {
        "type": kind,
        "spec_version": "2.1",
        "id": object_id,
        "created_by_ref": common["created_by_ref"],
        "created": common["created"],
        "modified": common["created"],
        **props,
        "object_marking_refs": common["object_marking_refs"],
    }
    if extensions is not None:
        obj["extensions"] = extensions
    return obj


def build_bundle(scan: Scan, config: object | None = None) -> tuple[dict[str, Any], Pseudonymizer]:
    """The bundle (as STIX 2.1 JSON data) for the flagged clusters of `scan`, and the pseudonymizer
    it used."""
    cfg: ShareConfig = share_config(config)
    pseudonym = resolve_key(cfg)
    now = datetime.now(UTC)
    created = timestamp(now, millis=True)
    provider_id = f"identity--{uuid.uuid5(_NS, 'provider:' + cfg.provider_name)}"
    marking = tlp_marking(cfg.tlp)
    common = {"created_by_ref": provider_id, "object_marking_refs": [marking["id"]], "created": created}
    scan_key = str(scan.summary.get("started") or scan.summary.get("finished") or now.isoformat())

    objects: list[dict[str, Any]] = [
        marking,
        _identity(PROJECT_IDENTITY_ID, "distillguard", "system", _EPOCH),
        _extension_definition(),
        _identity(provider_id, cfg.provider_name, "organization", created),
    ]
    flagged = scan.clusters.loc[scan.clusters["flagged"].astype(bool)].sort_values("risk", ascending=False)
    verdicts = {r["cluster_id"]: r for r in flagged.to_dict("records")}
    found = collect(
        scan, list(verdicts), cfg.local_fp_guard, cfg.max_indicators_per_cluster, samples=cfg.include_prompts
    )
    for obs in found:
        if not obs.members:  # a flagged cluster none of whose accounts was flagged has no one to share
            continue
        objects.extend(_cluster_objects(obs, verdicts[obs.cluster_id], pseudonym, cfg, common, scan_key))
    shared = [o["id"] for o in objects if o["type"] in {"campaign", "indicator", "relationship"}]
    report = _sdo(
        "report",
        _random_id("report"),
        common,
        name=f"distillguard scan {scan.path.name}: "
        f"{sum(o['type'] == 'campaign' for o in objects)} distillation campaign(s)",
        report_types=["campaign", "indicator"],
        published=timestamp(now),
        object_refs=shared or [provider_id],
        extensions=_ext(
            pseudonym_scheme="hmac-sha256",
            pseudonym_key_id=pseudonym.key_id,
            accounts_scanned=int(scan.summary.get("accounts", len(scan.accounts))),
            exchanges_scanned=int(scan.summary.get("exchanges", 0)),
            distillguard_version=str(scan.summary.get("version", "")),
        ),
    )
    return {"type": "bundle", "id": _random_id("bundle"), "objects": [*objects, report]}, pseudonym


def _cluster_objects(
    obs: ClusterObservables,
    verdict: dict[str, Any],
    pseudonym: Pseudonymizer,
    cfg: ShareConfig,
    common: dict[str, Any],
    scan_key: str,
) -> list[dict[str, Any]]:
    confidence = _confidence(verdict["risk"])
    first, last = _ts(obs.first_seen), _ts(max(obs.last_seen, obs.first_seen))
    # clusters.csv lists "math_reasoning 48%, chat 17%"; the bundle carries the names
    capabilities = [c.split()[0] for c in str(verdict.get("capabilities") or "").split(",") if c.strip()]
    seed = "|".join((common["created_by_ref"], scan_key, obs.cluster_id))
    campaign = _sdo(
        "campaign",
        f"campaign--{uuid.uuid5(_NS, seed)}",
        common,
        name=f"Distillation cluster {obs.cluster_id}",
        description=f"{len(obs.members)} flagged accounts of a cluster of {obs.cluster_size}, "
        f"{int(verdict['exchanges'])} exchanges. "
        f"{verdict.get('reasons') or ''}".strip(),
        first_seen=first,
        last_seen=last,
        objective="Harvest model outputs to train a competing model (distillation)",
        confidence=confidence,
        extensions=_ext(
            cluster_id=obs.cluster_id,
            accounts=len(obs.members),
            cluster_accounts=obs.cluster_size,
            exchanges=int(verdict["exchanges"]),
            risk=round(float(verdict["risk"]), 4),
            capabilities=capabilities,
            models=obs.models,
            account_pseudonyms=[pseudonym("account", a) for a in obs.members],
            pseudonym_key_id=pseudonym.key_id,
            indicators_withheld_as_common=obs.skipped_common,
        ),
    )
    out: list[dict[str, Any]] = [campaign]

    def indicate(name: str, pattern: str, **ext: Any) -> None:
        # every indicator of the campaign: a STIX pattern, valid from its first exchange, its
        # confidence, and the relationship saying that it indicates the campaign
        indicator = _sdo(
            "indicator",
            _random_id("indicator"),
            common,
            name=name,
            indicator_types=["malicious-activity"],
            pattern=pattern,
            pattern_type="stix",
            pattern_version="2.1",
            valid_from=first,
            confidence=confidence,
            extensions=_ext(**ext),
        )
        relationship = _sdo(
            "relationship",
            _random_id("relationship"),
            common,
            relationship_type="indicates",
            source_ref=indicator["id"],
            target_ref=campaign["id"],
            confidence=confidence,
        )
        out.extend((indicator, relationship))

    for item in obs.items:
        sample = None
        if cfg.include_prompts and item.kind == "template" and item.sample:
            sample = item.sample[:SAMPLE_CHARS]
        indicate(
            f"{_KIND_NAMES[item.kind]} of distillation cluster {obs.cluster_id}",
            pattern_for(item, pseudonym),
            observable_kind=item.kind,
            accounts=item.accounts,
            exchanges=item.exchanges,
            sample_prompt=sample,
            pseudonym_key_id=pseudonym.key_id if item.kind in {"payment", "email_domain"} else None,
        )
    for start in range(0, len(obs.members), ACCOUNTS_PER_INDICATOR):
        chunk = [quote(pseudonym("account", a)) for a in obs.members[start : start + ACCOUNTS_PER_INDICATOR]]
        indicate(
            f"accounts of distillation cluster {obs.cluster_id} (pseudonymized)",
            f"[user-account:user_id IN ({', '.join(chunk)})]",
            observable_kind="account",
            accounts=len(chunk),
            pseudonym_key_id=pseudonym.key_id,
        )
    return out


def write_bundle(scan_dir: Path, config: object | None = None, out: Path | None = None) -> Path:
    """Write scan_dir/indicators.stix.json (or `out`) for the scan's flagged clusters and return its path.

    Pseudonyms use `share.pseudonym_key` or the key in the environment variable named by
    `share.pseudonym_key_env` (DISTILLGUARD_SHARE_KEY by default); without one, a random key is drawn
    for this bundle and recorded as `pseudonym_key_id: ephemeral`, so its pseudonyms match nothing."""
    with open_scan(scan_dir, findings=False) as scan:
        bundle, pseudonym = build_bundle(scan, config)
    if pseudonym.ephemeral:
        log.warning(
            "no pseudonym key (share.pseudonym_key or $%s): the bundle's pseudonyms use a one-off key "
            "and will match nothing",
            share_config(config).pseudonym_key_env,
        )
    target = Path(out) if out else Path(scan_dir) / "indicators.stix.json"
    target.write_bytes(orjson.dumps(bundle, option=orjson.OPT_INDENT_2) + b"\n")
    return target
