"""Shared-infrastructure keys: IPs and network prefixes in a time window, payment fingerprints,
API keys, rare user agents and client fingerprints, account-creation bursts, email domains.

Popular keys (a cloud NAT address, python-requests, the official SDK's user agent, a free-mail
domain) are not filtered here: their idf is near zero and blocking caps the pairs they propose.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pyarrow as pa

from distillguard.link.config import LinkConfig
from distillguard.link.keys import ACCT, EX, KeySpec, sql_list, sql_str

PREFIX = "_dg_link_prefix"


def bucket(col: str, seconds: int, offset: int = 0) -> str:
    """SQL label of the fixed time window containing `col` (readable in evidence); `offset` shifts
    the grid, so a burst straddling a boundary of one grid falls inside a window of the other."""
    start = f"((epoch({col})::BIGINT + {offset}) // {seconds}) * {seconds} - {offset}"
    return f"strftime(to_timestamp({start}), '%Y-%m-%dT%H:%MZ')"


# A dotted-quad IPv4 address exactly as `ipaddress` accepts it (no leading zeros, octets <= 255).
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"


def build_prefixes(con: Any, ipv6_prefix: int) -> int:
    """Table PREFIX(ip, prefix): IPv4 /24, IPv6 /`ipv6_prefix`. Returns how many distinct client_ip
    values are not addresses (host names, redacted values): they get no prefix evidence."""
    # Plain IPv4 addresses (nearly all of them) are cut in SQL; the rest (IPv6, padded or malformed
    # values) are parsed one by one with `ipaddress`.
    con.execute(
        rf"""
        CREATE OR REPLACE TEMP TABLE {PREFIX} AS
        SELECT ip, regexp_extract(ip, '^([0-9]+\.[0-9]+\.[0-9]+)\.', 1) || '.0/24' AS prefix
        FROM (SELECT DISTINCT client_ip AS ip FROM {EX} WHERE client_ip IS NOT NULL)
        WHERE regexp_full_match(ip, '{_IPV4}')
        """
    )
    rows = con.execute(
        f"SELECT DISTINCT client_ip FROM {EX} WHERE client_ip IS NOT NULL "
        f"AND NOT regexp_full_match(client_ip, '{_IPV4}')"
    ).fetchall()
    ips, prefixes, bad = [], [], 0
    for (raw,) in rows:
        try:
            addr = ipaddress.ip_address(raw.strip())
        except ValueError:
            bad += 1
            continue
        bits = 24 if addr.version == 4 else ipv6_prefix
        ips.append(raw)
        prefixes.append(str(ipaddress.ip_network(f"{addr}/{bits}", strict=False)))
    table = pa.table({"ip": pa.array(ips, pa.string()), "prefix": pa.array(prefixes, pa.string())})
    con.register("_dg_link_prefix_arrow", table)
    con.execute(f"INSERT INTO {PREFIX} SELECT * FROM _dg_link_prefix_arrow")
    con.unregister("_dg_link_prefix_arrow")
    return bad


def key_specs(con: Any, acct_cols: set[str], cfg: LinkConfig, stats: dict[str, Any]) -> list[KeySpec]:
    """Infrastructure key specs (exchange columns from EX, account attributes from `accounts`)."""
    win = max(60, int(cfg.ip_window_hours * 3600))
    stats["unparsable_ips"] = build_prefixes(con, cfg.ipv6_prefix)
    specs = [
        KeySpec(
            "ip",
            f"SELECT aid, client_ip || ' @ ' || {bucket('ts', win)} AS key, 1 AS n "
            f"FROM {EX} WHERE client_ip IS NOT NULL",
            min_tf=cfg.network_min_share,
        ),
        KeySpec(
            "subnet",
            f"SELECT e.aid, p.prefix || ' @ ' || {bucket('e.ts', win)} AS key, 1 AS n "
            f"FROM {EX} e JOIN {PREFIX} p ON p.ip = e.client_ip",
            min_tf=cfg.network_min_share,
        ),
    ]
    common_ua = (
        sql_str("^(" + "|".join(f"(?:{p})" for p in cfg.common_user_agents) + ")")
        if cfg.common_user_agents
        else None
    )
    ua_filter = f"WHERE NOT regexp_matches(user_agent, {common_ua})" if common_ua else ""
    specs.append(KeySpec("user_agent", f"SELECT aid, user_agent AS key, 1 AS n FROM {EX} {ua_filter}"))
    for kind, col in (("client_fp", "client_fp"), ("api_key", "api_key_id")):
        specs.append(KeySpec(kind, f"SELECT aid, {col} AS key, 1 AS n FROM {EX}"))

    def account_spec(kind: str, key_sql: str, where: str, weight: float = 1.0) -> KeySpec:
        return KeySpec(
            kind,
            f"SELECT a.aid, {key_sql} AS key, {weight} AS n FROM accounts s "
            f"JOIN {ACCT} a ON a.account_id = CAST(s.account_id AS VARCHAR) WHERE {where}",
            per_exchange=False,
        )

    if "payment_fingerprint" in acct_cols:
        specs.append(account_spec("payment", "CAST(s.payment_fingerprint AS VARCHAR)", "TRUE"))
    if "email_domain" in acct_cols:
        common = sql_list(d.lower() for d in cfg.common_email_domains)
        domain = "lower(CAST(s.email_domain AS VARCHAR))"
        specs.append(account_spec("email_domain", domain, f"{domain} NOT IN ({common})"))
    if "created_at" in acct_cols:
        # Several window sizes, each on two grids offset by half a window: accounts created
        # minutes apart share every key, accounts of one multi-day burst share the widest ones.
        scales = [max(60, int(h * 3600)) for h in cfg.creation_burst_hours]
        for secs in scales:
            for grid, offset in (("", 0), ("+", secs // 2)):
                label = f"{bucket('s.created_at', secs, offset)} || ' /{secs // 3600}h{grid}'"
                weight = 1 / (2 * len(scales))
                specs.append(account_spec("creation_burst", label, "s.created_at IS NOT NULL", weight))
    return specs
