"""Streamed responses logged as their events read like the response the call would have returned."""

from __future__ import annotations

import orjson
import pytest

from distillguard.ingest import normalize_lines
from distillguard.ingest.parse_body import EXTRACT_COLUMNS, extract
from distillguard.ingest.streams import read_stream

# The columns a response fills (the last of EXTRACT_COLUMNS), and the two it can decide.
RESPONSE_COLUMNS = ("flavor", "model", *EXTRACT_COLUMNS[EXTRACT_COLUMNS.index("response_chars") :])

ANTHROPIC_REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 2048,
    "stream": True,
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "messages": [{"role": "user", "content": "What is 17 * 23? Use the tool if needed."}],
}
ANTHROPIC_RESPONSE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {"type": "thinking", "thinking": "17 * 23 = 391.", "signature": "sig"},
        {"type": "text", "text": "It is 391."},
        {"type": "tool_use", "id": "toolu_1", "name": "calc", "input": {"expr": "17*23"}},
    ],
    "stop_reason": "tool_use",
    "usage": {"input_tokens": 40, "cache_read_input_tokens": 10, "output_tokens": 55},
}
ANTHROPIC_EVENTS = [
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": 40, "cache_read_input_tokens": 10, "output_tokens": 1},
        },
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "17 * 23"}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": " = 391."}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "sig"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "ping"},
    {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "It is "}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "391."}},
    {"type": "content_block_stop", "index": 1},
    {
        "type": "content_block_start",
        "index": 2,
        "content_block": {"type": "tool_use", "id": "toolu_1", "name": "calc", "input": {}},
    },
    {
        "type": "content_block_delta",
        "index": 2,
        "delta": {"type": "input_json_delta", "partial_json": '{"expr"'},
    },
    {
        "type": "content_block_delta",
        "index": 2,
        "delta": {"type": "input_json_delta", "partial_json": ': "17*23"}'},
    },
    {"type": "content_block_stop", "index": 2},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "tool_use", "stop_sequence": None},
        "usage": {"output_tokens": 55},
    },
    {"type": "message_stop"},
]

CHAT_REQUEST = {
    "model": "gpt-4.1",
    "stream": True,
    "stream_options": {"include_usage": True},
    "messages": [{"role": "user", "content": "Weather in Paris and Rome?"}],
}
CHAT_RESPONSE = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4.1",
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": "Checking both.",
                "reasoning_content": "Two cities, two calls.",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Rome"}'},
                    },
                ],
            },
        }
    ],
    "usage": {
        "prompt_tokens": 30,
        "completion_tokens": 42,
        "completion_tokens_details": {"reasoning_tokens": 9},
    },
}


def _chunk(delta: dict | None = None, **extra: object) -> dict:
    body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4.1"}
    body["choices"] = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": None}]
    return {**body, **extra}


CHAT_CHUNKS = [
    _chunk({"role": "assistant", "content": ""}),
    _chunk({"reasoning_content": "Two cities, "}),
    _chunk({"reasoning_content": "two calls."}),
    _chunk({"content": "Checking "}),
    _chunk({"content": "both."}),
    _chunk(
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": ""},
                }
            ]
        }
    ),
    _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Paris"}'}}]}),
    _chunk(
        {
            "tool_calls": [
                {
                    "index": 1,
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": '},
                }
            ]
        }
    ),
    _chunk({"tool_calls": [{"index": 1, "function": {"arguments": '"Rome"}'}}]}),
    _chunk(None, usage=CHAT_RESPONSE["usage"]),
]

RESPONSES_REQUEST = {
    "model": "o4-mini",
    "stream": True,
    "reasoning": {"effort": "high"},
    "input": "Prove it.",
}
RESPONSES_RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "model": "o4-mini",
    "output": [
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Induction on n."}]},
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "By induction.", "annotations": []}],
        },
    ],
    "usage": {"input_tokens": 12, "output_tokens": 300, "output_tokens_details": {"reasoning_tokens": 256}},
}
RESPONSES_EVENTS = [
    {"type": "response.created", "response": {**RESPONSES_RESPONSE, "output": [], "usage": None}},
    {"type": "response.output_item.added", "output_index": 0, "item": {"type": "reasoning", "id": "rs_1"}},
    {"type": "response.reasoning_summary_text.delta", "output_index": 0, "delta": "Induction on n."},
    {"type": "response.output_item.done", "output_index": 0, "item": RESPONSES_RESPONSE["output"][0]},
    {"type": "response.output_text.delta", "output_index": 1, "delta": "By induction."},
    {"type": "response.output_item.done", "output_index": 1, "item": RESPONSES_RESPONSE["output"][1]},
    {"type": "response.completed", "response": RESPONSES_RESPONSE},
]


def _sse(events: list[dict], named: bool) -> str:
    lines = []
    for event in events:
        if named:
            lines.append(f"event: {event.get('type', 'message')}")
        lines += [f"data: {orjson.dumps(event).decode()}", ""]
    return "\n".join([*lines, "data: [DONE]", ""])


CASES = {
    "anthropic": (ANTHROPIC_REQUEST, ANTHROPIC_RESPONSE, ANTHROPIC_EVENTS),
    "chat": (CHAT_REQUEST, CHAT_RESPONSE, CHAT_CHUNKS),
    "responses": (RESPONSES_REQUEST, RESPONSES_RESPONSE, RESPONSES_EVENTS),
}


def _columns(row: dict) -> tuple:
    return tuple(row[c] for c in RESPONSE_COLUMNS)


@pytest.mark.parametrize("flavor", CASES)
def test_stream_events_read_like_the_whole_response(flavor: str) -> None:
    request, response, events = CASES[flavor]
    whole = _columns(extract(request, response))
    assert whole[2] > 0 and whole[6] is not None  # the case itself has an answer and usage
    assert _columns(extract(request, events)) == whole
    assert _columns(extract(request, _sse(events, named=flavor == "anthropic"))) == whole
    assert _columns(extract(request, _sse(events, named=True).encode())) == whole


def test_tool_call_fragments_are_joined() -> None:
    message = read_stream(CHAT_CHUNKS)["choices"][0]["message"]
    assert message["tool_calls"] == CHAT_RESPONSE["choices"][0]["message"]["tool_calls"]
    blocks = read_stream(ANTHROPIC_EVENTS)["content"]
    assert blocks[2]["partial_json"] == '{"expr": "17*23"}' and blocks[0]["thinking"] == "17 * 23 = 391."


def test_a_responses_stream_cut_off_before_its_end_keeps_the_finished_items() -> None:
    cut = read_stream(RESPONSES_EVENTS[:4])
    assert cut["output"] == RESPONSES_RESPONSE["output"][:1]
    row = extract(RESPONSES_REQUEST, RESPONSES_EVENTS[:4])
    assert (row["reasoning_chars"], row["response_chars"], row["output_tokens"]) == (15, 0, None)


@pytest.mark.parametrize(
    "body",
    [[], [1, "x"], [{"foo": 1}], "plain text answer", "data: not json\n\n", b"\xff\xfe", "data: [DONE]"],
)
def test_anything_else_leaves_the_response_columns_empty(body: object) -> None:
    assert read_stream(body) is None
    row = extract(CHAT_REQUEST, body)
    assert row["flavor"] == "openai_chat" and row["response_chars"] is None


def test_a_logged_stream_ingests_like_the_whole_response() -> None:
    base = {"ts": "2026-03-01T00:00:00Z", "account_id": "a", "request": ANTHROPIC_REQUEST}
    lines = [
        (1, orjson.dumps({**base, "id": "whole", "response": ANTHROPIC_RESPONSE})),
        (2, orjson.dumps({**base, "id": "events", "response": ANTHROPIC_EVENTS})),
        (3, orjson.dumps({**base, "id": "sse", "response": _sse(ANTHROPIC_EVENTS, named=True)})),
    ]
    table, rejects = normalize_lines(lines, "in.jsonl")
    assert rejects == []
    rows = [tuple(r[c] for c in RESPONSE_COLUMNS) for r in table.to_pylist()]
    assert rows[0] == rows[1] == rows[2] and rows[0][3] == 14


@pytest.mark.parametrize(
    "body",
    [
        [{"choices": 5}],
        [{"object": "chat.completion.chunk", "choices": [{"delta": {"tool_calls": 3, "content": 7}}]}],
        [
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": None}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
        ],
        [{"type": "message_start", "message": "x"}, {"type": "message_delta", "delta": [1], "usage": 2}],
        [{"type": "response.output_item.done", "item": {"type": "message"}, "output_index": "a"}],
    ],
)
def test_malformed_streams_never_raise(body: list) -> None:
    read_stream(body)
    row = extract(CHAT_REQUEST, body)
    assert row["flavor"] in ("openai_chat", "anthropic_messages", "openai_responses")


def test_random_event_shapes_never_raise() -> None:
    import random

    rng = random.Random(7)
    values = [None, 0, 1, -1, "", "x", [], {}, [1, "a"], {"a": None}, 2.5, True]
    keys = [
        "type",
        "index",
        "delta",
        "choices",
        "object",
        "usage",
        "message",
        "content_block",
        "text",
        "thinking",
        "tool_calls",
        "function",
        "arguments",
        "id",
        "item",
        "response",
    ]
    kinds = [
        "chat.completion.chunk",
        "message_start",
        "content_block_start",
        "content_block_delta",
        "message_delta",
        "response.completed",
        "response.output_item.done",
        "text_delta",
    ]

    def value(depth: int) -> object:
        if depth > 2 or rng.random() < 0.4:
            return rng.choice(values + kinds)
        if rng.random() < 0.5:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        return {rng.choice(keys): value(depth + 1) for _ in range(rng.randint(0, 4))}

    for _ in range(3000):
        events = [value(0) for _ in range(rng.randint(1, 6))]
        for event in events:
            if isinstance(event, dict) and rng.random() < 0.7:
                event["type" if rng.random() < 0.6 else "object"] = rng.choice(kinds)
        read_stream(events)  # must not raise (extract's own guard is not what is tested here)


def test_an_azure_stream_starting_with_a_filter_chunk_is_read() -> None:
    azure = [{"choices": [], "object": "", "model": "", "id": "", "created": 0, "prompt_filter_results": []}]
    azure += [*CHAT_CHUNKS, {"choices": [], "object": "", "model": "", "id": ""}]
    request = {k: v for k, v in CHAT_REQUEST.items() if k != "model"}  # Azure names it in the URL
    row = extract(request, azure)
    assert _columns(row)[1:] == _columns(extract(CHAT_REQUEST, CHAT_RESPONSE))[1:]
    assert row["model"] == "gpt-4.1"


def test_line_separators_inside_json_do_not_split_an_event() -> None:
    events = [dict(e) for e in ANTHROPIC_EVENTS]
    events[8] = {
        "type": "content_block_delta",
        "index": 1,
        "delta": {"type": "text_delta", "text": "It\u2028is "},
    }
    text = "\n".join(f"data: {orjson.dumps(e).decode()}\n" for e in events)
    assert "\u2028" in text  # orjson writes it raw, as JSON allows
    assert (
        extract(ANTHROPIC_REQUEST, text)["response_chars"]
        == extract(ANTHROPIC_REQUEST, events)["response_chars"]
    )


def test_deltas_without_index_continue_or_start_a_block() -> None:
    calls = [
        _chunk({"tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": '{"a"'}}]}),
        _chunk({"tool_calls": [{"function": {"arguments": ": 1}"}}]}),
        _chunk({"tool_calls": [{"id": "c2", "function": {"name": "g", "arguments": "{}"}}]}),
    ]
    message = read_stream(calls)["choices"][0]["message"]
    assert [(c["id"], c["function"]["arguments"]) for c in message["tool_calls"]] == [
        ("c1", '{"a": 1}'),
        ("c2", "{}"),
    ]
    blocks = [
        {"type": "content_block_start", "content_block": {"type": "thinking", "thinking": ""}},
        {"type": "content_block_delta", "delta": {"type": "thinking_delta", "thinking": "abc"}},
        {"type": "content_block_delta", "delta": {"type": "signature_delta", "signature": "s"}},
        {"type": "content_block_start", "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "hello"}},
    ]
    row = extract(ANTHROPIC_REQUEST, blocks)
    assert (row["reasoning_chars"], row["response_chars"], row["response_tool_calls"]) == (3, 5, 0)
    done = [
        {"type": "response.output_item.done", "output_index": 1, "item": RESPONSES_RESPONSE["output"][1]},
        {"type": "response.output_item.done", "item": RESPONSES_RESPONSE["output"][1]},
    ]
    assert extract(RESPONSES_REQUEST, done)["response_chars"] == 2 * len("By induction.")


def test_a_streamed_legacy_function_call_counts_as_a_call() -> None:
    chunks = [
        _chunk({"role": "assistant", "function_call": {"name": "lookup", "arguments": ""}}),
        _chunk({"function_call": {"arguments": '{"q": 1}'}}),
    ]
    assert extract(CHAT_REQUEST, chunks)["response_tool_calls"] == 1
    assert read_stream(chunks)["choices"][0]["message"]["function_call"] == {
        "name": "lookup",
        "arguments": '{"q": 1}',
    }
