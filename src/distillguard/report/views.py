"""What the report shows, computed from an opened scan: cluster overviews and account drill-downs.

Everything here is plain data (dicts and lists) so that the template only lays it out. The queries
run on DuckDB over the scan's store and are grouped over all selected accounts at once, so the cost
grows with the number of drill-downs shown, not with one query per account.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

import orjson
import pandas as pd

from distillguard.report.scandir import IP_PREFIX_SQL, Scan

# Candidate timeline bin widths (seconds); the narrowest that keeps a timeline under MAX_BINS wins.
_BIN_WIDTHS = (300, 900, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400)
MAX_BINS = 120
LINKS_SHOWN = 8  # strongest links listed in an account's drill-down


def _ids_table(scan: Scan, name: str, ids: list[str]) -> None:
    scan.con.register(name, pd.DataFrame({"account_id": pd.Series(ids, dtype="object")}))


def time_axis(scan: Scan) -> dict[str, Any]:
    """The scan's time window and the timeline bin width that fits it."""
    lo, hi = scan.con.execute("SELECT min(epoch(ts)), max(epoch(ts)) FROM exchange_rows").fetchall()[0]
    lo, hi = float(lo or 0.0), float(hi or 0.0)
    width = next((w for w in _BIN_WIDTHS if (hi - lo) / w <= MAX_BINS), _BIN_WIDTHS[-1])
    first = int(lo // width)
    return {
        "first_bin": first,
        "bins": int(hi // width) - first + 1,
        "width": width,
        "start": _iso(lo),
        "end": _iso(hi),
    }


def _iso(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(float(epoch), UTC).strftime("%Y-%m-%d %H:%M UTC")


def series(rows: list[tuple], axis: dict[str, Any]) -> dict[str, dict[str, list[int]]]:
    """(key, model, bin, count) rows -> {key: {model: counts per bin}}."""
    out: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for key, model, b, n in rows:
        per = out[key].setdefault(model or "(unknown)", [0] * axis["bins"])
        idx = int(b) - axis["first_bin"]
        if 0 <= idx < axis["bins"]:
            per[idx] += int(n)
    return out


def _seen(scan: Scan, key: str, base: str) -> dict[str, tuple[float, float]]:
    """{key: (first, last) exchange time in epoch seconds} over the exchanges `base` selects."""
    rows = scan.con.execute(f"SELECT {key}, min(epoch(x.ts)), max(epoch(x.ts)) {base} GROUP BY ALL")
    return {k: (lo, hi) for k, lo, hi in rows.fetchall()}


def _top(rows: list[tuple], limit: int) -> dict[str, list[tuple]]:
    """(key, value, ...) rows ordered by count desc -> {key: first `limit` (value, ...) tuples}."""
    out: dict[str, list[tuple]] = defaultdict(list)
    for key, *rest in rows:
        if len(out[key]) < limit:
            out[key].append(tuple(rest))
    return out


def cluster_views(scan: Scan, cluster_ids: list[str], axis: dict[str, Any]) -> list[dict[str, Any]]:
    """Overview of each cluster: members, volume per model over time, capability mix, top templates,
    shared infrastructure and the findings behind its verdict."""
    if not cluster_ids:
        return []
    con = scan.con
    members = scan.accounts[scan.accounts["cluster_id"].isin(cluster_ids)]
    con.register("sel_members", members[["account_id", "cluster_id"]])
    # The queries below read the same few columns of the members' exchanges: read them from the
    # store once (the templates query reads prompt text, and goes to the store).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE member_rows AS SELECT m.cluster_id, x.account_id, x.ts, x.model, "
        "x.capability, x.client_ip, x.user_agent FROM exchange_rows x JOIN sel_members m USING (account_id)"
    )
    width = axis["width"]
    base = "FROM member_rows x"
    timeline = series(
        con.execute(
            f"SELECT x.cluster_id, x.model, floor(epoch(x.ts) / {width}) AS b, count(*) {base} GROUP BY ALL"
        ).fetchall(),
        axis,
    )
    caps = _top(
        con.execute(
            f"SELECT x.cluster_id, coalesce(x.capability, '(none)'), count(*) AS n {base} GROUP BY ALL "
            "ORDER BY x.cluster_id, n DESC, 2"
        ).fetchall(),
        10,
    )
    templates = _top(
        con.execute(
            "SELECT m.cluster_id, x.template_id, count(*) AS n, count(DISTINCT x.account_id), "
            "any_value(x.user_text) FROM exchanges x JOIN sel_members m USING (account_id) "
            "WHERE x.template_id IS NOT NULL GROUP BY ALL "
            "ORDER BY m.cluster_id, n DESC, 2"
        ).fetchall(),
        8,
    )
    window = _seen(scan, "x.cluster_id", base)
    infra = _cluster_infrastructure(scan, base)
    findings = _findings_by_subject(scan, "cluster")
    account_findings = _findings_by_subject(scan, "account")
    out = []
    for cid in cluster_ids:
        row = scan.clusters[scan.clusters["cluster_id"] == cid]
        verdict = row.iloc[0].to_dict() if len(row) else {"cluster_id": cid}
        accts = members[members["cluster_id"] == cid].sort_values("risk", ascending=False)
        lo, hi = window.get(cid, (None, None))
        out.append(
            {
                "verdict": verdict,
                "members": accts[["account_id", "risk", "flagged", "exchanges"]].to_dict("records"),
                "timeline": timeline.get(cid, {}),
                "capabilities": caps.get(cid, []),
                "templates": [
                    {"template_id": t, "exchanges": n, "accounts": a, "sample": _clip(s)}
                    for t, n, a, s in templates.get(cid, [])
                ],
                "infrastructure": infra.get(cid, {}),
                "findings": findings.get(cid, []),
                "member_detectors": _detector_mix(accts["account_id"], account_findings),
                "first_seen": _iso(lo),
                "last_seen": _iso(hi),
            }
        )
    return out


def _detector_mix(members: Any, findings: dict[str, list[dict[str, Any]]]) -> list[tuple[str, int, float]]:
    """(detector, members it raised a finding on, their mean score), most widespread first."""
    hits: dict[str, list[float]] = defaultdict(list)
    for acct in members:
        for f in findings.get(acct, []):
            hits[str(f["detector"])].append(float(f.get("score", 0.0)))
    return sorted(((d, len(s), sum(s) / len(s)) for d, s in hits.items()), key=lambda r: (-r[1], -r[2], r[0]))


def _cluster_infrastructure(scan: Scan, base: str) -> dict[str, dict[str, list[tuple]]]:
    """Per cluster: IP prefixes, user agents (and payment / e-mail domains when known) used by two or
    more of its accounts, as (value, accounts, exchanges, unflagged accounts elsewhere using it). The
    last count tells strong evidence (a payment method no one else uses) from weak (a popular SDK)."""
    con = scan.con
    out: dict[str, dict[str, list[tuple]]] = defaultdict(dict)
    cleared = scan.accounts.loc[~scan.accounts["flagged"], ["account_id"]]
    con.register("infra_cleared", cleared)
    cleared_sql = {
        "IP prefix": f"SELECT {IP_PREFIX_SQL.format(col='client_ip')} AS v, count(DISTINCT account_id) "
        "FROM exchange_rows JOIN infra_cleared USING (account_id) WHERE client_ip IS NOT NULL GROUP BY v",
        "user agent": "SELECT user_agent AS v, count(DISTINCT account_id) FROM exchange_rows "
        "JOIN infra_cleared USING (account_id) WHERE user_agent IS NOT NULL GROUP BY v",
    }
    queries = {
        "IP prefix": f"SELECT x.cluster_id, {IP_PREFIX_SQL.format(col='x.client_ip')} AS v, "
        f"count(DISTINCT x.account_id) AS a, count(*) AS n {base} "
        "WHERE x.client_ip IS NOT NULL GROUP BY ALL HAVING a >= 2 "
        "ORDER BY x.cluster_id, a DESC, n DESC, v",
        "user agent": f"SELECT x.cluster_id, x.user_agent AS v, count(DISTINCT x.account_id) AS a, "
        f"count(*) AS n {base} WHERE x.user_agent IS NOT NULL GROUP BY ALL HAVING a >= 2 "
        "ORDER BY x.cluster_id, a DESC, n DESC, v",
    }
    if scan.has_account_meta:
        for label, col in (("payment method", "payment_fingerprint"), ("e-mail domain", "email_domain")):
            queries[label] = (
                f"SELECT m.cluster_id, am.{col} AS v, count(*) AS a, NULL AS n FROM account_meta am "
                f"JOIN sel_members m USING (account_id) WHERE am.{col} IS NOT NULL "
                "GROUP BY ALL HAVING a >= 2 "
                "ORDER BY m.cluster_id, a DESC, v"
            )
            cleared_sql[label] = (
                f"SELECT {col} AS v, count(*) FROM account_meta JOIN infra_cleared USING (account_id) "
                f"WHERE {col} IS NOT NULL GROUP BY v"
            )
    for label, sql in queries.items():
        top = _top(con.execute(sql).fetchall(), 8)
        elsewhere = dict(con.execute(cleared_sql[label]).fetchall())
        for cid, rows in top.items():
            out[cid][label] = [(v, a, n, int(elsewhere.get(v, 0))) for v, a, n in rows]
    return out


def _clip(text: str | None, limit: int = 280) -> str:
    if not text:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _findings_by_subject(scan: Scan, kind: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in scan.findings:
        if f.get("subject_kind", "account") == kind:
            out[str(f["subject_id"])].append(f)
    for items in out.values():
        items.sort(key=lambda f: -float(f.get("score", 0.0)))
    return out


def account_views(scan: Scan, account_ids: list[str], axis: dict[str, Any]) -> list[dict[str, Any]]:
    """Drill-down of each account: timeline per model, hour-of-day cadence, IPs, user agents,
    templates, linked accounts with the reason for each link, and its findings."""
    if not account_ids:
        return []
    con = scan.con
    _ids_table(scan, "sel_accounts", account_ids)
    # The queries below read the same few columns of these accounts' exchanges: read them from the
    # store once (the templates query reads prompt text, and goes to the store).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sel_rows AS SELECT x.account_id, x.ts, x.model, x.client_ip, "
        "x.user_agent FROM exchange_rows x JOIN sel_accounts USING (account_id)"
    )
    base = "FROM sel_rows x"
    width = axis["width"]
    timeline = series(
        con.execute(
            f"SELECT x.account_id, x.model, floor(epoch(x.ts) / {width}), count(*) {base} GROUP BY ALL"
        ).fetchall(),
        axis,
    )
    hours: dict[str, list[int]] = defaultdict(lambda: [0] * 24)
    for acct, h, n in con.execute(
        f"SELECT x.account_id, hour(x.ts), count(*) {base} GROUP BY ALL"
    ).fetchall():
        hours[acct][int(h)] = int(n)
    ips = _top(
        con.execute(
            f"SELECT x.account_id, x.client_ip, count(*) AS n {base} WHERE x.client_ip IS NOT NULL "
            "GROUP BY ALL ORDER BY x.account_id, n DESC, 2"
        ).fetchall(),
        8,
    )
    n_ips = dict(
        con.execute(f"SELECT x.account_id, count(DISTINCT x.client_ip) {base} GROUP BY ALL").fetchall()
    )
    agents = _top(
        con.execute(
            f"SELECT x.account_id, x.user_agent, count(*) AS n {base} "
            "WHERE x.user_agent IS NOT NULL GROUP BY ALL ORDER BY x.account_id, n DESC, 2"
        ).fetchall(),
        5,
    )
    templates = _top(
        con.execute(
            "SELECT x.account_id, x.template_id, count(*) AS n, min(x.user_text) "
            "FROM exchanges x JOIN sel_accounts USING (account_id) "
            "WHERE x.template_id IS NOT NULL GROUP BY ALL ORDER BY x.account_id, n DESC, 2"
        ).fetchall(),
        6,
    )
    window = _seen(scan, "x.account_id", base)
    links = _links(scan) if scan.has_edges else {}
    meta = _account_meta(scan) if scan.has_account_meta else {}
    findings = _findings_by_subject(scan, "account")
    verdicts = scan.accounts.set_index("account_id")
    out = []
    for acct in account_ids:
        verdict = verdicts.loc[acct].to_dict() if acct in verdicts.index else {}
        verdict["account_id"] = acct
        lo, hi = window.get(acct, (None, None))
        out.append(
            {
                "verdict": verdict,
                "meta": meta.get(acct, {}),
                "timeline": timeline.get(acct, {}),
                "hours": hours[acct],
                "ips": ips.get(acct, []),
                "distinct_ips": int(n_ips.get(acct, 0)),
                "user_agents": agents.get(acct, []),
                "templates": [(t, n, _clip(s, 160)) for t, n, s in templates.get(acct, [])],
                "link_count": links.get(acct, (0, []))[0],
                "links": links.get(acct, (0, []))[1],
                "findings": findings.get(acct, []),
                "first_seen": _iso(lo),
                "last_seen": _iso(hi),
            }
        )
    return out


def _links(scan: Scan) -> dict[str, tuple[int, list[dict[str, Any]]]]:
    """Account -> (number of linked accounts, the LINKS_SHOWN strongest links), each link with its
    edge kinds, weights and evidence: the reason for the link. Ranked in SQL so that an account in a
    cluster of thousands costs no more than one in a cluster of three."""
    rows = scan.con.execute(
        f"""
        WITH pairs AS (
            SELECT src AS a, dst AS b, kind, weight, evidence FROM edges
            WHERE src IN (SELECT account_id FROM sel_accounts)
            UNION ALL
            SELECT dst, src, kind, weight, evidence FROM edges
            WHERE dst IN (SELECT account_id FROM sel_accounts)
        ),
        neighbours AS (SELECT a, b, sum(coalesce(weight, 0)) AS w FROM pairs WHERE a <> b GROUP BY a, b),
        strongest AS (
            SELECT a, b, w, count(*) OVER (PARTITION BY a) AS n FROM neighbours
            QUALIFY row_number() OVER (PARTITION BY a ORDER BY w DESC, b) <= {LINKS_SHOWN}
        )
        SELECT p.a, p.b, s.n, p.kind, p.weight, p.evidence FROM pairs p JOIN strongest s USING (a, b)
        ORDER BY p.a, s.w DESC, p.b, p.kind
        """
    ).fetchall()
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
    totals: dict[str, int] = {}
    for a, b, n, kind, weight, evidence in rows:
        totals[a] = int(n)
        grouped[a].setdefault(b, []).append({"kind": kind, "weight": weight, "evidence": _evidence(evidence)})
    return {
        a: (totals[a], [{"account_id": b, "reasons": reasons} for b, reasons in nbrs.items()])
        for a, nbrs in grouped.items()
    }


def _evidence(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw
    return raw


def _account_meta(scan: Scan) -> dict[str, dict[str, Any]]:
    rows = scan.con.sql("SELECT * FROM account_meta JOIN sel_accounts USING (account_id)").to_arrow_table()
    return {
        r["account_id"]: {k: _meta_value(v) for k, v in r.items() if k != "account_id" and v is not None}
        for r in rows.to_pylist()
    }


def _meta_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return value


def traffic(scan: Scan, axis: dict[str, Any]) -> dict[str, Any]:
    """The whole scan's traffic, in one pass over the exchanges: `models` in the order of their
    first exchange, `timeline` (exchanges per model over time), `human_day` (the hour-of-day share
    of the exchanges of unflagged accounts, the reference that a drill-down's cadence is drawn
    against; empty when every account was flagged) and `capabilities` (exchanges per capability of
    `flagged` and of `cleared` accounts, most used first)."""
    rows = scan.con.execute(
        "SELECT grouping(b) = 0, grouping(h) = 0, v.flagged, x.model, b, h, x.capability, count(*), "
        f"min(x.ts) FROM (SELECT *, floor(epoch(ts) / {axis['width']}) AS b, hour(ts) AS h "
        "FROM exchange_rows) x LEFT JOIN verdicts v USING (account_id) "
        "GROUP BY GROUPING SETS ((x.model, b), (v.flagged, h), (v.flagged, x.capability))"
    ).fetchall()
    first: dict[str, Any] = {}
    per_bin: list[tuple] = []
    hours = [0] * 24
    caps: dict[str, Counter[str]] = {"flagged": Counter(), "cleared": Counter()}
    for by_time, by_hour, flagged, model, b, h, capability, n, first_ts in rows:
        if by_time:
            name = "(unknown)" if model is None else model
            first[name] = min(first.get(name, first_ts), first_ts)
            per_bin.append(("all", model, b, n))
        elif flagged is None:  # an account without a verdict
            continue
        elif by_hour:
            if not flagged:
                hours[int(h)] += int(n)
        else:
            side = caps["flagged" if flagged else "cleared"]
            side["(none)" if capability is None else capability] += int(n)
    total = sum(hours)
    return {
        "models": sorted(first, key=lambda m: (first[m], m)),
        "timeline": series(per_bin, axis).get("all", {}),
        "human_day": [c / total for c in hours] if total else [],
        "capabilities": {k: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for k, c in caps.items()},
    }
