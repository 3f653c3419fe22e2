"""Shared-content keys: templates, system prompts and tool schemas.

A template links two accounts in proportion to how much of *each* account's traffic it is (tf)
and how rare it is across accounts (idf): a public benchmark sent by hundreds of eval runners
weighs little, and one chat product's system prompt belongs to one account and links nobody.
Paraphrase bands (the signals' MinHash band keys) link reworded copies of one template directly,
account to account, so they never chain unrelated templates together.
"""

from __future__ import annotations

from distillguard.link.keys import EX, KeySpec


def key_specs() -> list[KeySpec]:
    """Content key specs over EX (template is the global template id, else the skeleton)."""
    specs = [
        KeySpec(kind, f"SELECT aid, {col} AS key, count(*) AS n FROM {EX} GROUP BY ALL")
        for kind, col in (
            ("template", "template"),
            ("system_prompt", "system_hash"),
            ("tool_schema", "tool_schema_fp"),
        )
    ]
    # Paraphrases of one template share MinHash band keys even when the template grouping keeps
    # them apart. Each exchange spreads a weight of 1 over its bands, so tf stays a traffic share.
    specs.append(
        KeySpec(
            "paraphrase",
            f"""
        SELECT aid, band AS key, sum(1.0 / nbands) AS n
        FROM (SELECT aid, unnest(lsh_keys) AS band, len(lsh_keys) AS nbands FROM {EX}
              WHERE lsh_keys IS NOT NULL AND len(lsh_keys) > 0)
        GROUP BY ALL""",
        )
    )
    return specs
