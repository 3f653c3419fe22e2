"""extract(): every flavour's bodies, read as they are sent and received."""

from __future__ import annotations

from ingest_builders import anthropic_request, anthropic_response, chat_request, chat_response

from distillguard.ingest import EXTRACT_COLUMNS, detect_flavor, extract
from distillguard.ingest.parse_body import as_int


def test_anthropic_multi_turn_tools_thinking_and_images() -> None:
    tools = [
        {"name": "search", "description": "web", "input_schema": {"type": "object"}},
        {"name": "calc", "description": "math", "input_schema": {"type": "object"}},
    ]
    request = anthropic_request(
        tools=tools,
        thinking={"type": "enabled", "budget_tokens": 4096},
        temperature=0.2,
        top_p=0.9,
        stream=True,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA"}},
                    {"type": "text", "text": "What is in the picture?"},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "s"},
                    {"type": "tool_use", "id": "t1", "name": "search", "input": {"q": "x"}},
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "found it"}],
            },
        ],
    )
    response = {
        "type": "message",
        "content": [
            {"type": "thinking", "thinking": "abcde", "signature": "s"},
            {"type": "text", "text": "A cat."},
            {"type": "tool_use", "id": "t2", "name": "calc", "input": {}},
        ],
        "usage": {"input_tokens": 10, "output_tokens": 5, "cache_creation_input_tokens": 3},
    }
    row = extract(request, response)
    assert set(row) == set(EXTRACT_COLUMNS)
    assert row["flavor"] == "anthropic_messages"
    assert row["system_text"] == "You are a careful tutor."
    # the last user turn carries only a tool result: the last user text is the question
    assert row["user_text"] == "What is in the picture?"
    assert row["turns"] == 3
    assert (row["tool_count"], row["tool_names"]) == (2, "calc,search")
    assert row["tool_result_count"] == 1 and row["image_count"] == 1
    assert row["thinking_requested"] is True and row["thinking_budget"] == 4096
    assert (row["temperature"], row["top_p"], row["stream"]) == (0.2, 0.9, True)
    assert row["max_tokens"] == 2048
    assert (row["response_chars"], row["reasoning_chars"], row["response_tool_calls"]) == (6, 5, 1)
    assert (row["input_tokens"], row["output_tokens"], row["reasoning_tokens"]) == (13, 5, None)


def test_tool_schema_fingerprint_ignores_key_order_but_not_content() -> None:
    a = [{"name": "f", "input_schema": {"type": "object", "properties": {"x": {"type": "string"}}}}]
    b = [{"input_schema": {"properties": {"x": {"type": "string"}}, "type": "object"}, "name": "f"}]
    c = [{"name": "f", "input_schema": {"type": "object", "properties": {"y": {"type": "string"}}}}]
    fp = [extract(anthropic_request(tools=t))["tool_schema_fp"] for t in (a, b, c)]
    assert fp[0] == fp[1] != fp[2]
    assert extract(anthropic_request())["tool_schema_fp"] is None


def test_openai_chat_tools_tool_results_images_and_reasoning() -> None:
    request = chat_request(
        tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
        reasoning_effort="high",
        max_completion_tokens=900,
        messages=[
            {"role": "developer", "content": "Be terse."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Weather here?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
                ],
            },
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function"}]},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        ],
    )
    response = chat_response("Sunny.")
    response["choices"][0]["message"]["tool_calls"] = [{"id": "c2"}, {"id": "c3"}]
    row = extract(request, response)
    assert row["flavor"] == "openai_chat"
    assert row["system_text"] == "Be terse." and row["user_text"] == "Weather here?"
    assert (row["turns"], row["tool_count"], row["tool_names"]) == (4, 1, "get_weather")
    assert (row["tool_result_count"], row["image_count"]) == (1, 1)
    assert row["thinking_requested"] is True and row["reasoning_effort"] == "high"
    assert row["max_tokens"] == 900
    assert (row["response_chars"], row["response_tool_calls"]) == (6, 2)
    assert (row["input_tokens"], row["output_tokens"], row["reasoning_tokens"]) == (20, 30, 7)


def test_openai_responses_reasoning_items_and_function_outputs() -> None:
    request = {
        "model": "o3",
        "instructions": "You grade answers.",
        "input": [
            {
                "role": "user",
                "content": [{"type": "input_text", "text": "Grade this."}, {"type": "input_image"}],
            },
            {"type": "function_call", "call_id": "f1", "name": "lookup", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "f1", "output": "42"},
        ],
        "tools": [{"type": "function", "name": "lookup", "parameters": {}}, {"type": "web_search"}],
        "reasoning": {"effort": "medium", "summary": "auto"},
        "max_output_tokens": 500,
    }
    response = {
        "object": "response",
        "output": [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "1234"}]},
            {"type": "function_call", "name": "lookup"},
            {"type": "message", "content": [{"type": "output_text", "text": "B+"}]},
        ],
        "usage": {"input_tokens": 9, "output_tokens": 8, "output_tokens_details": {"reasoning_tokens": 6}},
    }
    row = extract(request, response)
    assert row["flavor"] == "openai_responses"
    assert row["system_text"] == "You grade answers." and row["user_text"] == "Grade this."
    assert (row["turns"], row["tool_result_count"], row["image_count"]) == (3, 1, 1)
    assert (row["tool_count"], row["tool_names"]) == (2, "lookup,web_search")
    assert row["thinking_requested"] is True and row["reasoning_effort"] == "medium"
    assert row["max_tokens"] == 500
    assert (row["response_chars"], row["reasoning_chars"], row["response_tool_calls"]) == (2, 4, 1)
    assert (row["input_tokens"], row["output_tokens"], row["reasoning_tokens"]) == (9, 8, 6)


def test_responses_string_input() -> None:
    row = extract({"model": "gpt-5", "input": "hello"})
    assert (row["flavor"], row["user_text"], row["turns"]) == ("openai_responses", "hello", 1)


def test_request_only_leaves_response_columns_empty() -> None:
    row = extract(anthropic_request(), None)
    assert row["flavor"] == "anthropic_messages"
    assert row["response_chars"] is None and row["output_tokens"] is None


def test_flavor_from_response_shape_wins() -> None:
    bare = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 10}
    assert detect_flavor(bare, chat_response()) == "openai_chat"
    assert detect_flavor(bare, anthropic_response()) == "anthropic_messages"
    assert detect_flavor(bare) == "anthropic_messages"  # max_tokens is required by Anthropic only
    assert detect_flavor({"model": "m", "messages": []}) == "openai_chat"


def test_strange_shapes_never_raise() -> None:
    weird = {
        "model": 5,
        "system": {"not": "text"},
        "messages": ["x", None, {"role": "user", "content": [1, None, {"type": "text", "text": 3}]}],
        "tools": "all",
        "thinking": {"type": "enabled", "budget_tokens": "many"},
        "temperature": True,
    }
    row = extract(weird, {"type": "message", "content": "x", "usage": []})
    assert row["model"] is None and row["user_text"] is None and row["tool_count"] == 0
    assert row["thinking_budget"] is None and row["temperature"] is None
    assert extract("not a dict", None)["flavor"] is None  # type: ignore[arg-type]


def test_anthropic_images_sent_back_inside_tool_results_are_counted() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA"}}
    request = anthropic_request(
        messages=[
            {"role": "user", "content": [image, {"type": "text", "text": "Compare these."}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "shot", "input": {}}]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": [image, image]},
                    {"type": "tool_result", "tool_use_id": "t2", "content": "no picture"},
                ],
            },
        ]
    )
    row = extract(request)
    assert (row["tool_result_count"], row["image_count"]) == (2, 3)


def test_numbers_are_read_by_value_and_range_never_by_truthiness() -> None:
    values = (7, 7.9, -0.5, True, None, "7", float("nan"), float("inf"))
    assert [as_int(v) for v in values] == [7, 7, 0, None, None, None, None, None]
    int64, int32 = 1 << 63, 1 << 31
    assert (as_int(int64 - 1), as_int(int64), as_int(-int32, bits=32), as_int(int32, bits=32)) == (
        int64 - 1,
        None,
        -int32,
        None,
    )
    row = extract(chat_request(temperature=1, top_p=False))
    assert type(row["temperature"]) is float and row["top_p"] is None
