"""Account-level coordination: accounts tied to many others by several independent kinds of evidence.

Sharing one thing with other accounts is common (a popular prompt, a mobile carrier's address
pool); a pool run by one operator shares several unrelated things at once (templates and a
subnet and a creation burst and a payment method). This rule reads the link stage's edges and
counts, per account, the neighbours it is tied to by at least three independent kinds of evidence
from at least two families.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar

import orjson

from distillguard.detect.base import DetectionContext, register
from distillguard.detect.rules import top_templates
from distillguard.findings import Finding

try:  # the link stage's vocabulary of edge kinds
    from distillguard.link.keys import EVIDENCE_OF, FAMILY_OF
except ImportError:  # pragma: no cover - link stage absent: every kind is its own evidence
    FAMILY_OF, EVIDENCE_OF = {}, {}

MAX_LISTED = 10


def _family(kind: str) -> str:
    return FAMILY_OF.get(kind, kind)


def neighbour_kinds(edges: Any) -> dict[str, dict[str, dict[str, float]]]:
    """account -> neighbour -> {evidence kind: weight}, from a link edges table (both directions)."""
    out: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    if edges is None or edges.num_rows == 0:
        return out
    cols = [edges.column(c).to_pylist() for c in ("src", "dst", "kind", "weight")]
    for src, dst, kind, weight in zip(*cols, strict=True):
        ev = EVIDENCE_OF.get(kind, kind)
        w = float(weight or 0.0)
        for a, b in ((src, dst), (dst, src)):
            prev = out[a][b].get(ev, 0.0)
            out[a][b][ev] = max(prev, w)
    return out


def shared_keys(edges: Any, pairs: set[tuple[str, str]], per_kind: int = 2) -> dict[tuple[str, str], dict]:
    """For the listed (account, neighbour) pairs: kind -> the first shared keys the link stage named."""
    out: dict[tuple[str, str], dict[str, list]] = defaultdict(dict)
    if edges is None or edges.num_rows == 0 or "evidence" not in edges.column_names:
        return out
    cols = [edges.column(c).to_pylist() for c in ("src", "dst", "kind", "evidence")]
    for src, dst, kind, evidence in zip(*cols, strict=True):
        for key in ((src, dst), (dst, src)):
            if key in pairs and evidence:
                top = orjson.loads(evidence).get("top") or []
                if top:
                    out[key][kind] = top[:per_kind]
    return out


@register
class LinkedAccounts:
    id: ClassVar[str] = "linked-accounts"
    subject_kind: ClassVar[str] = "account"
    description: ClassVar[str] = (
        "The account is tied to several other accounts by at least three independent kinds of evidence "
        "(shared templates, infrastructure, creation bursts, payment, lockstep timing) at once."
    )
    false_positives: ClassVar[str] = (
        "Accounts of one organisation (a team sharing an office network, a payment method and prompts)."
    )
    evidence_fields: ClassVar[tuple[str, ...]] = (
        "strong_links",
        "linked_accounts",
        "families",
        "links",
    )
    defaults: ClassVar[dict[str, float]] = {"links_lo": 1, "links_hi": 5, "min_kinds": 3, "min_families": 2}
    emit_min: ClassVar[float] = 0.2

    def detect(self, ctx: DetectionContext) -> list[Finding]:
        cfg = ctx.config.get(self.id, {}) if isinstance(ctx.config, dict) else {}
        if isinstance(cfg, dict) and cfg.get("enabled") is False:
            return []
        unknown = set(cfg) - set(self.defaults) - {"enabled"} if isinstance(cfg, dict) else set()
        if unknown:
            raise ValueError(f"detector {self.id}: unknown option(s) {sorted(unknown)}")
        o = {**self.defaults, **{k: v for k, v in (cfg or {}).items() if k != "enabled"}}
        edges = getattr(ctx.linkage, "edges", None)
        per_account = neighbour_kinds(edges)
        hits: list[tuple[str, float, dict[str, Any]]] = []
        for acc, neighbours in per_account.items():
            strong = {
                b: kinds
                for b, kinds in neighbours.items()
                if len(kinds) >= o["min_kinds"] and len({_family(k) for k in kinds}) >= o["min_families"]
            }
            lo, hi = o["links_lo"], o["links_hi"]
            score = min(1.0, max(0.0, (len(strong) - lo) / max(hi - lo, 1e-9)))
            if score < self.emit_min:
                continue
            ranked = sorted(strong.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:MAX_LISTED]
            families = sorted({_family(k) for kinds in strong.values() for k in kinds})
            evidence = {
                "strong_links": len(strong),
                "linked_accounts": len(neighbours),
                "families": families,
                "links": [
                    {"account_id": b, "kinds": {k: round(w, 4) for k, w in sorted(kinds.items())}}
                    for b, kinds in ranked
                ],
                "thresholds": dict(o),
            }
            hits.append((acc, score, evidence))
        templates = top_templates(ctx.con, [h[0] for h in hits])
        listed = {(acc, link["account_id"]) for acc, _, ev in hits for link in ev["links"]}
        keys = shared_keys(edges, listed)
        for acc, _, ev in hits:
            for link in ev["links"]:
                shared = keys.get((acc, link["account_id"]))
                if shared:
                    link["shared"] = shared
        out = []
        for acc, score, ev in hits:
            ev["top_templates"] = templates.get(acc, [])
            examples = [e for t in ev["top_templates"] for e in t["example_exchange_ids"]]
            ev["example_exchange_ids"] = examples[:3]
            kinds = sorted({k for link in ev["links"] for k in link["kinds"]})
            out.append(
                Finding(
                    detector=self.id,
                    subject_kind="account",
                    subject_id=acc,
                    score=round(score, 4),
                    explanation=(
                        f"Tied to {ev['strong_links']} accounts by three or more independent kinds of "
                        f"evidence ({', '.join(kinds)})."
                    ),
                    evidence=orjson.loads(orjson.dumps(ev)),
                    severity="high" if score >= 0.8 else "medium" if score >= 0.5 else "low",
                )
            )
        return out
