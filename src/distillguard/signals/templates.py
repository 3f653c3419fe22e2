"""The global template step: group exchanges whose skeletons are paraphrases of one template.

The map step gives every exchange an exact ``skeleton_hash`` and MinHash band keys
(``lsh_keys``). Here the distinct skeletons (a driver-sized aggregate: one row per distinct
skeleton, whatever the engine that holds the exchanges) are linked whenever they share a band
key, and each connected group becomes one template whose ``template_id`` is the smallest
skeleton hash in it (stable across runs and engines). Skeletons too short to carry band keys
stay templates of their own, so short generic prompts never merge everything.

A band key shared by more than ``max_bucket`` distinct skeletons is ignored as a hub: such
keys come from boilerplate that many unrelated skeletons contain, and linking through them
would chain unrelated templates together. ``max_bucket`` defaults to no limit.

Skeletons are also linked through their *frames* (``frames.frame_links``): a fixed instruction
around varying content, found as sentences and leading / trailing words that recur across many
distinct skeletons. The frame keys travel in the same aggregate (one list per distinct skeleton).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.signals.frames import MIN_FRAME_DF, MIN_FRAME_WORDS, frame_links

TEMPLATES_SCHEMA = pa.schema([pa.field("exchange_id", pa.string()), pa.field("template_id", pa.string())])

DISTINCT_SKELETONS_SQL = """
SELECT skeleton_hash, min(lsh_keys) AS lsh_keys, min(frame_keys) AS frame_keys
FROM exchanges
WHERE skeleton_hash IS NOT NULL
GROUP BY skeleton_hash
"""
# For stores written before frame keys existed: grouping by band keys only.
_DISTINCT_SKELETONS_NO_FRAMES_SQL = DISTINCT_SKELETONS_SQL.replace(", min(frame_keys) AS frame_keys", "")


def _star_edges(codes: np.ndarray, rows: np.ndarray, max_bucket: int | None) -> tuple[np.ndarray, ...]:
    """Edges linking every row to the first row with the same code (a star per bucket)."""
    order = np.argsort(codes, kind="stable")
    c, r = codes[order], rows[order]
    head = np.concatenate(([True], c[1:] != c[:-1]))
    start = np.maximum.accumulate(np.where(head, np.arange(len(c)), 0))
    use = ~head
    if max_bucket is not None:
        ends = np.append(np.nonzero(head)[0][1:], len(c))
        size = (ends - np.nonzero(head)[0])[np.cumsum(head) - 1]
        use &= size <= max_bucket
    return r[start[use]], r[use]


def connected_labels(nodes: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """A component label per node of the undirected graph (src[i], dst[i]): the smallest node of
    its component.

    Numpy rather than scipy.sparse.csgraph: scipy's import alone (~0.35 s; its array-API layer
    loads numpy.f2py and numpy.testing) cost a scan more than the grouping it served. Parent
    pointers only ever point to a smaller node, so they form a forest: each round hooks the
    root of every edge's larger end under the smaller root, then shortens every path to its
    root; a component with an edge to another merges in every round, so the rounds are few
    (logarithmic in the number of components)."""
    parent = np.arange(nodes)
    src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
    while True:
        a, b = parent[src], parent[dst]
        differ = a != b
        if not differ.any():
            return parent
        a, b = a[differ], b[differ]
        np.minimum.at(parent, np.maximum(a, b), np.minimum(a, b))
        while True:  # pointer jumping: every node straight to its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand


def group_skeletons(
    skeletons: pa.Table,
    min_shared_bands: int = 2,
    max_bucket: int | None = None,
    *,
    frames: bool = True,
    frame_min_df: int = MIN_FRAME_DF,
    frame_min_words: int = MIN_FRAME_WORDS,
) -> pa.Table:
    """(skeleton_hash, lsh_keys[, frame_keys]), one row per distinct skeleton ->
    (skeleton_hash, template_id).

    Two skeletons are linked when they share at least ``min_shared_bands`` band keys (1 or 2).
    Requiring two bands is the default: it keeps paraphrases (Jaccard ~0.8 link with
    probability > 0.99) while making chance links between loosely similar prompts (Jaccard ~0.2)
    about a hundred times rarer than with one band, so generic prompts do not chain together.
    With ``frames`` (and a ``frame_keys`` column), skeletons sharing a frame of at least
    ``frame_min_words`` fixed words, each part held by ``frame_min_df`` distinct skeletons or
    more, are linked too (``frames.frame_links``).
    """
    if min_shared_bands not in (1, 2):
        raise ValueError(f"min_shared_bands must be 1 or 2, not {min_shared_bands!r}")
    hashes = skeletons.column("skeleton_hash").combine_chunks()
    n = len(hashes)
    if n == 0:
        return pa.table({"skeleton_hash": hashes, "template_id": pa.array([], pa.string())})
    keys = skeletons.column("lsh_keys").combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(keys), 0).to_numpy(zero_copy_only=False)
    bands = int(lengths.max())
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    if bands:
        rows = np.nonzero(lengths == bands)[0]  # keys of another geometry cannot be compared
        flat = pc.list_flatten(pc.take(keys, pa.array(rows)))
        enc = pc.dictionary_encode(flat)
        kid = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64).reshape(len(rows), bands)
        n_keys = len(enc.dictionary)
        if min_shared_bands == 1:
            columns = (kid[:, j] for j in range(bands))
        else:  # a shared (band i, band j) pair of keys <=> at least two shared bands
            columns = (kid[:, i] * n_keys + kid[:, j] for i in range(bands) for j in range(i + 1, bands))
        for codes in columns:
            a, b = _star_edges(codes, rows, max_bucket)
            src.append(a)
            dst.append(b)
    s_all = np.concatenate(src) if src else np.zeros(0, np.int64)
    d_all = np.concatenate(dst) if dst else np.zeros(0, np.int64)
    nodes = n
    if frames and "frame_keys" in skeletons.column_names:
        fs, fd, extra = frame_links(
            skeletons.column("frame_keys").combine_chunks(), min_df=frame_min_df, min_words=frame_min_words
        )
        s_all, d_all, nodes = np.concatenate((s_all, fs)), np.concatenate((d_all, fd)), n + extra
    label = connected_labels(nodes, s_all, d_all)[:n]
    # template_id = smallest skeleton hash of the component: stable whatever the row order
    hash_list = np.array(hashes.to_pylist(), dtype=object)
    order = np.lexsort((hash_list.astype(str), label))
    first = np.concatenate(([True], label[order][1:] != label[order][:-1]))
    smallest = {int(label[i]): hash_list[i] for i in order[first]}
    template = [smallest[int(c)] for c in label]
    return pa.table({"skeleton_hash": hashes, "template_id": pa.array(template, pa.string())})


def template_mapping(
    con: Any, min_shared_bands: int = 2, max_bucket: int | None = None, *, frames: bool = True
) -> pa.Table:
    """(skeleton_hash, template_id), one row per distinct skeleton of the ``exchanges`` view of
    ``con``: the grouping itself, a driver-sized table (``DISTINCT_SKELETONS_SQL``)."""
    columns = {d[0] for d in con.sql("SELECT * FROM exchanges LIMIT 0").description}
    sql = DISTINCT_SKELETONS_SQL if "frame_keys" in columns else _DISTINCT_SKELETONS_NO_FRAMES_SQL
    distinct = con.sql(sql).to_arrow_table()
    return group_skeletons(distinct, min_shared_bands=min_shared_bands, max_bucket=max_bucket, frames=frames)


def exchange_templates(con: Any, mapping: pa.Table) -> pa.Table:
    """(exchange_id, template_id) for every exchange of the ``exchanges`` view, from a
    ``template_mapping``; joined in SQL."""
    con.register("_distillguard_template_map", mapping)
    try:
        result = con.sql(
            """
            SELECT e.exchange_id, m.template_id
            FROM exchanges e LEFT JOIN _distillguard_template_map m ON e.skeleton_hash = m.skeleton_hash
            """
        ).to_arrow_table()
    finally:
        con.unregister("_distillguard_template_map")
    return result.cast(TEMPLATES_SCHEMA)


def assign_templates(
    con: Any, min_shared_bands: int = 2, max_bucket: int | None = None, *, frames: bool = True
) -> pa.Table:
    """(exchange_id, template_id) for every exchange in the ``exchanges`` view of ``con``.

    Promises: one row per exchange; ``template_id`` is null exactly when ``skeleton_hash`` is;
    exchanges with equal skeleton hashes get equal template ids; the result does not depend on
    row order. The grouping runs over the distinct skeletons (``template_mapping``) and the
    mapping is joined back in SQL (``exchange_templates``).
    """
    mapping = template_mapping(con, min_shared_bands, max_bucket, frames=frames)
    return exchange_templates(con, mapping)
