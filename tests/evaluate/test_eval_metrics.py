"""Metrics on small hand-built cases with answers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from distillguard.evaluate.metrics import (
    TruthRow,
    cluster_agreement,
    confusion,
    exchange_attribution,
    group_rates,
    ranking,
)

TRUTH = [
    TruthRow("l1", "legit", "casual_chat", None),
    TruthRow("l2", "legit", "casual_chat", None),
    TruthRow("l3", "legit", "router", None),
    TruthRow("l4", "legit", "eval_runner", None),
    TruthRow("a1", "campaign", "campaign", "A"),
    TruthRow("a2", "campaign", "campaign", "A"),
    TruthRow("a3", "campaign", "campaign", "A"),
    TruthRow("b1", "campaign", "reseller", "B"),
]


def test_confusion_by_hand():
    m = confusion(TRUTH, {"a1", "a2", "b1", "l4"})
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (3, 1, 1, 3)
    assert m["precision"] == pytest.approx(3 / 4)
    assert m["recall"] == pytest.approx(3 / 4)
    assert m["fpr"] == pytest.approx(1 / 4)
    assert m["f1"] == pytest.approx(0.75)


def test_confusion_when_nothing_is_flagged():
    m = confusion(TRUTH, set())
    assert m["precision"] is None and m["recall"] == 0 and m["fpr"] == 0 and m["f1"] == 0


def test_rates_per_archetype_and_campaign():
    flagged = {"a1", "l3"}
    arche = {
        r["archetype"]: r for r in group_rates([t for t in TRUTH if t.label == "legit"], flagged, "archetype")
    }
    assert arche["router"]["rate"] == 1.0 and arche["casual_chat"]["rate"] == 0.0
    camp = {r["campaign_id"]: r for r in group_rates(TRUTH, flagged, "campaign_id")}
    assert camp["A"]["rate"] == pytest.approx(1 / 3) and camp["B"]["rate"] == 0.0
    assert set(camp) == {"A", "B"}


def test_ranking_perfect_and_inverted():
    perfect = {t.account_id: (0.9 if t.label == "campaign" else 0.1) for t in TRUTH}
    assert ranking(TRUTH, perfect) == {"roc_auc": 1.0, "average_precision": 1.0}
    inverted = {k: 1 - v for k, v in perfect.items()}
    assert ranking(TRUTH, inverted)["roc_auc"] == 0.0


def test_exchange_attribution_by_hand():
    accounts = np.array(["a1", "a1", "a2", "b1", "b1", "b1", "l1"], dtype=object)
    campaigns = np.array(["A", "A", "A", "B", None, None, None], dtype=object)
    out = exchange_attribution(accounts, campaigns, {"a1", "b1"})
    assert out["campaign_exchanges"] == 4
    assert out["campaign_share"] == pytest.approx(3 / 4)  # a1 twice and b1's harvest once
    assert out["legit_share_in_flagged"] == pytest.approx(2 / 3)  # b1's two customer requests
    assert out["per_campaign"]["A"]["share"] == pytest.approx(2 / 3)
    assert out["per_campaign"]["B"]["share"] == 1.0


def test_cluster_agreement():
    exact = {"a1": "x", "a2": "x", "a3": "x", "b1": "y"}
    agree = cluster_agreement(TRUTH, exact)
    assert agree["ari_campaign_accounts"] == pytest.approx(1.0)
    assert agree["ari_all_accounts"] == pytest.approx(1.0)
    # Pulling a legitimate account into campaign A's cluster hurts only the all-accounts ARI.
    polluted = dict(exact, l1="x")
    worse = cluster_agreement(TRUTH, polluted)
    assert worse["ari_campaign_accounts"] == pytest.approx(1.0)
    assert worse["ari_all_accounts"] < 1.0
    # Everything unclustered: campaign accounts are singletons, no agreement.
    assert cluster_agreement(TRUTH, {})["ari_campaign_accounts"] == pytest.approx(0.0)
    # Merging both campaigns into one cluster is worse than keeping them apart.
    merged = cluster_agreement(TRUTH, {"a1": "x", "a2": "x", "a3": "x", "b1": "x"})
    assert merged["ari_campaign_accounts"] < 1.0
