"""The corpus split keeps tuning and reporting apart; the built-in fallback works without corpora."""

from __future__ import annotations

import json

import xxhash

from distillguard.simulate import corpus
from distillguard.simulate.corpus import load_prompts, split_of


def _fresh(monkeypatch, folder):
    monkeypatch.setenv("DISTILLGUARD_CORPORA", str(folder))
    corpus.load_prompts.cache_clear()
    corpus._load_all.cache_clear()


def test_split_rule_is_the_documented_hash():
    for rid in ("97515c9f30769681", "a", "record-42", "ü-ñ"):
        expected = "train" if xxhash.xxh64_intdigest(rid.encode()) % 2 == 0 else "eval"
        assert split_of(rid) == expected


def test_train_and_eval_are_disjoint(monkeypatch, tmp_path):
    records = [{"id": f"r{i}", "text": f"prompt {i}", "origin": "human", "task": "chat"} for i in range(200)]
    (tmp_path / "human_chat.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n{broken\n")
    _fresh(monkeypatch, tmp_path)
    try:
        train = {p.id for p in load_prompts("human", "chat", "train")}
        evaluation = {p.id for p in load_prompts("human", "chat", "eval")}
        assert train and evaluation and not train & evaluation
        assert len(train | evaluation) == 200  # the damaged line is skipped, nothing else lost
        assert 60 < len(train) < 140
    finally:
        corpus.load_prompts.cache_clear()
        corpus._load_all.cache_clear()


def test_fallback_without_corpora(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path / "absent")
    try:
        assert corpus.corpora_dir() is None
        for origin, task in (
            ("human", "chat"),
            ("human", "tool"),
            ("harvest", "code"),
            ("harvest", "tool"),
            ("harvest", "general"),
            ("harvest", "roleplay"),
        ):
            for split in ("train", "eval"):
                prompts = load_prompts(origin, task, split)
                assert prompts and all(p.origin == origin for p in prompts)
        tools = [p for p in load_prompts("human", "tool", "eval") if p.tools]
        assert tools and all(t["parameters"]["type"] == "object" for p in tools for t in p.tools)
    finally:
        corpus.load_prompts.cache_clear()
        corpus._load_all.cache_clear()


def test_tool_schemas_are_json_schema():
    fixed = corpus._fix_types(
        {"type": "dict", "properties": {"x": {"type": "float"}, "y": {"type": "tuple"}}}
    )
    assert fixed == {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "array"}}}
