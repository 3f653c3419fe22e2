"""Prompt corpora for simulated traffic, split into train and eval halves.

Records come from the JSON Lines files of the shared corpora folder (`{"id", "text", "tools"?,
"origin", "task", ...}`), located by `DISTILLGUARD_CORPORA`, else `../shared/corpora` next to the
working directory or the source checkout. When none is found a small built-in set ships with
the package, so the simulator and the demo work on a fresh machine.

The split rule keeps tuning and reporting apart: a record belongs to `train` when
`xxh64(record id, seed=0)` is even, to `eval` when it is odd. It depends only on the record's
id, so it is stable across runs, machines and corpus versions.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import xxhash

Split = Literal["train", "eval"]
SPLITS: tuple[Split, ...] = ("train", "eval")


@dataclass(frozen=True, slots=True)
class Prompt:
    """One corpus record: its text, where it comes from, and the tool schemas offered with it."""

    id: str
    text: str
    origin: str  # harvest | human
    task: str  # code | tool | general | roleplay | chat
    source: str
    tools: tuple[dict[str, Any], ...] = ()


def split_of(record_id: str) -> Split:
    """The split a record belongs to: `train` if xxh64 of its id is even, else `eval`."""
    return "train" if xxhash.xxh64_intdigest(record_id.encode("utf-8")) % 2 == 0 else "eval"


def corpora_dir() -> Path | None:
    """The corpora folder in use, or None when only the built-in fallback is available."""
    env = os.environ.get("DISTILLGUARD_CORPORA")
    if env:
        return Path(env) if Path(env).is_dir() else None
    repo = Path(__file__).resolve().parents[3]
    for base in (Path.cwd(), repo):
        candidate = (base / ".." / "shared" / "corpora").resolve()
        if candidate.is_dir() and any(candidate.glob("*.jsonl")):
            return candidate
    return None


@lru_cache(maxsize=4)
def _load_all(folder: str | None) -> tuple[Prompt, ...]:
    records: list[dict[str, Any]] = []
    if folder is not None:
        for path in sorted(Path(folder).glob("*.jsonl")):
            with path.open(encoding="utf-8") as fh:
                for line in fh:
                    line = line.strip()
                    if line:
                        try:
                            records.append(json.loads(line))
                        except json.JSONDecodeError:
                            continue  # a damaged line in a corpus is skipped, not fatal
    if not records:
        blob = (resources.files("distillguard.simulate") / "data" / "fallback_prompts.json").read_text(
            "utf-8"
        )
        records = json.loads(blob)
    out = []
    for r in records:
        if not isinstance(r, dict) or not r.get("text") or not r.get("id"):
            continue
        tools = tuple(_tool_def(t) for t in (r.get("tools") or ()) if isinstance(t, dict) and t.get("name"))
        out.append(
            Prompt(
                id=str(r["id"]),
                text=str(r["text"]),
                origin=str(r.get("origin", "human")),
                task=str(r.get("task", "chat")),
                source=str(r.get("source", "")),
                tools=tools,
            )
        )
    return tuple(out)


def _tool_def(tool: dict[str, Any]) -> dict[str, Any]:
    """A tool definition in JSON Schema terms (some public sets write `"type": "dict"`)."""
    params = tool.get("parameters") or {"type": "object", "properties": {}}
    return {
        "name": str(tool["name"]).replace(".", "_")[:64],
        "description": str(tool.get("description", ""))[:1024],
        "parameters": _fix_types(params),
    }


def _fix_types(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {k: _fix_types(v) for k, v in schema.items()}
        if out.get("type") == "dict":
            out["type"] = "object"
        elif out.get("type") in ("float", "double"):
            out["type"] = "number"
        elif out.get("type") == "tuple":
            out["type"] = "array"
        return out
    if isinstance(schema, list):
        return [_fix_types(v) for v in schema]
    return schema


@lru_cache(maxsize=64)
def load_prompts(origin: str, task: str, split: Split) -> tuple[Prompt, ...]:
    """Prompts of one origin (`harvest`|`human`) and task, from one split.

    Falls back to the whole origin's split when the task has no records, and to the built-in set
    when the corpora have none of that origin, so a generator always gets something to send.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'eval', got {split!r}")
    folder = corpora_dir()
    pool = _load_all(str(folder) if folder else None)
    picked = tuple(p for p in pool if p.origin == origin and p.task == task and split_of(p.id) == split)
    if not picked:
        picked = tuple(p for p in pool if p.origin == origin and split_of(p.id) == split)
    if not picked:
        picked = tuple(p for p in _load_all(None) if p.origin == origin and split_of(p.id) == split)
    if not picked:
        picked = tuple(p for p in _load_all(None) if p.origin == origin)
    return picked


def corpus_origin() -> str:
    """A short description of where prompts come from, for world manifests."""
    folder = corpora_dir()
    return str(folder) if folder else "built-in fallback"
