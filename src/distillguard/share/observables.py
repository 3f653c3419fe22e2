"""What a flagged cluster left behind that another provider could recognize: IP ranges, user agents,
template fingerprints, payment methods and e-mail domains, each with how many of the cluster's
accounts and exchanges it covers.

A value that this provider's own cleared accounts also use (a popular user agent, a cloud NAT range,
a free-mail domain) would make a noisy indicator, so values used by `local_fp_guard` (default 1) or
more unflagged local accounts outside the cluster are left out and counted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pandas as pd

from distillguard.report.scandir import IP_PREFIX_SQL, Scan


@dataclass
class Observable:
    kind: str  # ip_range | user_agent | template | payment | email_domain
    value: str
    accounts: int
    exchanges: int | None = None
    sample: str | None = None  # a prompt of the template (shared only on opt-in)


@dataclass
class ClusterObservables:
    cluster_id: str
    members: list[str]  # the cluster's flagged accounts
    first_seen: float
    last_seen: float
    models: list[str]
    items: list[Observable] = field(default_factory=list)
    cluster_size: int = 0  # all accounts of the cluster, flagged or not
    skipped_common: int = 0  # values left out because cleared local accounts use them too


_EXCHANGE_KINDS = {
    "ip_range": IP_PREFIX_SQL.format(col="{p}client_ip"),
    "user_agent": "{p}user_agent",
    "template": "{p}skeleton_hash",
}
_META_KINDS = {"payment": "payment_fingerprint", "email_domain": "email_domain"}


def collect(
    scan: Scan, cluster_ids: list[str], guard: int, per_cluster: int, *, samples: bool = False
) -> list[ClusterObservables]:
    """Observables of each cluster, strongest first: a value qualifies when two or more members use it
    or it carries at least 5% of the cluster's exchanges. `samples`: give each template a prompt
    (reading prompt text is most of the cost, so only when it will be shared)."""
    if not cluster_ids:
        return []
    con = scan.con
    in_clusters = scan.accounts[scan.accounts["cluster_id"].isin(cluster_ids)]
    sizes = in_clusters.groupby("cluster_id").size().to_dict()
    # Only the flagged members speak for the campaign: an unflagged account linked into the cluster
    # has not been judged part of it, and neither its identifiers nor its traffic are shared.
    members = in_clusters.loc[in_clusters["flagged"], ["account_id", "cluster_id"]]
    con.register("share_members", members)
    cleared = scan.accounts.loc[~scan.accounts["flagged"], ["account_id", "cluster_id"]]
    con.register("share_cleared", cleared)
    window = {
        c: (lo, hi, models)
        for c, lo, hi, models in con.execute(
            "SELECT m.cluster_id, min(epoch(x.ts)), max(epoch(x.ts)), "
            "list(DISTINCT x.model ORDER BY x.model) "
            "FROM exchange_rows x JOIN share_members m USING (account_id) GROUP BY ALL"
        ).fetchall()
    }
    found: dict[str, list[Observable]] = defaultdict(list)
    # (kind, value) -> unflagged accounts using it, per cluster they sit in ("" for none)
    cleared_users: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)

    def count_cleared(kind: str, values: list[str], sql: str) -> None:
        # `sql` yields (value, cluster_id or NULL, unflagged accounts using the value) for the values
        # in the table `share_values`: only the cluster's candidate values need counting
        if not values:
            return
        con.register("share_values", pd.DataFrame({"v": pd.Series(values, dtype="object")}))
        for v, cid, n in con.execute(sql).fetchall():
            cleared_users[(kind, str(v))][cid or ""] += int(n)

    for kind, template in _EXCHANGE_KINDS.items():
        col, expr = template.format(p=""), template.format(p="x.")
        sample = "any_value(x.user_text)" if samples and kind == "template" else "NULL"
        rows = con.execute(
            f"WITH t AS (SELECT m.cluster_id, {expr} AS v, count(DISTINCT x.account_id) AS a, count(*) AS n, "
            f"{sample} AS sample FROM exchange_rows x JOIN share_members m USING (account_id) "
            f"WHERE {expr} IS NOT NULL GROUP BY ALL) "
            "SELECT cluster_id, v, a, n, sample FROM t "
            "QUALIFY a >= 2 OR n >= 0.05 * sum(n) OVER (PARTITION BY cluster_id) "
            "ORDER BY cluster_id, a DESC, n DESC, v"
        ).fetchall()
        for cid, v, a, n, text in rows:
            found[cid].append(Observable(kind, str(v), int(a), int(n), text))
        count_cleared(
            kind,
            sorted({str(r[1]) for r in rows}),
            f"SELECT {col} AS v, c.cluster_id, count(DISTINCT account_id) FROM exchange_rows "
            f"JOIN share_cleared c USING (account_id) "
            f"WHERE {col} IN (SELECT v FROM share_values) GROUP BY ALL",
        )
    if scan.has_account_meta:
        for kind, col in _META_KINDS.items():
            rows = con.execute(
                f"SELECT m.cluster_id, am.{col} AS v, count(*) AS a FROM account_meta am "
                f"JOIN share_members m USING (account_id) WHERE am.{col} IS NOT NULL GROUP BY ALL "
                "ORDER BY m.cluster_id, a DESC, v"
            ).fetchall()
            for cid, v, a in rows:
                found[cid].append(Observable(kind, str(v), int(a)))
            count_cleared(
                kind,
                sorted({str(r[1]) for r in rows}),
                f"SELECT {col}, c.cluster_id, count(*) FROM account_meta "
                f"JOIN share_cleared c USING (account_id) "
                f"WHERE {col} IN (SELECT v FROM share_values) GROUP BY ALL",
            )
    out = []
    for cid in cluster_ids:
        lo, hi, models = window.get(cid, (0.0, 0.0, []))
        obs = ClusterObservables(
            cid,
            sorted(members.loc[members["cluster_id"] == cid, "account_id"]),
            float(lo or 0.0),
            float(hi or 0.0),
            [m for m in models if m],
            cluster_size=int(sizes.get(cid, 0)),
        )
        taken: Counter[str] = Counter()
        for item in found.get(cid, []):  # strongest first within each kind
            users = cleared_users.get((item.kind, item.value))
            # unflagged accounts outside this cluster: ordinary customers the indicator would hit
            if users and sum(users.values()) - users.get(cid, 0) >= guard:
                obs.skipped_common += 1
            elif taken[item.kind] < per_cluster:
                taken[item.kind] += 1
                obs.items.append(item)
        out.append(obs)
    return out
