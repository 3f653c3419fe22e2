"""Pool-level machine behaviour: a linked cluster that runs like one machine, not like people.

A classroom or a batch of organic sign-ups is linked as tightly as a harvest pool (shared homework
templates, a campus network, a creation week), but its members are people: the pool's traffic
follows a day and a night, and members rarely fire in the same seconds. An operator's pool runs
round the clock and its accounts fire in lockstep. This rule reads the link stage's clusters and
scores each member account by its pool's flatness over the hours of the day (the share of the
pool's traffic in its quietest eight hours, against the third a flat pool sends there) and by the
density of lockstep edges among its members. A flat sum of members who each keep a human day
(people in many time zones) is not a machine: the flat path counts only when the members' own
hour-of-day profiles are not strongly diurnal. It is behaviour evidence, independent of what the
pool shares (templates, infrastructure), so it can agree with coordination without counting the
same fact twice.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from distillguard.detect.base import DetectionContext, register
from distillguard.detect.rules import AccountRule, ramp, severity
from distillguard.findings import Finding

QUIET_HOURS = 8  # the night of a human day

# How far a member is tied to its pool itself, not merely linked into it: a member inherits the
# pool's findings (and, in the decision, its cluster score) times its tie. An eval runner or a
# casual user that signed up in the same hours as one of a pool's accounts and sends public
# prompts the pool sends too is one or two links away from the pool, and nothing of it is the
# pool's own. A pool's worker is linked to many of its fellow workers, or shares operator
# evidence or harvest prompts with one, or sends the pool's private content. The tie is the
# strongest of: 1 with an operator-backed or harvest link to a member, or for an account that
# look-alike joining added (it was tested against the pool as a whole, link/lookalike.py, and the
# ramp below would count the other joined accounts it cannot resemble); a ramp on the number of
# members it is linked to by more than a shared sign-up window (a creation burst is all a stranger
# who signed up in the same hours has with a few of them), from `tie_links_lo` to `tie_links_hi`
# (or to all other members of a smaller cluster); a ramp on the share of its requests on the
# pool's private templates, system prompts or tool schemas. The member's own harvest share is not
# a tie: an eval runner on a chain-of-thought benchmark has one too, and its own detectors read it
# already.
TIE_DEFAULTS: dict[str, float] = {
    "tie_links_lo": 2,
    "tie_links_hi": 5,
    "tie_private_lo": 0.05,
    "tie_private_hi": 0.25,
}


def _ramp1(x: float, lo: float, hi: float) -> float:
    return float(ramp(np.array([x]), lo, hi)[0])


def tied_by_own_evidence(measured: dict[str, Any]) -> bool:
    """Whether a member's measured ties make it one of the pool's own: a link to a fellow member
    backed by operator evidence or shared harvest prompts, or look-alike joining (tested against
    the pool as a whole)."""
    return (
        measured.get("operator_links", 0) > 0
        or measured.get("harvest_links", 0) > 0
        or bool(measured.get("joined"))
    )


def member_tie(cluster: Any, account: str, o: dict[str, float]) -> tuple[float, dict[str, Any] | None]:
    """(tie in [0, 1], its evidence) of one member of `cluster`; (1, None) when the link stage did
    not measure the member (a linkage without member ties lends every member the pool's evidence)."""
    measured = (getattr(cluster, "member_ties", None) or {}).get(account)
    if measured is None:
        return 1.0, None
    if tied_by_own_evidence(measured):
        tie = 1.0
    else:
        others = max(len(getattr(cluster, "members", ()) or ()) - 1, 1)
        hi = min(o["tie_links_hi"], others)
        lo = min(o["tie_links_lo"], hi - 1)
        # A link held by a creation burst alone is what a stranger who signed up in the same hours
        # and sends public prompts has with a pool's accounts: it does not count here.
        links = measured.get("links", 0) - measured.get("burst_links", 0)
        tie = max(
            _ramp1(links, lo, hi),
            _ramp1(measured.get("private_content_share", 0.0), o["tie_private_lo"], o["tie_private_hi"]),
        )
    return tie, {"tie": round(tie, 4), **measured}


def tie_sentence(tie: dict[str, Any]) -> str:
    """Why a member inherits only part of its pool's evidence (empty for a fully tied member)."""
    if tie["tie"] >= 1.0:
        return ""
    return (
        f" This account is linked to {tie['links']} of its members, shares no operator evidence or "
        f"harvest prompts with any and sends {100 * tie['private_content_share']:.0f}% of its "
        f"requests on the pool's private templates, system prompts or tool schemas: it is weighed at "
        f"{tie['tie']:.2f} of the pool's score."
    )


def quiet_share(hour_counts: np.ndarray) -> float:
    """Share of traffic in the quietest `QUIET_HOURS` consecutive hours of the day, times 24/8.

    About 1 for traffic flat over the day, near 0 for a human day with a night.
    """
    total = float(hour_counts.sum())
    if total <= 0:
        return 0.0
    windows = [hour_counts[(np.arange(QUIET_HOURS) + i) % 24].sum() for i in range(24)]
    return float(min(windows)) / total * 24 / QUIET_HOURS


def member_dispersion(con: Any, cluster_of: dict[str, str], min_exchanges: int) -> dict[str, float]:
    """cluster id -> median hour-of-day dispersion of its members with enough traffic to have one."""
    rows = con.execute(
        "SELECT account_id, diurnal_dispersion FROM account_features "
        "WHERE exchanges >= ? AND diurnal_dispersion IS NOT NULL",
        [int(min_exchanges)],
    ).fetchall()
    per: dict[str, list[float]] = {}
    for acc, disp in rows:
        if acc in cluster_of:
            per.setdefault(cluster_of[acc], []).append(float(disp))
    return {cid: float(np.median(v)) for cid, v in per.items()}


def pool_hours(con: Any, cluster_of: dict[str, str]) -> dict[str, np.ndarray]:
    """cluster id -> exchanges per hour of the day (UTC, epoch arithmetic) over its members."""
    if not cluster_of:
        return {}
    con.register(
        "_dg_pool",
        pa.table({"account_id": list(cluster_of), "cluster_id": list(cluster_of.values())}),
    )
    try:
        rows = con.execute(
            """
            SELECT p.cluster_id, CAST(FLOOR(epoch(e.ts) / 3600) AS BIGINT) % 24 AS h, COUNT(*) AS c
            FROM exchanges e JOIN _dg_pool p ON e.account_id = p.account_id
            GROUP BY 1, 2
            """
        ).fetchall()
    finally:
        con.unregister("_dg_pool")
    out: dict[str, np.ndarray] = {}
    for cid, h, c in rows:
        out.setdefault(cid, np.zeros(24))[int(h)] += int(c)
    return out


class PoolRule(AccountRule):
    """A rule scored per linked cluster: every member gets its pool's score, times its tie to the
    pool (`member_tie`), and evidence.

    Subclasses give `pools` (one row per cluster: `cluster_id`, `members`, `score` and the
    evidence values) and `explain` (the sentence for one pool); `pool_examples` may add example
    exchange ids (per pool, and per member account).
    """

    needs_linkage: ClassVar[bool] = True  # a pool is a linked cluster

    def pools(self, ctx: DetectionContext, o: dict[str, float]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def explain(self, pool: dict[str, Any]) -> str:
        raise NotImplementedError

    def pool_examples(
        self, ctx: DetectionContext, pools: list[dict[str, Any]]
    ) -> tuple[dict[str, list[str]], dict[str, list[str]] | None]:
        """(cluster id -> example exchange ids of the pool, account -> its own examples or None)."""
        return {}, None

    def detect(self, ctx: DetectionContext) -> list[Finding]:
        over = ctx.config.get(self.id, {}) if isinstance(ctx.config, dict) else {}
        if isinstance(over, dict) and over.get("enabled") is False:
            return []
        o = self.options(ctx)
        hits = [p for p in self.pools(ctx, o) if round(p["score"], 4) >= self.emit_min]
        pool_examples, own_examples = self.pool_examples(ctx, hits)
        clusters = {c.cluster_id: c for c in getattr(ctx.linkage, "clusters", None) or []}
        findings = []
        for pool in hits:
            ev = {k: v for k, v in pool.items() if k not in ("score", "members")}
            ev["members"] = len(pool["members"])
            ev["thresholds"] = dict(o)
            if pool["cluster_id"] in pool_examples:
                ev["pool_example_exchange_ids"] = pool_examples[pool["cluster_id"]]
            explanation = self.explain(pool)
            for acc in pool["members"]:
                tie, tie_ev = member_tie(clusters.get(pool["cluster_id"]), acc, o)
                sc = round(pool["score"] * tie, 4)
                if sc < self.emit_min:
                    continue
                evidence = ev
                if own_examples is not None or tie_ev is not None:
                    evidence = dict(ev)
                if own_examples is not None:
                    evidence["example_exchange_ids"] = own_examples.get(acc, [])
                if tie_ev is not None:
                    evidence["member_tie"] = tie_ev
                findings.append(
                    Finding(
                        detector=self.id,
                        subject_kind="account",
                        subject_id=acc,
                        score=sc,
                        explanation=explanation + (tie_sentence(tie_ev) if tie_ev else ""),
                        evidence=evidence,
                        severity=severity(sc),
                    )
                )
        return findings


@register
class PoolCadence(PoolRule):
    id = "pool-cadence"
    description = (
        "The account's linked cluster runs like one machine: the pool's traffic is flat over the 24 hours "
        "of the day and/or its members fire in lockstep, where a group of people (a classroom, a team) "
        "has a night and rarely acts in the same seconds."
    )
    false_positives = (
        "Unrelated accounts in many time zones linked into one cluster (their sum is flat); scheduled "
        "jobs of one customer's accounts."
    )
    evidence_fields = (
        "cluster_id",
        "members",
        "quiet_share",
        "member_dispersion",
        "lockstep_edges",
        "lockstep_density",
        "member_tie",
    )
    defaults: ClassVar[dict[str, float]] = {
        "flat_lo": 0.55,
        "flat_hi": 0.85,
        "lockstep_lo": 0.1,
        "lockstep_hi": 0.4,
        "members_lo": 4,
        "members_hi": 10,
        "min_exchanges": 200,
        "member_min_exchanges": 24,
        "member_dispersion_lo": 6.0,
        "member_dispersion_hi": 12.0,
        **TIE_DEFAULTS,
    }

    def pools(self, ctx: DetectionContext, o: dict[str, float]) -> list[dict[str, Any]]:
        """One row per linked cluster: members, quiet share, lockstep density and the pool score."""
        linkage = ctx.linkage
        clusters = list(getattr(linkage, "clusters", None) or [])
        cluster_of = {a: c.cluster_id for c in clusters for a in c.members}
        hours = pool_hours(ctx.con, cluster_of)
        dispersion = member_dispersion(ctx.con, cluster_of, int(o["member_min_exchanges"]))
        out = []
        for c in clusters:
            n = len(c.members)
            counts = hours.get(c.cluster_id, np.zeros(24))
            lockstep = int((c.edge_kinds or {}).get("lockstep", 0))
            density = lockstep / max(n * (n - 1) / 2, 1)
            quiet = quiet_share(counts)
            # Too little traffic and the hour profile is noise.
            flat = ramp(np.array([quiet]), o["flat_lo"], o["flat_hi"])[0]
            flat *= counts.sum() >= o["min_exchanges"]
            # Members who each have a day and a night: a flat sum is time zones, not a machine.
            disp = dispersion.get(c.cluster_id, float("nan"))
            flat *= 1.0 - ramp(np.array([disp]), o["member_dispersion_lo"], o["member_dispersion_hi"])[0]
            step = ramp(np.array([density]), o["lockstep_lo"], o["lockstep_hi"])[0]
            size = ramp(np.array([n]), o["members_lo"], o["members_hi"])[0]
            out.append(
                {
                    "cluster_id": c.cluster_id,
                    "members": c.members,
                    "quiet_share": round(quiet, 4),
                    "member_dispersion": None if np.isnan(disp) else round(disp, 2),
                    "lockstep_edges": lockstep,
                    "lockstep_density": round(density, 4),
                    "score": float(max(flat, step) * size),
                }
            )
        return out

    def explain(self, pool: dict[str, Any]) -> str:
        return (
            f"Its cluster {pool['cluster_id']} ({len(pool['members'])} accounts) sends "
            f"{100 * pool['quiet_share'] / 3:.0f}% of its traffic in its quietest "
            f"{QUIET_HOURS} hours of the day (a flat pool sends 33%; members' own "
            f"hour-of-day dispersion {pool['member_dispersion']}) and has "
            f"{pool['lockstep_edges']} lockstep links "
            f"({100 * pool['lockstep_density']:.0f}% of member pairs)."
        )
