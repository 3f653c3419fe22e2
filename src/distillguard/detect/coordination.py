"""Cluster-level detectors: coordinated account pools found by the link stage.

They read `ctx.linkage` (a `distillguard.link.Linkage`) and emit one finding per cluster, with
evidence a reviewer can check: the member accounts, the strongest links between them and, for
each link, the kinds of shared evidence and the shared keys themselves.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any, ClassVar

import orjson

from distillguard.detect.base import DetectionContext, register
from distillguard.detect.pool import TIE_DEFAULTS, member_tie
from distillguard.detect.rules import account_volumes, ramp, severity, template_examples, top_templates
from distillguard.findings import Finding
from distillguard.link.clusters import Cluster
from distillguard.link.keys import FAMILY_OF
from distillguard.link.lookalike import LOOKALIKE

MAX_MEMBERS = 200  # members listed in a finding's evidence
MAX_LINKS = 25  # links listed, strongest first


def detector_options(
    det_id: str, defaults: dict[str, float], ctx: DetectionContext
) -> dict[str, float] | None:
    """A cluster-level detector's options: its defaults overridden by the scan config's
    `<det_id>:` section, or None when that section disables it. Unknown options are an error."""
    over = ctx.config.get(det_id, {}) if isinstance(ctx.config, dict) else {}
    over = over if isinstance(over, dict) else {}
    if over.get("enabled") is False:
        return None
    unknown = set(over) - set(defaults) - {"enabled"}
    if unknown:
        raise ValueError(f"detector {det_id}: unknown option(s) {sorted(unknown)}")
    return {**defaults, **{k: v for k, v in over.items() if k != "enabled"}}


def cluster_links(linkage: Any, max_links: int = MAX_LINKS) -> dict[str, list[dict[str, Any]]]:
    """cluster_id -> its strongest links: {accounts, weight, kinds: {kind: similarity}, shared}."""
    cluster_of = linkage.cluster_of
    per_pair: dict[tuple[str, str], dict[str, Any]] = {}
    edges = linkage.edges
    for src, dst, kind, weight, evidence in zip(
        edges["src"].to_pylist(),
        edges["dst"].to_pylist(),
        edges["kind"].to_pylist(),
        edges["weight"].to_pylist(),
        edges["evidence"].to_pylist(),
        strict=True,
    ):
        cid = cluster_of.get(src)
        if cid is None or cid != cluster_of.get(dst):
            continue
        ev = orjson.loads(evidence) if evidence else {}
        link = per_pair.setdefault(
            (src, dst), {"cluster": cid, "accounts": [src, dst], "weight": 0.0, "kinds": {}, "shared": {}}
        )
        link["weight"] += weight
        link["kinds"][kind] = ev.get("similarity", round(weight, 4))
        if ev.get("top"):
            link["shared"][kind] = ev["top"]
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for link in sorted(per_pair.values(), key=lambda x: -x["weight"]):
        cid = link.pop("cluster")
        if len(out[cid]) < max_links:
            link["weight"] = round(link["weight"], 4)
            out[cid].append(link)
    return out


@register
class CoordinatedCluster:
    """A linked pool of accounts whose shared evidence forms a dense block (FRAUDAR score)."""

    id: ClassVar[str] = "coordinated-cluster"
    subject_kind: ClassVar[str] = "cluster"
    description: ClassVar[str] = (
        "Accounts linked by shared infrastructure, templates, lockstep timing or behaviour into a "
        "community whose shared evidence is a dense block: a hydra-cluster account pool."
    )
    false_positives: ClassVar[str] = (
        "Accounts of one real customer that do not declare a common organisation (a team paying "
        "with one card); eval runners sending one benchmark at release time when linkage runs "
        "without the operator-evidence requirement."
    )
    # A pool spreads its volume over interchangeable accounts so that none looks big; a member
    # sending many times the median member's traffic is not one of them (an eval runner or a
    # product account drawn into a classroom's cluster by a shared popular prompt): it is listed
    # as a volume outlier, and the decision does not lend it the cluster's score. A member tied to
    # the pool by nothing of the pool's own (no operator evidence or harvest prompts shared with a
    # member, few of the pool's private templates: `detect.pool.member_tie`) is listed as weakly
    # tied, and the decision lends it the cluster's score times its tie.
    defaults: ClassVar[dict[str, float]] = {
        "min_score": 0.05,
        "content_only_factor": 0.4,
        "outlier_ratio": 10.0,
        "outlier_min_members": 4,
        **TIE_DEFAULTS,
    }

    def options(self, ctx: DetectionContext) -> dict[str, float] | None:
        """This detector's options from the scan config, or None when it is disabled."""
        return detector_options(self.id, self.defaults, ctx)

    def score(self, c: Cluster, opts: dict[str, float]) -> float:
        """Dense shared evidence is the signal; links that only content and timing support
        (independent eval runners on release day look like that) count for less than links a
        common operator leaves: payment, network, client, creation burst, cadence."""
        factor = opts["content_only_factor"]
        return round(c.density * (factor + (1 - factor) * c.operator_evidence), 4)

    def detect(self, ctx: DetectionContext) -> list[Finding]:
        linkage = ctx.linkage
        opts = self.options(ctx)
        if opts is None or linkage is None or not linkage.clusters:
            return []
        links = cluster_links(linkage)
        volume = account_volumes(ctx.con)
        findings = []
        for c in linkage.clusters:
            score = self.score(c, opts)
            if score < opts["min_score"]:
                continue
            level = "high" if score >= 0.7 else "medium" if score >= 0.4 else "low"  # a cluster's own scale
            ev = evidence(c, links)
            ev.update(volume_outliers(c, volume, opts))
            ev["weakly_tied_members"] = weakly_tied(c, opts)
            findings.append(Finding(self.id, "cluster", c.cluster_id, score, explain(c), ev, level))
        return findings


def volume_outliers(c: Cluster, volume: dict[str, int], opts: dict[str, float]) -> dict[str, Any]:
    """The median member's exchanges and the members sending more than `outlier_ratio` times it."""
    counts = {a: int(volume.get(a) or 0) for a in c.members}
    if not counts:
        return {"median_member_exchanges": 0, "volume_outliers": []}
    median = statistics.median(counts.values())
    outliers = []
    if len(counts) >= opts["outlier_min_members"] and median > 0:
        outliers = [
            {"account_id": a, "exchanges": n} for a, n in counts.items() if n > opts["outlier_ratio"] * median
        ]
    return {"median_member_exchanges": median, "volume_outliers": outliers}


def weakly_tied(c: Cluster, opts: dict[str, float]) -> list[dict[str, Any]]:
    """The members tied to the pool less than fully (`detect.pool.member_tie`), weakest first,
    with what was measured: tie, links to members (operator-backed and harvest ones among them),
    private content share."""
    out = []
    for a in c.members:
        tie, measured = member_tie(c, a, opts)
        if measured is not None and tie < 1.0:
            out.append({"account_id": a, **measured})
    return sorted(out, key=lambda m: (m["tie"], m["account_id"]))


def explain(c: Cluster) -> str:
    """One sentence: who is linked, by what, how dense, doing what."""
    kinds = ", ".join(f"{k} ({n})" for k, n in c.edge_kinds.items())
    text = (
        f"{c.size} accounts linked by {kinds}; their shared evidence forms a dense block of "
        f"{c.core_accounts} accounts × {c.core_keys} keys (density score {c.density:.2f})"
    )
    top_cap = next(iter(c.capabilities), None)
    if top_cap:
        text += f", {c.capabilities[top_cap]:.0%} of {c.exchanges} exchanges {top_cap}"
    return text + "."


def evidence(c: Cluster, links: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """What a reviewer checks: members, the strongest links and why, what is shared, when."""
    return {
        "members": c.members[:MAX_MEMBERS],
        "member_count": c.size,
        "exchanges": c.exchanges,
        "edge_kinds": c.edge_kinds,
        "families": sorted({FAMILY_OF.get(k, k) for k in c.edge_kinds}),
        "density": c.density,
        "core_accounts": c.core_accounts,
        "core_keys": c.core_keys,
        "operator_evidence": c.operator_evidence,
        "links": links.get(c.cluster_id, []),
        "shared_infrastructure": c.shared_infrastructure,
        "shared_templates": c.shared_templates,
        "capabilities": c.capabilities,
        "first_seen": c.first_seen.isoformat() if c.first_seen else None,
        "last_seen": c.last_seen.isoformat() if c.last_seen else None,
    }


MAX_MATCHED = 10  # matched members listed in a look-alike finding, strongest tie first


@register
class LookalikeMember:
    """A member that look-alike joining added to an operator-backed pool.

    Look-alike joining (`link/lookalike.py`) adds to a cluster an account that has no operator
    evidence with anyone but passes the weak-edge rule on content and behaviour with at least half
    of the cluster's members (fewer in a loosely knit pool: as many as its own members have with
    one another). Its ties are one kind of evidence, never pairwise links of three
    kinds, so `linked-accounts` stays silent on it by design. That it resembles one pool as a
    whole is coordination evidence of its own, and it is worth what the pool is: the finding scales
    with the pool's cluster score from `pool_lo` (the most a cluster held together by content
    links alone can score, `content_only_factor` × density < 0.4: eval runners, tool developers)
    to `pool_hi`, times a ramp on the share of the pool's linked members it resembles. A volume
    outlier of its cluster gets none, as it gets no cluster score in the decision; nor does an
    account joined to a loosely knit pool that resembles under a quarter of its linked members
    (it still takes the pool's findings and cluster score in full, as every joined member does).
    """

    id: ClassVar[str] = "lookalike-member"
    subject_kind: ClassVar[str] = "account"
    description: ClassVar[str] = (
        "The account has no operator evidence with anyone, but its content and behaviour match one "
        "operator-backed cluster as a whole, and the link stage joined it to that pool "
        "as a look-alike: the pool's account that signed up, paid and connected alone."
    )
    false_positives: ClassVar[str] = (
        "An account of the same kind as a linked group of people sharing a campus network (a "
        "student joined to a classroom's cluster): coordination alone, which the decision does not "
        "flag without machine behaviour or harvest content agreeing."
    )
    evidence_fields: ClassVar[tuple[str, ...]] = (
        "cluster_id",
        "cluster_score",
        "operator_evidence",
        "members",
        "members_matched",
        "match_share",
        "matched",
        "member_tie",
    )
    defaults: ClassVar[dict[str, float]] = {
        "pool_lo": 0.4,
        "pool_hi": 0.7,
        "match_lo": 0.25,
        "match_hi": 0.75,
        "outlier_ratio": 10.0,
        "outlier_min_members": 4,
    }
    emit_min: ClassVar[float] = 0.2

    def options(self, ctx: DetectionContext) -> dict[str, float] | None:
        """This detector's options from the scan config, or None when it is disabled."""
        return detector_options(self.id, self.defaults, ctx)

    def detect(self, ctx: DetectionContext) -> list[Finding]:
        o = self.options(ctx)
        linkage = ctx.linkage
        if o is None or linkage is None or not getattr(linkage, "clusters", None):
            return []
        joined = {
            a: c
            for c in linkage.clusters
            for a, tie in (getattr(c, "member_ties", None) or {}).items()
            if tie.get("joined")
        }
        if not joined:
            return []
        clusters = CoordinatedCluster()
        cluster_opts = clusters.options(ctx) or clusters.defaults
        ties = lookalike_ties(getattr(linkage, "edges", None), set(joined))
        volume = account_volumes(ctx.con)
        hits: list[tuple[str, float, str, dict[str, Any]]] = []
        for acc, c in sorted(joined.items()):
            outliers = volume_outliers(c, volume, o)["volume_outliers"]
            if any(x["account_id"] == acc for x in outliers):
                continue
            cluster_score = clusters.score(c, cluster_opts)
            # The members the link stage tied by their own evidence (not joined, not attached).
            base = {
                m
                for m, t in c.member_ties.items()
                if m != acc and not t.get("joined") and t.get("links", 0) > 0
            }
            matched = {m: v for m, v in ties.get(acc, {}).items() if m in base}
            share = len(matched) / max(len(base), 1)
            pool = float(ramp(cluster_score, o["pool_lo"], o["pool_hi"]))
            score = round(pool * float(ramp(share, o["match_lo"], o["match_hi"])), 4)
            if score < self.emit_min:
                continue
            ranked = sorted(matched.items(), key=lambda kv: (-kv[1]["weight"], kv[0]))[:MAX_MATCHED]
            evidence = {
                "cluster_id": c.cluster_id,
                "cluster_score": cluster_score,
                "density": c.density,
                "operator_evidence": c.operator_evidence,
                "members": c.size,
                "members_linked": len(base),
                "members_matched": len(matched),
                "match_share": round(share, 4),
                "matched": [{"account_id": m, **v} for m, v in ranked],
                "member_tie": c.member_ties[acc],
                "thresholds": dict(o),
            }
            kinds = sorted({k.split(" ")[0] for v in matched.values() for k in v["kinds"]})
            text = (
                f"Joined cluster {c.cluster_id} ({c.size} accounts, cluster score {cluster_score:.2f}, "
                f"{100 * c.operator_evidence:.0f}% of its links backed by operator evidence) as a "
                f"look-alike: no operator evidence of its own, but its {', '.join(kinds)} match "
                f"{len(matched)} of the {len(base)} members the link stage tied by their own evidence."
            )
            hits.append((acc, score, text, evidence))
        templates = top_templates(ctx.con, [h[0] for h in hits], cache=ctx.cache)
        out = []
        for acc, score, text, ev in hits:
            ev["top_templates"] = templates.get(acc, [])
            ev["example_exchange_ids"] = template_examples(ev["top_templates"])
            out.append(
                Finding(
                    detector=self.id,
                    subject_kind="account",
                    subject_id=acc,
                    score=score,
                    explanation=text,
                    evidence=orjson.loads(orjson.dumps(ev)),
                    severity=severity(score),
                )
            )
        return out


def lookalike_ties(edges: Any, accounts: set[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """account -> member -> {weight, kinds, shared}: the look-alike ties (edges of kind `lookalike`)
    of the listed accounts, with the kinds the pair agreed on and the first keys they share."""
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    if edges is None or edges.num_rows == 0:
        return out
    cols = [edges.column(c).to_pylist() for c in ("src", "dst", "kind", "weight", "evidence")]
    for src, dst, kind, weight, evidence in zip(*cols, strict=True):
        if kind != LOOKALIKE:
            continue
        top = (orjson.loads(evidence) if evidence else {}).get("top") or []
        tie = {
            "weight": round(float(weight or 0.0), 4),
            "kinds": [t for t in top if ":" not in t],
            "shared": [t for t in top if ":" in t],
        }
        for a, b in ((src, dst), (dst, src)):
            if a in accounts:
                out[a][b] = tie
    return out
