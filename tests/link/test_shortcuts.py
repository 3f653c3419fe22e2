"""The stage's shortcuts for speed and memory change nothing: the same keys, the same linkage."""

from __future__ import annotations

import datetime as dt

import numpy as np
from link_world import T0, exchange, legit_population

from distillguard.link import content, fingerprint, infrastructure, keys, link_accounts, linkage, timing
from distillguard.link.config import LinkConfig
from distillguard.link.pairs import PAIRS


def _world(rng):
    """A pool created in two bursts (linked within each burst, bridged by content), an account
    sending the same prompts, ordinary accounts; one account listed twice in the accounts table."""
    rows = legit_population(rng, n=30)
    for i in range(10):
        for j in range(30):
            rows.append(
                exchange(
                    f"pool{i}",
                    float(rng.uniform(0, 1440)),
                    client_ip=f"203.0.113.{int(rng.integers(1, 4)) + (0 if i < 5 else 100)}",
                    template_id=f"pool-{j % 3}",
                    system_hash="pool-system",
                    capability="coding",
                )
            )
    rows += [
        exchange("lone0", float(m), template_id=f"pool-{k % 3}") for k, m in enumerate(range(0, 900, 30))
    ]
    accounts = [
        {"account_id": f"pool{i}", "created_at": T0 - dt.timedelta(days=40 if i < 5 else 10, minutes=i)}
        for i in range(10)
    ] + [
        {
            "account_id": f"legit{i}",
            "created_at": T0 - dt.timedelta(days=100 + 7 * i),
            "payment_fingerprint": f"c{i}",
        }
        for i in range(30)
    ]
    accounts.append(dict(accounts[-1]))  # a duplicate row: its keys count once per account
    return rows, accounts


def _keys(con, number_first: bool, monkeypatch) -> tuple[list, list]:
    monkeypatch.setattr(keys, "NUMBER_FIRST_EXCHANGES", 0 if number_first else 10**12)
    cfg = LinkConfig()
    ex_cols, acct_cols = keys.view_columns(con, "exchanges"), keys.view_columns(con, "accounts")
    n = keys.build_exchanges(con, ex_cols)
    specs = (
        infrastructure.key_specs(con, acct_cols, cfg, {})
        + content.key_specs(ex_cols)
        + timing.key_specs(cfg)
        + fingerprint.Fingerprints(con, ex_cols, cfg).key_specs()
    )
    keys.build_keys(con, specs, n)
    rows = con.sql(f"SELECT CAST(kind AS VARCHAR), kid, aid, tf, df, idf FROM {keys.KEYS} ORDER BY ALL")
    names = con.sql(f"SELECT kid, CAST(kind AS VARCHAR), key, df FROM {keys.KEY_NAMES} ORDER BY kid")
    return rows.fetchall(), names.fetchall()


def test_numbering_keys_first_gives_the_same_keys(rng, make_con, monkeypatch):
    rows, accounts = _world(rng)
    by_text = _keys(make_con(rows, accounts), False, monkeypatch)
    by_number = _keys(make_con(rows, accounts), True, monkeypatch)
    assert by_text == by_number
    incidence, names = by_text
    assert {k for k, *_ in incidence} >= {"ip", "subnet", "template", "creation_burst", "lockstep"}
    # kids follow (kind, key) order; a key held by one account has none
    assert [(kind, key) for _, kind, key, _ in names] == sorted((kind, key) for _, kind, key, _ in names)
    assert all(df >= 2 for *_, df in names)
    assert all(0 < tf <= 1 for _, _, _, tf, _, _ in incidence)


def test_scoring_backable_pairs_first_changes_nothing(rng, make_con, monkeypatch):
    rows, accounts = _world(rng)
    pruned = link_accounts(make_con(rows, accounts))

    def every_candidate(con, cfg, pairs, out):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT a, b FROM {PAIRS}")

    monkeypatch.setattr(linkage, "operator_backable", every_candidate)
    full = link_accounts(make_con(rows, accounts))
    assert full.stats["scored_pairs"] > pruned.stats["scored_pairs"]
    order = [("src", "ascending"), ("dst", "ascending"), ("kind", "ascending")]
    a, b = pruned.edges.sort_by(order), full.edges.sort_by(order)
    assert a.drop_columns(["weight"]).equals(b.drop_columns(["weight"]))
    # sums of floats in a parallel aggregate may differ in the last bit from run to run
    assert np.allclose(a["weight"].to_numpy(), b["weight"].to_numpy(), rtol=0, atol=1e-12)
    assert [c.to_dict() for c in pruned.clusters] == [c.to_dict() for c in full.clusters]
    assert {f"pool{i}" for i in range(10)} <= pruned.cluster_of.keys()
