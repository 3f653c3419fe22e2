"""Shared machinery of the account-level detectors.

An account detector is a rule over the `account_features` view: a score in [0, 1] built from
smooth ramps between documented thresholds, a gate below which it stays silent, and evidence
drawn from the features plus the account's top templates and example exchange ids. The options
of every detector can be overridden per scan (`detect: {<id>: {...}}` in the scan config).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from distillguard.detect.base import DetectionContext
from distillguard.findings import Finding


def ramp(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """0 at or below `lo`, 1 at or above `hi`, linear between; NaN counts as 0."""
    x = np.nan_to_num(np.asarray(x, dtype="float64"), nan=lo)
    if hi == lo:
        return (x >= hi).astype("float64")
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def severity(score: float) -> str:
    """An account finding's severity from its score: high from 0.8, medium from 0.5."""
    return "high" if score >= 0.8 else "medium" if score >= 0.5 else "low"


def template_examples(top: list[dict[str, Any]], k: int = 3) -> list[str]:
    """The first `k` example exchange ids of an account's top templates (`top_templates`)."""
    return [e for t in top for e in t["example_exchange_ids"]][:k]


def column(table: pa.Table, name: str, fill: float = np.nan) -> np.ndarray:
    """A numeric feature column as float64 (nulls become `fill`)."""
    if name not in table.column_names:
        return np.full(table.num_rows, fill)
    arr = table.column(name).to_numpy(zero_copy_only=False)
    out = np.asarray(arr, dtype="float64")
    return np.where(np.isnan(out), fill, out)


def text_column(table: pa.Table, name: str) -> list[str | None]:
    return table.column(name).to_pylist() if name in table.column_names else [None] * table.num_rows


def _round(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        f = float(v)
        return None if np.isnan(f) else round(f, 4)
    if isinstance(v, np.integer):
        return int(v)
    return v


def account_volumes(con) -> dict[str, int]:
    """account id -> exchanges, from `account_features` (else counted over `exchanges`; else empty)."""
    import duckdb

    for sql in (
        "SELECT account_id, exchanges FROM account_features",
        "SELECT account_id, COUNT(*) FROM exchanges GROUP BY account_id",
    ):
        try:
            return {a: int(n or 0) for a, n in con.execute(sql).fetchall()}
        except duckdb.Error:
            continue
    return {}


def _template_expr(con) -> str:
    cols = {row[0] for row in con.execute("DESCRIBE exchanges").fetchall()}
    parts = [f"e.{c}" for c in ("template_id", "skeleton_hash") if c in cols]
    return f"COALESCE({', '.join([*parts, 'e.exchange_id'])})"


def top_templates(
    con, account_ids: list[str], k: int = 3, cache: dict[Any, Any] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Per account: its `k` most used templates with counts and two example exchange ids (accounts
    without exchanges are left out). With `cache` (a DetectionContext's), accounts looked up by an
    earlier detector are not looked up again."""
    if cache is None:
        return _top_templates(con, account_ids, k)
    known = cache.setdefault(("top_templates", k), {})
    if missing := [a for a in dict.fromkeys(account_ids) if a not in known]:
        found = _top_templates(con, missing, k)
        known.update((a, found.get(a, [])) for a in missing)
    return {a: known[a] for a in account_ids if known[a]}


def _top_templates(con, account_ids: list[str], k: int) -> dict[str, list[dict[str, Any]]]:
    if not account_ids:
        return {}
    tid = _template_expr(con)
    con.register("_dg_ids", pa.table({"account_id": pa.array(account_ids, pa.string())}))
    rows = con.execute(
        f"""
        WITH t AS (
          SELECT e.account_id, {tid} AS template_id,
                 COUNT(*) AS c, MIN(e.exchange_id) AS ex1, MAX(e.exchange_id) AS ex2
          FROM exchanges e JOIN _dg_ids i ON e.account_id = i.account_id
          GROUP BY 1, 2),
        r AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY c DESC, template_id) AS rn FROM t)
        SELECT account_id, template_id, c, ex1, ex2 FROM r WHERE rn <= {int(k)} ORDER BY account_id, rn
        """
    ).fetchall()
    con.unregister("_dg_ids")
    out: dict[str, list[dict[str, Any]]] = {}
    for acc, template, c, ex1, ex2 in rows:
        out.setdefault(acc, []).append(
            {"template_id": template, "count": int(c), "example_exchange_ids": sorted({ex1, ex2})}
        )
    return out


def example_exchanges(con, account_ids: list[str], where: str, k: int = 3) -> dict[str, list[str]]:
    """Per account: up to `k` exchange ids matching the SQL predicate `where` over `exchanges`."""
    if not account_ids:
        return {}
    con.register("_dg_ids", pa.table({"account_id": pa.array(account_ids, pa.string())}))
    rows = con.execute(
        f"""
        WITH m AS (
          SELECT e.account_id, e.exchange_id,
                 ROW_NUMBER() OVER (PARTITION BY e.account_id ORDER BY e.ts, e.exchange_id) AS rn
          FROM exchanges e JOIN _dg_ids i ON e.account_id = i.account_id
          WHERE {where})
        SELECT account_id, exchange_id FROM m WHERE rn <= {int(k)} ORDER BY account_id, rn
        """
    ).fetchall()
    con.unregister("_dg_ids")
    out: dict[str, list[str]] = {}
    for acc, ex in rows:
        out.setdefault(acc, []).append(ex)
    return out


class AccountRule:
    """Base of the account detectors: subclasses define `defaults` and `score(features, opts)`.

    `score` returns (scores, thresholds_crossed) where thresholds_crossed maps a feature name to
    the threshold it was compared with; `evidence_fields` are copied from the feature row.
    """

    id: ClassVar[str]
    subject_kind: ClassVar[str] = "account"
    description: ClassVar[str]
    false_positives: ClassVar[str] = ""
    evidence_fields: ClassVar[tuple[str, ...]] = ()
    defaults: ClassVar[dict[str, float]] = {}
    emit_min: ClassVar[float] = 0.2  # findings below this score are not worth a reviewer's time
    examples_where: ClassVar[str | None] = None  # predicate for example exchanges, else top templates
    needs_linkage: ClassVar[bool] = False  # account rules read features only: they may run beside link

    def options(self, ctx: DetectionContext) -> dict[str, float]:
        over = ctx.config.get(self.id, {}) if isinstance(ctx.config, dict) else {}
        if not isinstance(over, dict):
            over = {}
        unknown = set(over) - set(self.defaults) - {"enabled"}
        if unknown:
            raise ValueError(f"detector {self.id}: unknown option(s) {sorted(unknown)}")
        return {**self.defaults, **{k: v for k, v in over.items() if k != "enabled"}}

    def score(self, f: pa.Table, o: dict[str, float]) -> np.ndarray:
        raise NotImplementedError

    def explain(self, row: dict[str, Any], o: dict[str, float]) -> str:
        raise NotImplementedError

    def detect(self, ctx: DetectionContext) -> list[Finding]:
        over = ctx.config.get(self.id, {}) if isinstance(ctx.config, dict) else {}
        if isinstance(over, dict) and over.get("enabled") is False:
            return []
        o = self.options(ctx)
        f = ctx.con.sql("SELECT * FROM account_features").to_arrow_table()
        if f.num_rows == 0:
            return []
        s = np.clip(np.nan_to_num(self.score(f, o), nan=0.0), 0.0, 1.0)
        idx = np.flatnonzero(s >= self.emit_min)
        if idx.size == 0:
            return []
        hit = f.take(pa.array(idx))
        rows = hit.select([c for c in ("account_id", *self.evidence_fields) if c in hit.column_names])
        rows = rows.to_pylist()
        ids = [r["account_id"] for r in rows]
        templates = top_templates(ctx.con, ids, cache=ctx.cache)
        examples = example_exchanges(ctx.con, ids, self.examples_where) if self.examples_where else {}
        thresholds = {k: _round(v) for k, v in o.items()}
        out = []
        for r, sc in zip(rows, s[idx], strict=True):
            acc = r["account_id"]
            ev = {k: _round(v) for k, v in r.items() if k != "account_id"}
            ev["thresholds"] = dict(thresholds)
            ev["top_templates"] = templates.get(acc, [])
            ex = examples.get(acc) or template_examples(ev["top_templates"])
            ev["example_exchange_ids"] = ex
            out.append(
                Finding(
                    detector=self.id,
                    subject_kind="account",
                    subject_id=acc,
                    score=round(float(sc), 4),
                    explanation=self.explain(r, o),
                    evidence=ev,
                    severity=severity(sc),
                )
            )
        return out
