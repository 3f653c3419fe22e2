"""Behavioural fingerprints: how an account uses the API, for pools with no shared infrastructure.

When a pool sends each request from a fresh residential IP, what its accounts still share is the
harvesting script: the same hours of the day, capability mix, parameter choices (temperature,
max_tokens, thinking budget, effort, streaming, tools), token ratios and request cadence.

Each account gets a vector of those features, robustly standardized over all accounts and
weighted per feature group; SimHash (random hyperplanes, fixed seed) cuts it into `bands` keys of
`bits` bits. Two accounts share a band key with probability (1 - angle/π)^bits, so the share of
bands they have in common estimates their cosine similarity, and the keys enter the shared-key
machinery like any other: blocking proposes the pairs, idf discounts crowded regions of behaviour
space (every default-configured SDK client looks alike), and the similarity is that share × idf.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from distillguard.link.config import LinkConfig
from distillguard.link.keys import ACCT, KeySpec

FP_KEYS = "_dg_link_fp_keys"
CAPABILITIES = ("coding", "tool_use", "math_reasoning", "data_analysis", "vision", "chat", "roleplay")


def _feature_sql(ex_cols: set[str]) -> dict[str, list[str]]:
    """Feature group -> SQL aggregate expressions over `exchanges` (alias e), for present columns."""

    def has(*cols: str) -> bool:
        return all(c in ex_cols for c in cols)

    def mean_log(col: str) -> str:
        return f"avg(ln(1 + greatest(coalesce(e.{col}, 0), 0)))"

    groups: dict[str, list[str]] = {
        "hours": [f"avg(CASE WHEN hour(e.ts) = {h} THEN 1.0 ELSE 0.0 END)" for h in range(24)],
        "cadence": [
            "ln(1 + coalesce(median(e.gap), 0))",
            "coalesce(stddev_pop(e.gap) / (avg(e.gap) + 1e-3), 0)",
        ],
    }
    if has("capability"):
        groups["capability"] = [
            f"avg(CASE WHEN e.capability = '{c}' THEN 1.0 ELSE 0.0 END)" for c in CAPABILITIES
        ]
    params = []
    if has("temperature"):
        params += ["avg(coalesce(e.temperature, -1))", "coalesce(stddev_pop(e.temperature), 0)"]
    if has("top_p"):
        params.append("avg(coalesce(e.top_p, -1))")
    if has("max_tokens"):
        params += [mean_log("max_tokens"), "coalesce(stddev_pop(ln(1 + coalesce(e.max_tokens, 0))), 0)"]
    if has("thinking_requested"):
        params.append("avg(CASE WHEN e.thinking_requested THEN 1.0 ELSE 0.0 END)")
    if has("thinking_budget"):
        params.append(mean_log("thinking_budget"))
    if has("reasoning_effort"):
        params += [
            f"avg(CASE WHEN e.reasoning_effort = '{x}' THEN 1.0 ELSE 0.0 END)"
            for x in ("low", "medium", "high")
        ]
    if has("stream"):
        params.append("avg(CASE WHEN e.stream THEN 1.0 ELSE 0.0 END)")
    if has("flavor"):
        params += [
            f"avg(CASE WHEN e.flavor = '{x}' THEN 1.0 ELSE 0.0 END)"
            for x in ("anthropic_messages", "openai_chat", "openai_responses")
        ]
    if params:
        groups["parameters"] = params
    shape = [mean_log(c) for c in ("input_tokens", "output_tokens", "prompt_chars", "turns") if has(c)]
    shape += [f"avg(coalesce(e.{c}, 0))" for c in ("tool_count", "image_count") if has(c)]
    if shape:
        groups["shape"] = shape
    intent = [
        f"avg(coalesce(e.{c}, 0))"
        for c in ("cot_elicitation", "rubric_grading", "censorship_rewrite")
        if has(c)
    ]
    if intent:
        groups["intent"] = intent
    return groups


def account_vectors(con: Any, ex_cols: set[str], min_exchanges: int) -> tuple[np.ndarray, np.ndarray]:
    """(account numbers, feature matrix) for accounts with at least `min_exchanges` exchanges,
    standardized (median / IQR, clipped) and weighted so each feature group counts alike."""
    groups = _feature_sql(ex_cols)
    exprs = [f"{expr} AS f{i}" for i, expr in enumerate(x for g in groups.values() for x in g)]
    table = con.sql(
        f"""
        WITH e AS (
            SELECT x.*, a.aid,
                   epoch(x.ts) - epoch(lag(x.ts) OVER (PARTITION BY a.aid ORDER BY x.ts)) AS gap
            FROM exchanges x JOIN {ACCT} a ON a.account_id = CAST(x.account_id AS VARCHAR)
        )
        SELECT e.aid, {", ".join(exprs)} FROM e GROUP BY e.aid HAVING count(*) >= {int(min_exchanges)}
        ORDER BY e.aid
        """
    ).to_arrow_table()
    aids = table["aid"].to_numpy().astype(np.int64)
    if len(aids) == 0:
        return aids, np.empty((0, 0))
    x = np.column_stack(
        [
            np.nan_to_num(table[f"f{i}"].to_numpy(zero_copy_only=False).astype(float))
            for i in range(len(exprs))
        ]
    )
    med = np.median(x, axis=0)
    q75, q25 = np.percentile(x, [75, 25], axis=0)
    scale = np.maximum(q75 - q25, np.maximum(x.std(axis=0), 1e-6))
    z = np.clip((x - med) / scale, -4.0, 4.0)
    sizes = [len(g) for g in groups.values()]
    weights = np.concatenate([np.full(n, 1.0 / np.sqrt(n)) for n in sizes])
    return aids, z * weights


def simhash_keys(aids: np.ndarray, vectors: np.ndarray, bands: int, bits: int, seed: int) -> pa.Table:
    """Band keys (aid, key, n = 1/bands) of each account's SimHash signature."""
    if len(aids) == 0:
        return pa.table(
            {
                "aid": pa.array([], pa.int32()),
                "key": pa.array([], pa.string()),
                "n": pa.array([], pa.float64()),
            }
        )
    planes = np.random.default_rng(seed).standard_normal((vectors.shape[1], bands * bits))
    signs = (vectors @ planes > 0).reshape(len(aids), bands, bits)
    codes = (signs * (1 << np.arange(bits))).sum(axis=2)
    # An account at the median of every feature has no direction: it gets no keys.
    moving = np.linalg.norm(vectors, axis=1) > 1e-9
    aid_col = np.repeat(aids[moving], bands)
    keys = [f"b{b}:{c:x}" for row in codes[moving] for b, c in enumerate(row)]
    return pa.table(
        {
            "aid": pa.array(aid_col, pa.int32()),
            "key": pa.array(keys, pa.string()),
            "n": pa.array(np.full(len(keys), 1.0 / bands)),
        }
    )


def key_specs(con: Any, ex_cols: set[str], cfg: LinkConfig) -> list[KeySpec]:
    """Register the fingerprint band keys on `con` and return their spec."""
    aids, vectors = account_vectors(con, ex_cols, cfg.fingerprint_min_exchanges)
    table = simhash_keys(aids, vectors, cfg.fingerprint_bands, cfg.fingerprint_bits, cfg.seed)
    con.register("_dg_link_fp_arrow", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {FP_KEYS} AS SELECT * FROM _dg_link_fp_arrow")
    con.unregister("_dg_link_fp_arrow")
    # Proposing pairs from behaviour alone only pays when content and timing alone may link.
    return [
        KeySpec(
            "fingerprint",
            f"SELECT aid, key, n FROM {FP_KEYS}",
            per_exchange=False,
            block=not cfg.require_identity,
        )
    ]
