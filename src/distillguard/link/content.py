"""Shared-content keys: templates, system prompts and tool schemas.

A template links two accounts in proportion to how much of *each* account's traffic it is (tf)
and how rare it is across accounts (idf): a public benchmark sent by hundreds of eval runners
weighs little, and one chat product's system prompt belongs to one account and links nobody.
Paraphrase bands (the signals' MinHash band keys) link reworded copies of one template directly,
account to account, so they never chain unrelated templates together.
"""

from __future__ import annotations

from distillguard.link.keys import ACCT, EX, KeySpec

# Exchange columns that mark harvest traffic; a missing one counts as no signal.
HARVEST_SIGNALS = ("cot_elicitation", "rubric_grading", "censorship_rewrite")


def harvest_condition(ex_cols: set[str], min_signal: float) -> str | None:
    """SQL condition on an exchange: one of its harvest signals is strong. Reasoning asked for
    and returned is left out: eval runners on release day do that on half their calls."""
    conds = [f"coalesce({c}, 0) >= {min_signal}" for c in HARVEST_SIGNALS if c in ex_cols]
    return " OR ".join(conds) or None


def key_specs(
    ex_cols: set[str], harvest_min_signal: float = 0.5, harvest_min_exchanges: int = 5
) -> list[KeySpec]:
    """Content key specs over EX (template is the global template id, else the skeleton)."""
    specs = [
        KeySpec(kind, f"SELECT aid, {col} AS key, 1 AS n FROM {EX}", reads_templates=col == "template")
        for kind, col in (
            ("template", "template"),
            ("system_prompt", "system_hash"),
            ("tool_schema", "tool_schema_fp"),
        )
    ]
    if "lsh_keys" not in ex_cols:
        return specs
    # Paraphrases of one template share MinHash band keys even when the template grouping keeps
    # them apart. The bands (16 strings per exchange) are read here, rather than copied into EX.
    specs.append(KeySpec("paraphrase", _bands_sql("TRUE")))
    # The same bands of harvest exchanges only: what a pool's accounts share when nothing else is.
    if harvest := harvest_condition(ex_cols, harvest_min_signal):
        specs.append(
            KeySpec("harvest_band", _harvest_bands_sql(harvest, harvest_min_exchanges), per_exchange=False)
        )
    return specs


def _harvest_bands_sql(condition: str, min_exchanges: int) -> str:
    """(aid, band key, n) of the harvest exchanges of accounts with at least `min_exchanges` of
    them, n a share of the account's *harvest* traffic: a pool that hides its harvest among
    ordinary requests shares it all the same, and a stray request that happens to score high is
    too few to count."""
    return f"""
        SELECT a.aid, unnest(e.lsh_keys) AS key, 1.0 / len(e.lsh_keys) / e.n_harvest AS n
        FROM (SELECT account_id, lsh_keys,
                     count(*) OVER (PARTITION BY account_id) AS n_harvest FROM exchanges
              WHERE ts IS NOT NULL AND lsh_keys IS NOT NULL AND len(lsh_keys) > 0 AND ({condition})) e
        JOIN {ACCT} a ON a.account_id = CAST(e.account_id AS VARCHAR)
        WHERE e.n_harvest >= {int(min_exchanges)}"""


def _bands_sql(condition: str) -> str:
    """(aid, band key, n) of the exchanges meeting `condition`, each spreading a weight of 1 over
    its bands, so that tf stays a traffic share."""
    return f"""
        SELECT a.aid, unnest(e.lsh_keys) AS key, 1.0 / len(e.lsh_keys) AS n
        FROM (SELECT account_id, lsh_keys FROM exchanges
              WHERE ts IS NOT NULL AND lsh_keys IS NOT NULL AND len(lsh_keys) > 0 AND ({condition})) e
        JOIN {ACCT} a ON a.account_id = CAST(e.account_id AS VARCHAR)"""
