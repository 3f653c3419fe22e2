"""The detectors as reviewable data: what each one looks for, its level, its known false positives."""

from __future__ import annotations

from typing import Any

from distillguard.detect.base import registry


def catalog() -> list[dict[str, Any]]:
    """One dict per registered detector: id, level, description, false_positives, evidence, options."""
    out = []
    for det_id, cls in registry().items():
        out.append(
            {
                "id": det_id,
                "level": cls.subject_kind,
                "description": " ".join(str(getattr(cls, "description", "")).split()),
                "false_positives": " ".join(str(getattr(cls, "false_positives", "")).split()),
                "evidence": list(getattr(cls, "evidence_fields", ())),
                "options": dict(getattr(cls, "defaults", {})),
            }
        )
    return out


def markdown_table() -> str:
    """The catalog as a Markdown table (used to keep docs/detection.md in step with the code)."""
    rows = ["| id | level | looks for | known false positives | evidence |", "| --- " * 5 + "|"]
    for d in catalog():
        evidence = ", ".join(f"`{e}`" for e in d["evidence"]) or "see finding"
        cells = [f"`{d['id']}`", d["level"], d["description"], d["false_positives"], evidence]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"
