"""Shared-content keys: templates, system prompts and tool schemas.

A template links two accounts in proportion to how much of *each* account's traffic it is (tf)
and how rare it is across accounts (idf): a public benchmark sent by hundreds of eval runners
weighs little, and one chat product's system prompt belongs to one account and links nobody.
Paraphrase bands (the signals' MinHash band keys) link reworded copies of one template directly,
account to account, so they never chain unrelated templates together.
"""

from __future__ import annotations

from distillguard.link.keys import ACCT, EX, KeySpec


def key_specs(ex_cols: set[str]) -> list[KeySpec]:
    """Content key specs over EX (template is the global template id, else the skeleton)."""
    specs = [
        KeySpec(kind, f"SELECT aid, {col} AS key, 1 AS n FROM {EX}")
        for kind, col in (
            ("template", "template"),
            ("system_prompt", "system_hash"),
            ("tool_schema", "tool_schema_fp"),
        )
    ]
    if "lsh_keys" not in ex_cols:
        return specs
    # Paraphrases of one template share MinHash band keys even when the template grouping keeps
    # them apart. Each exchange spreads a weight of 1 over its bands, so tf stays a traffic share.
    # The bands (16 strings per exchange) are read once, here, rather than copied into EX.
    specs.append(
        KeySpec(
            "paraphrase",
            f"""
        SELECT a.aid, unnest(e.lsh_keys) AS key, 1.0 / len(e.lsh_keys) AS n
        FROM (SELECT account_id, CAST(lsh_keys AS VARCHAR[]) AS lsh_keys FROM exchanges
              WHERE ts IS NOT NULL AND lsh_keys IS NOT NULL AND len(lsh_keys) > 0) e
        JOIN {ACCT} a ON a.account_id = CAST(e.account_id AS VARCHAR)""",
        )
    )
    return specs
