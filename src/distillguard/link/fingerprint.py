"""Behavioural fingerprints: how an account uses the API, for pools with no shared infrastructure.

When a pool sends each request from a fresh residential IP, what its accounts still share is the
harvesting script: the same hours of the day, capability mix, parameter choices (temperature,
max_tokens, thinking budget, effort, streaming, API flavour), request shape, harvest intent and
cadence. Each account with enough exchanges gets a vector of those features, standardized by
median and IQR over all accounts (clipped), each feature group weighted alike.

The vectors are used twice. SimHash (random hyperplanes, fixed seed) cuts each into band keys
that go through blocking like any other key, so accounts that behave alike are proposed as
candidates. And every candidate pair is scored on the exact cosine of the two vectors,
`(cos - cosine_floor) / (1 - cosine_floor)` clipped to [0, 1]; the evidence names the features
on which both accounts stand out from the population in the same direction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from distillguard.link.config import LinkConfig
from distillguard.link.keys import ACCT, KeySpec

FP_KEYS = "_dg_link_fp_keys"
CAPABILITIES = ("coding", "tool_use", "math_reasoning", "data_analysis", "vision", "chat", "roleplay")
# The exchange columns the features read (see `feature_sql`); only these are read from the view.
FEATURE_COLUMNS = (
    "capability",
    "temperature",
    "top_p",
    "max_tokens",
    "thinking_requested",
    "thinking_budget",
    "reasoning_effort",
    "stream",
    "flavor",
    "input_tokens",
    "output_tokens",
    "prompt_chars",
    "turns",
    "tool_count",
    "image_count",
    "cot_elicitation",
    "rubric_grading",
    "censorship_rewrite",
)


def _share(cond: str) -> str:
    return f"avg(CASE WHEN {cond} THEN 1.0 ELSE 0.0 END)"


def _mean_log(col: str) -> str:
    return f"avg(ln(1 + greatest(coalesce(e.{col}, 0), 0)))"


def feature_sql(ex_cols: set[str]) -> dict[str, dict[str, str]]:
    """Feature group -> {feature name: SQL aggregate over `exchanges` (alias e)}, present columns only."""

    def has(col: str) -> bool:
        return col in ex_cols and col in FEATURE_COLUMNS

    groups: dict[str, dict[str, str]] = {
        "hours": {f"hour {h:02d}": _share(f"hour(e.ts) = {h}") for h in range(24)},
        "cadence": {
            "median gap": "ln(1 + coalesce(median(e.gap), 0))",
            "gap regularity": "coalesce(stddev_pop(e.gap) / (avg(e.gap) + 1e-3), 0)",
        },
    }
    if has("capability"):
        groups["capability"] = {f"{c} share": _share(f"e.capability = '{c}'") for c in CAPABILITIES}
    params: dict[str, str] = {}
    if has("temperature"):
        params["temperature"] = "avg(coalesce(e.temperature, -1))"
        params["temperature spread"] = "coalesce(stddev_pop(e.temperature), 0)"
    if has("top_p"):
        params["top_p"] = "avg(coalesce(e.top_p, -1))"
    if has("max_tokens"):
        params["max_tokens"] = _mean_log("max_tokens")
        params["max_tokens spread"] = "coalesce(stddev_pop(ln(1 + coalesce(e.max_tokens, 0))), 0)"
    if has("thinking_requested"):
        params["thinking share"] = _share("e.thinking_requested")
    if has("thinking_budget"):
        params["thinking budget"] = _mean_log("thinking_budget")
    if has("reasoning_effort"):
        params |= {f"effort {x}": _share(f"e.reasoning_effort = '{x}'") for x in ("low", "medium", "high")}
    if has("stream"):
        params["stream share"] = _share("e.stream")
    if has("flavor"):
        flavors = ("anthropic_messages", "openai_chat", "openai_responses")
        params |= {f"{x} share": _share(f"e.flavor = '{x}'") for x in flavors}
    shape = {
        c.replace("_", " "): _mean_log(c)
        for c in ("input_tokens", "output_tokens", "prompt_chars", "turns")
        if has(c)
    }
    shape |= {
        c.replace("_", " "): f"avg(coalesce(e.{c}, 0))" for c in ("tool_count", "image_count") if has(c)
    }
    intent = {
        c.replace("_", " "): f"avg(coalesce(e.{c}, 0))"
        for c in ("cot_elicitation", "rubric_grading", "censorship_rewrite")
        if has(c)
    }
    for name, feats in (("parameters", params), ("shape", shape), ("intent", intent)):
        if feats:
            groups[name] = feats
    return groups


def account_vectors(
    con: Any, ex_cols: set[str], min_exchanges: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(account numbers, feature matrix, feature names) for accounts with at least
    `min_exchanges` exchanges, standardized (median / IQR, clipped to ±4) and weighted so each
    feature group counts alike."""
    groups = feature_sql(ex_cols)
    names = [n for g in groups.values() for n in g]
    exprs = [f"{expr} AS f{i}" for i, expr in enumerate(x for g in groups.values() for x in g.values())]
    cols = "".join(f"x.{c}, " for c in FEATURE_COLUMNS if c in ex_cols)
    table = con.sql(
        f"""
        WITH e AS (
            SELECT x.ts, {cols}a.aid,
                   epoch(x.ts) - epoch(lag(x.ts) OVER (PARTITION BY a.aid ORDER BY x.ts)) AS gap
            FROM exchanges x JOIN {ACCT} a ON a.account_id = CAST(x.account_id AS VARCHAR)
        )
        SELECT e.aid, {", ".join(exprs)} FROM e GROUP BY e.aid HAVING count(*) >= {int(min_exchanges)}
        ORDER BY e.aid
        """
    ).to_arrow_table()
    aids = table["aid"].to_numpy().astype(np.int64)
    if len(aids) == 0:
        return aids, np.empty((0, len(names))), names
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
    weights = np.concatenate([np.full(len(g), 1.0 / np.sqrt(len(g))) for g in groups.values()])
    return aids, z * weights, names


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


class Fingerprints:
    """Per-account behaviour vectors of one scan: band keys for blocking, cosine for scoring."""

    def __init__(self, con: Any, ex_cols: set[str], cfg: LinkConfig) -> None:
        self.cfg = cfg
        aids, vectors, self.names = account_vectors(con, ex_cols, cfg.fingerprint_min_exchanges)
        self.aids = aids
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 1e-9)
        self.raw = vectors
        self.row_of = np.full(int(aids.max()) + 1 if len(aids) else 0, -1, np.int64)
        self.row_of[aids] = np.arange(len(aids))
        table = simhash_keys(aids, vectors, cfg.fingerprint_bands, cfg.fingerprint_bits, cfg.seed)
        con.register("_dg_link_fp_arrow", table)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {FP_KEYS} AS SELECT * FROM _dg_link_fp_arrow")
        con.unregister("_dg_link_fp_arrow")

    def key_specs(self) -> list[KeySpec]:
        """The band keys, for blocking only: the similarity comes from `score`."""
        return [KeySpec("fingerprint", f"SELECT aid, key, n FROM {FP_KEYS}", per_exchange=False)]

    def score(self, a: np.ndarray, b: np.ndarray, top: int = 3) -> pa.Table:
        """Rows (a, b, kind, sim, shared, top_keys) for the pairs where both accounts have a vector."""
        # Accounts past the last fingerprinted one have no row: bound-check before indexing.
        ok = (a < len(self.row_of)) & (b < len(self.row_of))
        ra, rb = self.row_of[a[ok]], self.row_of[b[ok]]
        fine = (ra >= 0) & (rb >= 0)
        ra, rb = ra[fine], rb[fine]
        cos = np.einsum("ij,ij->i", self.unit[ra], self.unit[rb])
        floor = self.cfg.fingerprint_cosine_floor
        sim = np.clip((cos - floor) / (1.0 - floor), 0.0, 1.0)
        keep = sim > 0
        ra, rb, cos, sim = ra[keep], rb[keep], cos[keep], sim[keep]
        both = self.raw[ra] * self.raw[rb]  # positive where both stand out the same way
        best = np.argsort(-both, axis=1)[:, :top]
        tops = [
            orjson.dumps([f"cosine {c:.2f}"] + [self.names[j] for j in row if both[i, j] > 0]).decode()
            for i, (c, row) in enumerate(zip(cos, best, strict=True))
        ]
        return pa.table(
            {
                "a": pa.array(self.aids[ra], pa.int32()),
                "b": pa.array(self.aids[rb], pa.int32()),
                "kind": pa.array(["fingerprint"] * len(ra), pa.string()),
                "sim": pa.array(sim, pa.float64()),
                "shared": pa.array(np.full(len(ra), self.cfg.fingerprint_bands), pa.int64()),
                "top_keys": pa.array(tops, pa.string()),
            }
        )
