"""coordinated-cluster lists the members that are not one of the pool's interchangeable workers."""

from types import SimpleNamespace

from distillguard.detect.coordination import CoordinatedCluster, volume_outliers

OPTS = CoordinatedCluster.defaults


def test_a_heavy_member_of_a_pool_of_small_accounts_is_an_outlier():
    c = SimpleNamespace(members=[f"s{i}" for i in range(12)] + ["runner"])
    volume = {**{f"s{i}": 30 + i for i in range(12)}, "runner": 2500}
    out = volume_outliers(c, volume, OPTS)
    assert out["median_member_exchanges"] == 36
    assert out["volume_outliers"] == [{"account_id": "runner", "exchanges": 2500}]


def test_even_pools_and_small_clusters_have_none():
    even = SimpleNamespace(members=[f"p{i}" for i in range(20)])
    assert volume_outliers(even, {f"p{i}": 100 + 10 * i for i in range(20)}, OPTS)["volume_outliers"] == []
    pair = SimpleNamespace(members=["a", "b", "c"])
    assert volume_outliers(pair, {"a": 1, "b": 2, "c": 900}, OPTS)["volume_outliers"] == []
