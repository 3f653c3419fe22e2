import pyarrow as pa

from distillguard.signals import compute_signals, score_prompt


def _caps(rows: list[dict]) -> list[dict]:
    cols = {
        k: [r.get(k) for r in rows] for k in ("user_text", "tool_count", "tool_result_count", "image_count")
    }
    types = {
        "user_text": pa.string(),
        "tool_count": pa.int32(),
        "tool_result_count": pa.int32(),
        "image_count": pa.int32(),
    }
    return compute_signals(pa.table({k: pa.array(v, types[k]) for k, v in cols.items()})).to_pylist()


def test_keyword_capabilities():
    cases = {
        "Write a Python function that merges two sorted lists.": "coding",
        "Solve the equation 3x + 4 = 19 and prove your result.": "math_reasoning",
        "Here is a CSV of sales; compute the median and plot a histogram.": "data_analysis",
        "Describe what you see in the attached image.": "vision",
        "Pretend you are a pirate captain and stay in character.": "roleplay",
        "What's a good name for a cat?": "chat",
    }
    out = _caps([{"user_text": t} for t in cases])
    assert [o["capability"] for o in out] == list(cases.values())


def test_structural_hints_win():
    out = _caps(
        [
            {"user_text": "What's the weather?", "tool_count": 2},
            {"user_text": "ok", "tool_result_count": 1},
            {"user_text": "What is this?", "image_count": 1},
            {"user_text": "What's the weather?"},
        ]
    )
    assert [o["capability"] for o in out] == ["tool_use", "tool_use", "vision", "chat"]
    assert out[0]["cap_tool_use"] and not out[0]["cap_chat"]
    assert out[3]["cap_chat"] and not out[3]["cap_tool_use"]


def test_code_fence_means_coding():
    out = _caps([{"user_text": "Why does this fail?\n```\nx = [1, 2\n```"}])
    assert out[0]["cap_coding"]


def test_several_tags_one_primary():
    out = _caps([{"user_text": "Write Python code to compute the median of a CSV column.", "tool_count": 1}])
    row = out[0]
    assert row["cap_coding"] and row["cap_data_analysis"] and row["cap_tool_use"]
    assert row["capability"] == "tool_use"


def test_fast_path_structural_hints():
    assert score_prompt("What's the weather?", None, tool_count=1)["capability"] == "tool_use"
    assert score_prompt("What is this?", None, image_count=1)["capability"] == "vision"


def test_assistant_personas_are_not_roleplay():
    out = compute_signals(
        pa.table(
            {
                "user_text": [
                    "hello there",
                    "You are a pirate captain. Describe your ship.",
                    "Tell me a joke",
                ],
                "system_text": [
                    "You are a helpful, knowledgeable assistant.",
                    None,
                    "You are a friendly AI assistant.",
                ],
            }
        )
    ).to_pylist()
    assert [o["cap_roleplay"] for o in out] == [False, True, False]
