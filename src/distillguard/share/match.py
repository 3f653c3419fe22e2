"""Match a bundle received from another provider against a local scan.

Each comparison of each indicator is checked on its own against the local store: IP addresses
against ranges (ISSUBSET) or exact addresses, user agents and template fingerprints exactly (or with
LIKE / MATCHES), and pseudonyms against the local account ids, payment fingerprints and e-mail
domains hashed under the local key. Comparisons joined by AND or by observation operators are not
enforced together: a match means the local account shares at least one indicated value, and the
result says which.
"""

from __future__ import annotations

import ipaddress
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from distillguard.report.scandir import Scan, open_scan
from distillguard.share.bundle import Comparison, ReceivedBundle, literals, read_bundle
from distillguard.share.pseudonym import Pseudonymizer, resolve_key, share_config
from distillguard.share.stix import UA_PATH

log = logging.getLogger(__name__)

_UA = tuple(UA_PATH.split(":", 1)[1].replace("'", "").split("."))
# (object type, property path) -> what it is matched against locally
TARGETS: dict[tuple[str, tuple[str, ...]], str] = {
    ("ipv4-addr", ("value",)): "ip",
    ("ipv6-addr", ("value",)): "ip",
    ("network-traffic", _UA): "user_agent",
    ("x-distillguard-template", ("skeleton_hash",)): "template",
    ("user-account", ("user_id",)): "account",
    ("x-distillguard-account", ("payment_pseudonym",)): "payment",
    ("x-distillguard-account", ("email_domain_pseudonym",)): "email_domain",
}
_OPS = {"=", "IN", "ISSUBSET", "LIKE", "MATCHES"}
_COLUMNS = {"user_agent": "user_agent", "template": "skeleton_hash"}  # exchange column per target


@dataclass
class IndicatorHit:
    """One received indicator that matched local traffic or accounts."""

    indicator_id: str
    indicator_name: str
    kind: str  # ip | user_agent | template | account | payment | email_domain
    campaigns: list[str]  # names of the campaigns it indicates
    confidence: int | None
    accounts: dict[str, int]  # local account -> matching exchanges (0 for account-level matches)


@dataclass
class MatchResult:
    """Which local accounts and clusters match a received bundle, and through which indicators."""

    bundle_id: str
    provider: str | None
    indicators: int  # indicators read
    hits: list[IndicatorHit]
    accounts: list[dict[str, Any]]  # per local account: cluster, verdict, campaigns, kinds, indicators
    clusters: list[dict[str, Any]]  # per local cluster: matched accounts of all accounts, campaigns
    notes: list[str] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return bool(self.hits)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def match_bundle(bundle_path: Path, scan_dir: Path, config: object | None = None) -> MatchResult:
    """Match the indicators of the bundle at `bundle_path` against the scan in `scan_dir`.

    Raises `BundleError` (object id and field named) for a malformed or foreign bundle and
    `ScanDirError` for an incomplete scan directory. Pseudonyms are compared under the local key
    (`share.pseudonym_key` or its environment variable); without a key they are skipped and noted."""
    bundle = read_bundle(Path(bundle_path))
    cfg = share_config(config)
    try:
        pseudonym: Pseudonymizer | None = resolve_key(cfg, allow_ephemeral=False)
    except ValueError as exc:
        pseudonym = None
        reason = str(exc)
    with open_scan(scan_dir, findings=False) as scan:
        return _match(bundle, scan, pseudonym, None if pseudonym else reason)


def _match(
    bundle: ReceivedBundle, scan: Scan, pseudonym: Pseudonymizer | None, no_key: str | None
) -> MatchResult:
    notes = list(bundle.skipped)
    if no_key:
        notes.append(f"pseudonymized indicators skipped: {no_key}")
    elif pseudonym is not None and bundle.key_ids - {pseudonym.key_id}:
        notes.append(
            "the bundle's pseudonyms were made under a different key ("
            f"{', '.join(sorted(bundle.key_ids))}; local key {pseudonym.key_id}): they cannot match"
        )
    lookups = _Lookups(scan, pseudonym)
    lookups.prefetch(
        (TARGETS[c[:2]], literals(c[3]))
        for ind in bundle.indicators
        for c in ind.comparisons
        if c[:2] in TARGETS and c[2] in {"=", "IN"}
    )
    names = {cid: c.get("name", cid) for cid, c in bundle.campaigns.items()}
    hits: list[IndicatorHit] = []
    unsupported = 0
    for ind in bundle.indicators:
        matched: dict[str, int] = defaultdict(int)
        kinds = set()
        for comparison in ind.comparisons:
            target = TARGETS.get(comparison[:2])
            if target is None or comparison[2] not in _OPS:
                unsupported += 1
                continue
            found = lookups.find(target, comparison)
            if found:
                kinds.add(target)
                for acct, n in found.items():
                    matched[acct] += n
        if matched:
            hits.append(
                IndicatorHit(
                    ind.id,
                    ind.name,
                    ",".join(sorted(kinds)),
                    [names.get(c, c) for c in ind.campaigns],
                    ind.confidence,
                    dict(matched),
                )
            )
    if unsupported:
        notes.append(f"{unsupported} comparison(s) use object paths or operators that match does not read")
    accounts, clusters = _aggregate(hits, scan)
    return MatchResult(bundle.id, bundle.provider, len(bundle.indicators), hits, accounts, clusters, notes)


class _Lookups:
    """Local values, loaded once, that received comparisons are checked against."""

    def __init__(self, scan: Scan, pseudonym: Pseudonymizer | None) -> None:
        self.scan = scan
        self.pseudonym = pseudonym
        self._ips: pd.DataFrame | None = None  # (account_id, client_ip, n), loaded on first use
        self._v4 = np.zeros(0, dtype=bool)
        self._v4_int = np.zeros(0, dtype=np.uint64)
        self._v6: list[tuple[int, ipaddress.IPv6Address]] = []
        self._pseudonyms: dict[str, dict[str, list[str]]] = {}
        self._exact: dict[str, dict[str, dict[str, int]]] = {}  # column -> value -> account -> exchanges

    def find(self, target: str, comparison: Comparison) -> dict[str, int]:
        _, _, op, literal = comparison
        values = literals(literal)
        if target == "ip":
            return self._ip(op, values)
        if target in _COLUMNS:
            return self._column(_COLUMNS[target], op, values)
        return self._pseudonym(target, op, values)

    def _ip(self, op: str, values: list[str]) -> dict[str, int]:
        if op not in {"=", "IN", "ISSUBSET"}:
            return {}
        if self._ips is None:
            self._ips = (
                self.scan.con.sql(
                    "SELECT account_id, client_ip, count(*) AS n FROM exchange_rows "
                    "WHERE client_ip IS NOT NULL GROUP BY ALL"
                )
                .to_arrow_table()
                .to_pandas()
            )
            addrs = [_address(v) for v in self._ips["client_ip"]]
            # IPv4 as integers, so that a range test is one vectorized mask-and-compare
            self._v4 = np.array([a.version == 4 if a else False for a in addrs])
            self._v4_int = np.array([int(a) if a and a.version == 4 else 0 for a in addrs], dtype=np.uint64)
            self._v6 = [(i, a) for i, a in enumerate(addrs) if a and a.version == 6]
        hit = np.zeros(len(self._ips), dtype=bool)
        for v in values:
            try:
                net = ipaddress.ip_network(v, strict=False)
            except ValueError:
                log.warning("ignoring malformed IP literal %r", v)
                continue
            if net.version == 4:
                mask = np.uint64(int(net.netmask))
                hit |= self._v4 & ((self._v4_int & mask) == np.uint64(int(net.network_address)))
            else:
                for i, a in self._v6:
                    hit[i] |= a in net
        matched = self._ips[hit]
        return matched.groupby("account_id")["n"].sum().astype(int).to_dict()

    def prefetch(self, wanted: Iterable[tuple[str, list[str]]]) -> None:
        """Look up every exact user-agent and template value of the bundle in one pass per column,
        rather than one scan of the exchanges per indicator."""
        by_column: dict[str, set[str]] = defaultdict(set)
        for target, values in wanted:
            if target in _COLUMNS:
                by_column[_COLUMNS[target]].update(values)
        for column, values in by_column.items():
            self.scan.con.register(
                "wanted_values", pd.DataFrame({"v": pd.Series(sorted(values), dtype="object")})
            )
            found: dict[str, dict[str, int]] = defaultdict(dict)
            for value, acct, n in self.scan.con.execute(
                f"SELECT {column}, account_id, count(*) FROM exchange_rows "
                f"WHERE {column} IN (SELECT v FROM wanted_values) GROUP BY ALL"
            ).fetchall():
                found[value][acct] = int(n)
            self._exact[column] = found

    def _column(self, column: str, op: str, values: list[str]) -> dict[str, int]:
        con = self.scan.con
        if op in {"=", "IN"}:
            out: dict[str, int] = defaultdict(int)
            for v in values:  # every exact value was looked up by prefetch
                for acct, n in self._exact.get(column, {}).get(v, {}).items():
                    out[acct] += n
            return dict(out)
        cond = f"{column} LIKE ?" if op == "LIKE" else f"regexp_matches({column}, ?)"
        rows = con.execute(
            f"SELECT account_id, count(*) FROM exchange_rows WHERE {cond} GROUP BY ALL",
            [values[0] if values else ""],
        ).fetchall()
        return {a: int(n) for a, n in rows}

    def _pseudonym(self, target: str, op: str, values: list[str]) -> dict[str, int]:
        if self.pseudonym is None or op not in {"=", "IN"}:
            return {}
        table = self._pseudonyms.get(target)
        if table is None:
            table = self._pseudonyms[target] = self._local_pseudonyms(target)
        return {acct: 0 for v in values for acct in table.get(v, [])}

    def _local_pseudonyms(self, target: str) -> dict[str, list[str]]:
        assert self.pseudonym is not None
        out: dict[str, list[str]] = defaultdict(list)
        if target == "account":
            for acct in self.scan.accounts["account_id"]:
                out[self.pseudonym("account", acct)].append(acct)
            return out
        if not self.scan.has_account_meta:
            return out
        column = "payment_fingerprint" if target == "payment" else "email_domain"
        kind = "payment" if target == "payment" else "email_domain"
        for acct, value in self.scan.con.execute(
            f"SELECT account_id, {column} FROM account_meta WHERE {column} IS NOT NULL"
        ).fetchall():
            out[self.pseudonym(kind, value)].append(acct)
        return out


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _aggregate(hits: list[IndicatorHit], scan: Scan) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    verdicts = scan.accounts.set_index("account_id")
    per: dict[str, dict[str, Any]] = {}
    for hit in hits:
        for acct, n in hit.accounts.items():
            row = per.setdefault(
                acct,
                {
                    "account_id": acct,
                    "campaigns": set(),
                    "kinds": set(),
                    "indicators": 0,
                    "matching_exchanges": 0,
                },
            )
            row["campaigns"].update(hit.campaigns)
            row["kinds"].update(hit.kind.split(","))
            row["indicators"] += 1
            row["matching_exchanges"] += n
    accounts = []
    for acct, row in per.items():
        v = verdicts.loc[acct] if acct in verdicts.index else None
        accounts.append(
            {
                **row,
                "campaigns": sorted(row["campaigns"]),
                "kinds": sorted(row["kinds"]),
                "cluster_id": (v["cluster_id"] if v is not None else "") or "",
                "flagged": bool(v["flagged"]) if v is not None else False,
                "risk": float(v["risk"]) if v is not None else 0.0,
            }
        )
    accounts.sort(key=lambda r: (-r["indicators"], -r["matching_exchanges"], r["account_id"]))
    sizes = scan.accounts[scan.accounts["cluster_id"] != ""].groupby("cluster_id").size().to_dict()
    flagged = dict(zip(scan.clusters["cluster_id"], scan.clusters["flagged"], strict=False))
    by_cluster: dict[str, dict[str, Any]] = {}
    for row in accounts:
        cid = row["cluster_id"]
        if not cid:
            continue
        c = by_cluster.setdefault(
            cid,
            {
                "cluster_id": cid,
                "matched_accounts": 0,
                "accounts": int(sizes.get(cid, 0)),
                "flagged": bool(flagged.get(cid, False)),
                "campaigns": set(),
            },
        )
        c["matched_accounts"] += 1
        c["campaigns"].update(row["campaigns"])
    clusters = [{**c, "campaigns": sorted(c["campaigns"])} for c in by_cluster.values()]
    clusters.sort(key=lambda c: (-c["matched_accounts"], c["cluster_id"]))
    return accounts, clusters
