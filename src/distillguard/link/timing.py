"""Timing evidence: lockstep (in the spirit of CopyCatch) and a shared machine cadence.

Lockstep: accounts that send the same template in the same short windows, again and again. The
key is (template, window); an eval runner that sends a public benchmark at its own hour shares the
template but not the windows, a pool fed by one dispatcher shares both. Two accounts that both
send a template in *every* window (round-the-clock services) also share every window, by chance,
so the similarity is the excess over chance: with n_a and n_b windows per template out of W,
E = Σ n_a·n_b / W windows are shared by chance, and

    lockstep = clip((O - E) / (Σ min(n_a, n_b) - E), 0, 1) × Σ min(tf_a, tf_b)

where O is the number of windows actually shared and the last factor is the share of both
accounts' traffic on the shared templates (camouflage traffic lowers it, never raises it).

Cadence: a round-robin dispatcher gives each account of the pool one request every
`pool size × interval` seconds — the same period for all, with tiny jitter. An account whose gaps
are that regular gets a key naming its period (log-spaced buckets, two offset grids); machine
periods shared by a few accounts are rare among people and ordinary services.
"""

from __future__ import annotations

import math
from typing import Any

from distillguard.link.config import LinkConfig
from distillguard.link.infrastructure import bucket
from distillguard.link.keys import ACCT, EX, KeySpec

LOCKSTEP = "_dg_link_lockstep"


def key_specs(cfg: LinkConfig) -> list[KeySpec]:
    """The lockstep and cadence key specs over EX."""
    secs = max(10, int(cfg.lockstep_window_minutes * 60))
    step = math.log1p(cfg.cadence_tolerance)
    regular = f"""
        SELECT aid, median(gap) AS period,
               median(abs(gap - med)) / nullif(any_value(med), 0) AS spread, count(*) AS n
        FROM (SELECT aid, gap, median(gap) OVER (PARTITION BY aid) AS med
              FROM (SELECT aid, epoch(ts) - epoch(lag(ts) OVER (PARTITION BY aid ORDER BY ts)) AS gap
                    FROM {EX}))
        WHERE gap IS NOT NULL GROUP BY aid"""

    def period_label(off: float) -> str:
        center = f"exp((floor(ln(period) / {step} + {off}) - {off} + 0.5) * {step})"
        return f"'every ~' || CAST(round({center}) AS BIGINT) || 's'"

    cadence = " UNION ALL ".join(
        f"""SELECT aid, {period_label(off)} || '{tag}' AS key, 1 AS n
            FROM ({regular}) WHERE n >= {int(cfg.cadence_min_exchanges)} AND period > 0
              AND spread <= {cfg.cadence_tolerance / 2}"""
        for tag, off in (("", 0.0), ("+", 0.5))
    )
    return [
        KeySpec(
            "lockstep",
            f"SELECT aid, template || ' @ ' || {bucket('ts', secs)} AS key, 1 AS n "
            f"FROM {EX} WHERE template IS NOT NULL",
            reads_templates=True,
        ),
        KeySpec("cadence", cadence, per_exchange=False),
    ]


def build_lockstep(con: Any, pairs: str, cfg: LinkConfig) -> str:
    """Materialize LOCKSTEP(a, b, sim): the chance-corrected lockstep of every candidate pair."""
    secs = max(10, int(cfg.lockstep_window_minutes * 60))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {LOCKSTEP} AS
        WITH lw AS (
            SELECT aid, template, epoch(ts)::BIGINT // {secs} AS w, count(*) AS c
            FROM {EX} WHERE template IS NOT NULL GROUP BY ALL
        ), nt AS (
            SELECT l.aid, l.template, count(*) AS n, sum(l.c) / any_value(a.n_ex) AS tf
            FROM lw l JOIN {ACCT} a USING (aid) GROUP BY l.aid, l.template
        ), span AS (
            SELECT greatest(1, max(w) - min(w) + 1)::DOUBLE AS total FROM lw
        ), shared AS (
            SELECT p.a, p.b, x.template, x.n AS na, y.n AS nb, least(x.tf, y.tf) AS tf
            FROM {pairs} p JOIN nt x ON x.aid = p.a JOIN nt y ON y.aid = p.b AND y.template = x.template
        ), obs AS (
            SELECT p.a, p.b, count(*) AS o
            FROM {pairs} p JOIN lw x ON x.aid = p.a
            JOIN lw y ON y.aid = p.b AND y.template = x.template AND y.w = x.w
            GROUP BY p.a, p.b
        ), agg AS (
            SELECT s.a, s.b, sum(s.na * s.nb) / any_value(span.total) AS e, sum(least(s.na, s.nb)) AS m,
                   least(1.0, sum(s.tf)) AS coverage
            FROM shared s, span GROUP BY s.a, s.b
        )
        SELECT g.a, g.b,
               CASE WHEN g.m - g.e < 1 THEN 0.0
                    ELSE greatest(0.0, least(1.0, (o.o - g.e) / (g.m - g.e))) * g.coverage END AS sim
        FROM agg g JOIN obs o USING (a, b)
        """
    )
    return LOCKSTEP
