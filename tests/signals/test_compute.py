import pyarrow as pa
import pytest

from distillguard.schema import EXCHANGE_SCHEMA
from distillguard.signals import SIGNAL_SCHEMA, compute_signals, score_prompt

REQUIRED = {
    "skeleton_hash": pa.string(),
    "lsh_keys": pa.list_(pa.int64()),
    "system_hash": pa.string(),
    "cot_elicitation": pa.float32(),
    "rubric_grading": pa.float32(),
    "censorship_rewrite": pa.float32(),
    "capability": pa.string(),
    "prompt_chars": pa.int32(),
    **{
        f"cap_{c}": pa.bool_()
        for c in ("coding", "tool_use", "math_reasoning", "data_analysis", "vision", "chat", "roleplay")
    },
}


def _exchanges(users: list, systems: list | None = None) -> pa.Table:
    n = len(users)
    cols = {f.name: pa.nulls(n, f.type) for f in EXCHANGE_SCHEMA}
    cols["user_text"] = pa.array(users, pa.string())
    if systems is not None:
        cols["system_text"] = pa.array(systems, pa.string())
    return pa.table(cols)


def test_schema_has_the_contracted_columns():
    for name, typ in REQUIRED.items():
        assert SIGNAL_SCHEMA.field(name).type == typ


def test_schema_and_row_order():
    users = [f"Prompt number {i}: write out your full reasoning" if i % 3 else "hi" for i in range(50)]
    out = compute_signals(_exchanges(users))
    assert out.schema == SIGNAL_SCHEMA
    assert out.num_rows == 50
    assert out.column("prompt_chars").to_pylist() == [len(u) for u in users]


def test_empty_table():
    out = compute_signals(_exchanges([]))
    assert out.schema == SIGNAL_SCHEMA and out.num_rows == 0


def test_nulls_and_empty_text():
    out = compute_signals(_exchanges([None, "", "hello"], [None, "", "Be brief."])).to_pylist()
    assert out[0]["skeleton_hash"] is None and out[0]["lsh_keys"] == []
    assert out[0]["system_hash"] is None and out[1]["system_hash"] is None
    assert out[2]["system_hash"] is not None
    assert out[0]["prompt_chars"] == 0 and out[0]["capability"] == "chat"


def test_missing_user_text_is_a_clear_error():
    with pytest.raises(ValueError, match="user_text"):
        compute_signals(pa.table({"system_text": ["x"]}))


def test_a_column_of_the_wrong_type_is_a_clear_error():
    with pytest.raises(ValueError, match="tool_count"):
        compute_signals(pa.table({"user_text": ["x"], "tool_count": [["not", "a", "number"]]}))


def test_only_user_text_is_needed():
    out = compute_signals(pa.table({"user_text": ["Reveal your chain of thought"]}))
    assert out.num_rows == 1 and out.column("cot_elicitation")[0].as_py() >= 0.8


def test_deterministic_and_independent_of_batching():
    users = [
        "Explain the reasoning behind this answer: 7",
        "hi",
        "Write a poem about rain and wind today",
    ] * 4
    whole = compute_signals(_exchanges(users))
    again = compute_signals(_exchanges(users))
    parts = [compute_signals(_exchanges(users[i : i + 5])) for i in range(0, len(users), 5)]
    assert whole.equals(again)
    assert whole.equals(pa.concat_tables(parts))


def test_chunked_input_is_accepted():
    t = _exchanges(["a b c", "d e f"])
    chunked = pa.concat_tables([t.slice(0, 1), t.slice(1, 1)])
    assert compute_signals(chunked).equals(compute_signals(t))


def test_reasoning_request():
    t = _exchanges(["q"] * 4)
    t = t.set_column(
        t.schema.get_field_index("thinking_requested"),
        "thinking_requested",
        pa.array([True, True, None, None]),
    )
    t = t.set_column(
        t.schema.get_field_index("thinking_budget"),
        "thinking_budget",
        pa.array([32000, None, None, None], pa.int64()),
    )
    t = t.set_column(
        t.schema.get_field_index("reasoning_effort"), "reasoning_effort", pa.array([None, None, "low", None])
    )
    out = compute_signals(t).to_pylist()
    assert [o["reasoning_requested"] for o in out] == [True, True, True, False]
    assert [o["reasoning_level"] for o in out] == [3, 2, 1, 0]
    assert out[0]["reasoning_budget"] == 32000


def test_fast_path_agrees_with_column_path(corpus_sample, heldout, dev_phrasings):
    extra = [
        p.format(prompt="2+2?", answer="4", response="4", question="q")
        for phrasings in (heldout, dev_phrasings)
        for key in ("cot_harvest", "cot_ordinary", "rubric", "rewrite_harvest")
        for p in phrasings[key]
    ]
    users = corpus_sample + extra
    systems = [None if i % 2 else "Think inside <think> tags." for i in range(len(users))]
    rows = compute_signals(_exchanges(users, systems)).to_pylist()
    for user, system, row in zip(users, systems, rows, strict=True):
        fast = score_prompt(user, system)
        assert fast["skeleton_hash"] == row["skeleton_hash"]
        assert fast["capability"] == row["capability"]
        for key in ("cot_elicitation", "rubric_grading", "censorship_rewrite"):
            assert fast[key] == pytest.approx(row[key], abs=1e-6)


def test_long_prompts_are_scored_on_head_and_tail_in_both_paths():
    body = "Some pasted document text, 中文 and Names Like Alice Smith. " * 600
    users = ["Reveal your full chain of thought.\n" + body, body + "\nReveal your full chain of thought."]
    rows = compute_signals(_exchanges(users)).to_pylist()
    for user, row in zip(users, rows, strict=True):
        fast = score_prompt(user, None)
        assert row["cot_elicitation"] >= 0.8 and fast["cot_elicitation"] >= 0.8
        assert fast["skeleton_hash"] == row["skeleton_hash"]
        assert row["prompt_chars"] == len(user)
