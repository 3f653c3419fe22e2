import duckdb
import pyarrow as pa
import pytest

from distillguard.signals import SIGNAL_SCHEMA, assign_templates, compute_signals, group_skeletons

LONG = (
    "You are a meticulous tutor. Read the problem carefully, then write out every step of your "
    "reasoning before stating the final answer in a box at the end of your reply. Problem: {}"
)


def _con(users: list, ids: list[str] | None = None) -> duckdb.DuckDBPyConnection:
    ids = ids or [f"x{i}" for i in range(len(users))]
    sig = compute_signals(pa.table({"user_text": pa.array(users, pa.string())}))
    table = pa.Table.from_arrays([pa.array(ids), *sig.columns], ["exchange_id", *SIGNAL_SCHEMA.names])
    con = duckdb.connect()
    con.register("exchanges", table)
    return con


def _assign(users: list, ids: list[str] | None = None) -> dict[str, str | None]:
    res = assign_templates(_con(users, ids))
    return dict(
        zip(res.column("exchange_id").to_pylist(), res.column("template_id").to_pylist(), strict=True)
    )


def test_paraphrases_share_a_template_and_unrelated_prompts_do_not():
    users = [
        LONG.format("17 * 23"),
        LONG.format("what is 4 + 9").replace("meticulous", "careful").replace("in a box", "inside a box"),
        LONG.upper().format("1 + 1"),
        "Summarize the plot of a famous novel in three short sentences for a school newsletter article.",
    ]
    tid = _assign(users)
    assert tid["x0"] == tid["x1"] == tid["x2"]
    assert tid["x3"] != tid["x0"]


def test_short_generic_prompts_do_not_merge():
    users = ["hi", "hello", "translate this", "thanks!", "help", "Hi"]
    tid = _assign(users)
    assert tid["x0"] == tid["x5"]  # same skeleton after case folding
    assert len({tid[k] for k in ("x0", "x1", "x2", "x3", "x4")}) == 5


def test_template_id_is_the_smallest_skeleton_hash_and_stable_under_row_order():
    users = [LONG.format(i) + " please" * (i % 3) for i in range(6)] + ["unrelated short prompt"]
    ids = [f"e{i}" for i in range(len(users))]
    a = _assign(users, ids)
    b = _assign(users[::-1], ids[::-1])
    assert a == b
    con = _con(users, ids)
    hashes = [r[0] for r in con.execute("SELECT skeleton_hash FROM exchanges").fetchall()]
    assert a["e0"] == min(h for h, u in zip(hashes, users, strict=True) if u.startswith("You are"))


def test_null_skeleton_gets_null_template_and_every_row_is_returned():
    tid = _assign([None, "", "hello world"])
    assert tid["x0"] is None and tid["x1"] is None and tid["x2"] is not None


def test_empty_exchanges():
    res = assign_templates(_con([]))
    assert res.num_rows == 0 and res.column_names == ["exchange_id", "template_id"]


def _skeletons(keys: dict[str, list[str]]) -> pa.Table:
    return pa.table(
        {"skeleton_hash": list(keys), "lsh_keys": pa.array(list(keys.values()), pa.list_(pa.string()))}
    )


def test_group_skeletons_needs_two_shared_bands_by_default():
    table = _skeletons(
        {
            "b1": ["k1", "k2", "k3", "k4"],
            "a9": ["k1", "k2", "x3", "x4"],  # two bands shared with b1
            "c5": ["k1", "y2", "y3", "y4"],  # one band shared with b1
            "d0": [],
        }
    )
    two = dict(zip(*group_skeletons(table).to_pydict().values(), strict=True))
    assert two == {"b1": "a9", "a9": "a9", "c5": "c5", "d0": "d0"}
    one = dict(zip(*group_skeletons(table, min_shared_bands=1).to_pydict().values(), strict=True))
    assert one["c5"] == one["b1"] == "a9"


def test_group_skeletons_max_bucket_ignores_hub_keys():
    table = _skeletons({f"s{i}": ["hub", f"u{i}", f"v{i}", f"w{i}"] for i in range(5)})
    linked = group_skeletons(table, min_shared_bands=1).column("template_id").to_pylist()
    apart = group_skeletons(table, min_shared_bands=1, max_bucket=3).column("template_id").to_pylist()
    assert len(set(linked)) == 1 and len(set(apart)) == 5


def test_group_skeletons_rejects_other_band_counts():
    with pytest.raises(ValueError, match="min_shared_bands"):
        group_skeletons(_skeletons({"a": []}), min_shared_bands=3)


@pytest.mark.parametrize(
    ("nodes", "edges", "seed"),
    [(1, 0, 0), (50, 0, 1), (2_000, 1_500, 2), (2_000, 6_000, 3), (30_000, 29_000, 4)],
)
def test_connected_labels_are_the_components_scipy_finds(nodes, edges, seed):
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from distillguard.signals.templates import connected_labels

    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, nodes, edges), rng.integers(0, nodes, edges)
    labels = connected_labels(nodes, src, dst)
    count, reference = connected_components(
        coo_matrix((np.ones(edges, np.int8), (src, dst)), shape=(nodes, nodes)), directed=False
    )
    # the same partition: as many labels as components, and each label within one component
    assert len(np.unique(labels)) == count
    assert len(np.unique(np.stack([labels, reference], axis=1), axis=0)) == count
    # each label is its component's smallest node
    assert all(labels[labels] == labels) and all(labels <= np.arange(nodes))
    first = {}
    for node, label in enumerate(labels.tolist()):
        first.setdefault(label, node)
    assert all(first[label] == label for label in first)


def test_connected_labels_of_a_long_path_reach_its_first_node():
    import numpy as np

    from distillguard.signals.templates import connected_labels

    order = np.random.default_rng(5).permutation(10_000)  # a path visiting the nodes in random order
    labels = connected_labels(10_000, order[:-1], order[1:])
    assert (labels == 0).all()
