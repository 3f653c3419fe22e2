"""Pool attachment: an account too small to link pairwise, whose traffic is its pool's private prompts.

A pool that spreads its harvest over many paraphrased templates gives each account a few requests
on each. An account with a handful of requests shares one template with this member and another
with that one: with every member, a share of traffic too small for a pairwise edge. Taken
against the cluster as a whole, the same account is plain: most of its requests are templates
that several members of one cluster send and hardly anybody else does.

For an account in no cluster and a cluster C, each kind's similarity is

    Σ over keys the account holds and at least `attach_min_holders` members of C hold:
        tf(account) × idf × (members of C holding the key / other holders of the key)

— the pairwise similarity with the cluster in place of the second account, discounted by how
much of the key's popularity lies outside C. A key held by one member only is left out: a
residential address or a creation hour shared once is chance, not the pool. The account is
attached to its best cluster when
1. its content evidence (templates and their paraphrase bands) reaches `attach_content_min`
   (a third of its traffic on templates private to C, at idf 1), over at least
   `attach_min_templates` templates private to C — held by C's members for at least half of
   their other holders (one shared prompt is a coincidence; a pool member sends several of the
   pool's) — or over `attach_harvest_min_templates` when the account's own requests carry a
   strong harvest signal (a straggler with two or three requests cannot send several of the
   pool's prompts; one of them and a harvest request of its own is as telling), and
2. with `require_identity`, the evidence is backed: operator evidence other than network
   addresses (payment, API key, client, creation burst, email domain, cadence) against C reaches
   `identity_min`, or the account's own requests carry a strong harvest signal.
Network keys do not back an attachment: summed over a whole cluster, shared addresses are as
often a cloud range or a carrier NAT (serverless apps, mobile users) as the operator's machines.
A popular prompt (a public benchmark, a homework) is held by accounts outside any one cluster,
so it is nobody's private template; a chat product's system prompt is not a template at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from distillguard.link.config import LinkConfig
from distillguard.link.content import harvest_condition
from distillguard.link.keys import ACCT, EVIDENCE, EVIDENCE_OF, IDENTITY_KINDS, KEYS, sql_list

ATTACH_MEMBERS = "_dg_link_attach_members"
ATTACH_HELD = "_dg_link_attach_held"
ATTACH_CANDIDATES = "_dg_link_attach_candidates"
# Kinds compared account to cluster: shared keys only. Lockstep windows restate templates in
# time, behaviour bands are a similarity estimate: neither is a key the pool holds.
_SKIP = ("fingerprint", "lockstep")


def attach_to_clusters(
    con: Any, groups: dict[int, list[int]], cfg: LinkConfig, ex_cols: set[str], stats: dict[str, Any]
) -> dict[int, list[int]]:
    """`groups` (cluster number -> account numbers) with the accounts in no cluster that the
    attachment rule ties to a cluster added to it, and every fragment (a cluster of at most
    `attach_fragment_max` members) at least half of whose members it ties to one larger cluster
    merged into that cluster; records how many accounts moved in `stats["attached"]` and, of
    those, how many came with fragments in `stats["from_fragments"]`."""
    stats["attached"] = stats["from_fragments"] = 0
    if not groups or cfg.attach_content_min <= 0:
        return groups
    frag = int(cfg.attach_fragment_max)
    aid = np.concatenate([np.asarray(m, np.int64) for m in groups.values()])
    gid = np.concatenate([np.full(len(m), g, np.int64) for g, m in groups.items()])
    size = np.concatenate([np.full(len(m), len(m), np.int64) for m in groups.values()])
    con.register("_dg_link_attach_arrow", pa.table({"aid": aid.astype(np.int32), "g": gid, "n": size}))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {ATTACH_MEMBERS} AS SELECT * FROM _dg_link_attach_arrow")
    con.unregister("_dg_link_attach_arrow")
    kinds = [k for k in EVIDENCE_OF if k not in _SKIP]
    # Keys held by enough members of a cluster, with how many (c), computed once.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {ATTACH_HELD} AS
        SELECT k.kid, m.g, any_value(m.n) AS n, count(*) AS c
        FROM {KEYS} k JOIN {ATTACH_MEMBERS} m USING (aid)
        GROUP BY k.kid, m.g HAVING count(*) >= {int(cfg.attach_min_holders)}
        """
    )
    # Candidates: accounts in no cluster, and members of fragments (a few accounts of a pool that
    # the community step split off), which may move to a larger cluster, never within their own.
    outside = f"k.df > 1 AND k.idf > 0 AND k.aid NOT IN (SELECT aid FROM {ATTACH_MEMBERS} WHERE n > {frag})"
    harvesting = _harvesting(con, ex_cols, cfg) if cfg.require_identity else set()
    con.register("_dg_link_attach_harvest", pa.table({"aid": np.array(sorted(harvesting), np.int32)}))
    # Only an account that sends enough of a cluster's private templates (its members are at
    # least half of the key's other holders; one is enough for a harvesting account, which must
    # still reach `attach_content_min` below) can join it: those (account, cluster) pairs are found
    # first, so the other kinds are summed for them alone and not for every outside holder of
    # every key some cluster holds.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {ATTACH_CANDIDATES} AS
        SELECT k.aid, h.g FROM {KEYS} k JOIN {ATTACH_HELD} h USING (kid)
        LEFT JOIN {ATTACH_MEMBERS} own ON own.aid = k.aid
        WHERE k.kind = 'template' AND {outside} AND h.c >= 0.5 * (k.df - 1)
          AND (own.g IS NULL OR (h.g <> own.g AND h.n > {frag}))
        GROUP BY k.aid, h.g HAVING count(*) >= {int(cfg.attach_min_templates)}
            OR (count(*) >= {int(cfg.attach_harvest_min_templates)}
                AND k.aid IN (SELECT aid FROM _dg_link_attach_harvest))
        """
    )
    con.unregister("_dg_link_attach_harvest")
    rows = con.execute(
        f"""
        SELECT k.aid, h.g, CAST(k.kind AS VARCHAR) AS kind,
               least(1.0, sum(k.tf * k.idf * h.c / (k.df - 1))) AS sim
        FROM {KEYS} k JOIN {ATTACH_HELD} h USING (kid)
        SEMI JOIN {ATTACH_CANDIDATES} c ON c.aid = k.aid AND c.g = h.g
        WHERE k.kind IN ({sql_list(kinds)}) AND {outside}
        GROUP BY k.aid, h.g, k.kind
        """
    ).fetchall()
    if not rows:
        return groups
    ev_index = {e: i for i, e in enumerate(EVIDENCE)}
    # A network key held by several members is, at the scale of a whole cluster, as often a cloud
    # range or a carrier NAT as the operator's own machines: pairwise edges weigh addresses (by
    # both accounts' traffic), attachment does not.
    identity = np.array(
        [e in IDENTITY_KINDS and e not in cfg.coincidence_kinds and e != "ip" for e in EVIDENCE]
    )
    content = ev_index[EVIDENCE_OF["template"]]
    scores: dict[tuple[int, int], np.ndarray] = {}
    for a, g, kind, sim in rows:
        ev = scores.setdefault((a, g), np.zeros(len(EVIDENCE)))
        ev[ev_index[EVIDENCE_OF[kind]]] += cfg.kind_weights.get(kind, 0.0) * sim
    best: dict[int, tuple[float, int]] = {}
    for (a, g), ev in scores.items():
        if ev[content] < cfg.attach_content_min:  # private templates: checked by the candidates
            continue
        backed = ev[identity].sum() >= cfg.identity_min or a in harvesting
        if cfg.require_identity and not backed:
            continue
        total = float(ev.sum())
        if a not in best or (total, -g) > (best[a][0], -best[a][1]):
            best[a] = (total, g)
    member_of = {int(a): g for g, m in groups.items() for a in m}
    moves = _fragment_moves(groups, member_of, best)
    out = {g: list(m) for g, m in groups.items()}
    for fragment, target in sorted(moves.items()):
        out[target] += out.pop(fragment)
    outsiders = sorted(a for a in best if a not in member_of)
    for a in outsiders:  # an account attached to a fragment that moved follows it
        g = best[a][1]
        out[moves.get(g, g)].append(int(a))
    stats["from_fragments"] = sum(len(groups[f]) for f in moves)
    stats["attached"] = len(outsiders) + stats["from_fragments"]
    return out


def _fragment_moves(
    groups: dict[int, list[int]], member_of: dict[int, int], best: dict[int, tuple[float, int]]
) -> dict[int, int]:
    """Fragment -> the cluster it joins: the one at least half of its members attach to. A
    fragment moves as a whole: its members are linked to one another (a mate left behind alone
    would lose its cluster, and the moved ones their links)."""
    votes: dict[int, dict[int, int]] = {}
    for a, (_, g) in best.items():
        if a in member_of:
            tally = votes.setdefault(member_of[a], {})
            tally[g] = tally.get(g, 0) + 1
    moves = {}
    for fragment, tally in votes.items():
        target, n = max(tally.items(), key=lambda kv: (kv[1], -kv[0]))
        if 2 * n >= len(groups[fragment]):
            moves[fragment] = target
    return moves


def _harvesting(con: Any, ex_cols: set[str], cfg: LinkConfig) -> set[int]:
    """Account numbers with at least one request carrying a strong harvest signal."""
    condition = harvest_condition(ex_cols, cfg.harvest_band_min_signal)
    if condition is None:
        return set()
    return {
        int(a)
        for (a,) in con.execute(
            f"SELECT DISTINCT a.aid FROM exchanges e JOIN {ACCT} a "
            f"ON a.account_id = CAST(e.account_id AS VARCHAR) WHERE {condition}"
        ).fetchall()
    }
