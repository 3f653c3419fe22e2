"""Pool-level harvest content: a linked cluster whose members, taken together, harvest reasoning.

A low-and-slow pool spreads its harvest so thin that no account's own share says anything: with
ten requests, two chain-of-thought prompts are noise; a forwarder of real users' prompts asks for
reasoning on half of ordinary chat. Over the pool the same shares are a measurement. This rule
reads the link stage's clusters and scores each member by the median over its members of (a) the
share of prompts that elicit reasoning traces, grading or rewrites (`harvest_share`, the strong
phrasings only) and (b) the share of requests that ask for extended reasoning and get it back
(returned reasoning text, reasoning tokens billed, or the highest level asked for). The median
makes one heavy member (an eval runner pulled into a classroom's cluster) unable to colour the
pool. Groups of people linked as tightly as a pool (classrooms, teams, sign-up waves) do not
turn reasoning up on every request nor send reasoning-harvest prompts: their medians are 0.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from distillguard.detect.base import DetectionContext, register
from distillguard.detect.pool import TIE_DEFAULTS, PoolRule
from distillguard.detect.rules import example_exchanges, ramp

HARVEST_WHERE = (
    "GREATEST(COALESCE(e.cot_elicitation, 0), COALESCE(e.rubric_grading, 0), "
    "COALESCE(e.censorship_rewrite, 0)) >= 0.5"
)


def member_content(con: Any, cluster_of: dict[str, str], min_exchanges: int) -> dict[str, dict[str, Any]]:
    """cluster id -> members counted, their exchanges and the medians of their harvest and
    reasoning shares (members with at least `min_exchanges` exchanges)."""
    rows = con.execute(
        "SELECT account_id, exchanges, COALESCE(harvest_share, 0), "
        "GREATEST(COALESCE(reasoning_requested_share, 0), COALESCE(thinking_share, 0), "
        "COALESCE(effort_high_share, 0)), "
        "GREATEST(COALESCE(reasoning_token_share, 0), COALESCE(reasoning_char_share, 0), "
        "COALESCE(reasoning_high_share, 0)) "
        "FROM account_features WHERE exchanges >= ?",
        [int(min_exchanges)],
    ).fetchall()
    per: dict[str, list[tuple[int, float, float]]] = {}
    for acc, n, harvest, asked, got in rows:
        if acc in cluster_of:
            # Asked for and produced: a request that asks for reasoning the model never returns or
            # bills is not a trace collected.
            per.setdefault(cluster_of[acc], []).append(
                (int(n), float(harvest), min(float(asked), float(got)))
            )
    out = {}
    for cid, v in per.items():
        arr = np.array(v, dtype="float64")
        out[cid] = {
            "members_counted": len(v),
            "member_exchanges": int(arr[:, 0].sum()),
            "median_harvest_share": float(np.median(arr[:, 1])),
            "median_reasoning_share": float(np.median(arr[:, 2])),
        }
    return out


@register
class PoolHarvest(PoolRule):
    id = "pool-harvest"
    description = (
        "The account's linked cluster, taken as one pool, harvests reasoning: the typical member sends "
        "chain-of-thought, grading or rewrite prompts, or asks for extended reasoning and gets it back, "
        "on a good share of its requests, even when each account is too small for its own share to mean "
        "anything."
    )
    false_positives = (
        "A research team of several undeclared organisations studying reasoning, linked by shared "
        "infrastructure; eval runners of one operator that does not declare its organisation."
    )
    evidence_fields = (
        "cluster_id",
        "members",
        "members_counted",
        "member_exchanges",
        "median_harvest_share",
        "median_reasoning_share",
        "member_tie",
    )
    defaults: ClassVar[dict[str, float]] = {
        "harvest_lo": 0.05,
        "harvest_hi": 0.25,
        "reasoning_lo": 0.1,
        "reasoning_hi": 0.3,
        "members_lo": 3,
        "members_hi": 8,
        "member_min_exchanges": 3,
        "min_exchanges": 60,
        **TIE_DEFAULTS,
    }

    def pools(self, ctx: DetectionContext, o: dict[str, float]) -> list[dict[str, Any]]:
        """One row per linked cluster: members, median shares and the pool score."""
        clusters = list(getattr(ctx.linkage, "clusters", None) or [])
        cluster_of = {a: c.cluster_id for c in clusters for a in c.members}
        content = member_content(ctx.con, cluster_of, int(o["member_min_exchanges"]))
        out = []
        for c in clusters:
            m = content.get(c.cluster_id)
            if not m:
                continue
            harvest = ramp(np.array([m["median_harvest_share"]]), o["harvest_lo"], o["harvest_hi"])[0]
            reasoning = ramp(np.array([m["median_reasoning_share"]]), o["reasoning_lo"], o["reasoning_hi"])[0]
            # The medians need members and traffic behind them to be a measurement.
            size = ramp(np.array([m["members_counted"]]), o["members_lo"], o["members_hi"])[0]
            enough = m["member_exchanges"] >= o["min_exchanges"]
            out.append(
                {
                    "cluster_id": c.cluster_id,
                    "members": c.members,
                    **{k: round(v, 4) if isinstance(v, float) else v for k, v in m.items()},
                    "score": float(max(harvest, reasoning) * size * enough),
                }
            )
        return out

    def pool_examples(
        self, ctx: DetectionContext, pools: list[dict[str, Any]]
    ) -> tuple[dict[str, list[str]], dict[str, list[str]] | None]:
        # Harvest prompts of other members too: what the pool asks, where this account's own
        # requests may hold none.
        examples = example_exchanges(ctx.con, [a for p in pools for a in p["members"]], HARVEST_WHERE, k=2)
        per_pool = {
            p["cluster_id"]: sorted(e for a in p["members"] for e in examples.get(a, []))[:5] for p in pools
        }
        return per_pool, examples

    def explain(self, pool: dict[str, Any]) -> str:
        return (
            f"Its cluster {pool['cluster_id']} ({len(pool['members'])} accounts, "
            f"{pool['member_exchanges']} requests) harvests as one pool: the median member "
            f"sends {100 * pool['median_harvest_share']:.0f}% reasoning-harvest prompts and "
            f"asks for extended reasoning it gets back on "
            f"{100 * pool['median_reasoning_share']:.0f}% of its requests."
        )
