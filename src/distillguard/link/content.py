"""Shared-content keys: templates, system prompts and tool schemas.

A template links two accounts in proportion to how much of *each* account's traffic it is (tf)
and how rare it is across accounts (idf): a public benchmark sent by hundreds of eval runners
weighs little, and one chat product's system prompt belongs to one account and links nobody.
"""

from __future__ import annotations

from distillguard.link.keys import EX, KeySpec


def key_specs() -> list[KeySpec]:
    """Content key specs over EX (template is the global template id, else the skeleton)."""
    return [
        KeySpec(kind, f"SELECT aid, {col} AS key, count(*) AS n FROM {EX} GROUP BY ALL")
        for kind, col in (
            ("template", "template"),
            ("system_prompt", "system_hash"),
            ("tool_schema", "tool_schema_fp"),
        )
    ]
