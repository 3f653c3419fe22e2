"""Streams: event splitting, withholding that keeps indices consistent, and log assembly."""

from __future__ import annotations

import orjson

from distillguard.act.actions import ANTHROPIC, OPENAI_CHAT, withhold_json
from distillguard.act.sse import SSEEvent, SSESplitter, StreamAssembler, StreamWithholder, encode_event


def sse(name: str | None, data: dict | str) -> bytes:
    payload = data.encode() if isinstance(data, str) else orjson.dumps(data)
    return (f"event: {name}\r\n".encode() if name else b"") + b"data: " + payload + b"\r\n\r\n"


def anthropic_stream() -> bytes:
    blocks = [
        sse("message_start", {"type": "message_start", "message": {"id": "m", "content": [], "usage": {}}}),
        sse(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "thinking", "thinking": ""},
            },
        ),
        sse(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "secret steps"},
            },
        ),
        sse(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "signature_delta", "signature": "sig"},
            },
        ),
        sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
        sse(
            "content_block_start",
            {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        ),
        sse(
            "content_block_delta",
            {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "42"}},
        ),
        sse("content_block_stop", {"type": "content_block_stop", "index": 1}),
        sse(
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}},
        ),
        sse("message_stop", {"type": "message_stop"}),
    ]
    return b"".join(blocks)


def run(stream: bytes, flavor: str, mode: str | None, chunk: int = 7) -> tuple[list[SSEEvent], dict]:
    """Feed `stream` in small chunks; return the events sent on and the assembled body."""
    splitter, assembler = SSESplitter(), StreamAssembler(flavor)
    withholder = StreamWithholder(flavor, mode, "[withheld]") if mode else None
    sent = b""
    for i in range(0, len(stream), chunk):
        for raw in splitter.feed(stream[i : i + chunk]):
            for ev in withholder.process(SSEEvent(raw)) if withholder else [SSEEvent(raw)]:
                sent += encode_event(ev)
                assembler.add(ev)
    again = SSESplitter()
    return [SSEEvent(raw) for raw in again.feed(sent)], assembler.result()


def test_split_events_across_chunks_and_crlf():
    events, body = run(anthropic_stream(), ANTHROPIC, None, chunk=3)
    assert len(events) == 10 and events[0].name == "message_start"
    assert [b["type"] for b in body["content"]] == ["thinking", "text"]
    assert body["content"][0] == {"type": "thinking", "thinking": "secret steps", "signature": "sig"}
    assert body["stop_reason"] == "end_turn" and body["usage"]["output_tokens"] == 9


def test_anthropic_remove_mode_renumbers_blocks():
    events, body = run(anthropic_stream(), ANTHROPIC, "remove")
    indices = [e.data.get("index") for e in events if "index" in e.data]
    assert indices == [0, 0, 0]  # the text block moved from index 1 to 0, with start, delta, stop
    assert b"secret" not in b"".join(e.raw for e in events)
    assert body["content"] == [{"type": "text", "text": "42"}]


def test_anthropic_summary_mode_keeps_block_and_replaces_text():
    events, body = run(anthropic_stream(), ANTHROPIC, "summary")
    assert body["content"][0] == {"type": "thinking", "thinking": "[withheld]", "signature": ""}
    assert [e.data["type"] for e in events].count("content_block_delta") == 2  # summary + text


def test_chat_stream_and_json_withholding():
    stream = b"".join(
        [
            sse(None, {"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
            sse(None, {"id": "c", "choices": [{"index": 0, "delta": {"reasoning_content": "step 1"}}]}),
            sse(None, {"id": "c", "choices": [{"index": 0, "delta": {"reasoning_content": "step 2"}}]}),
            sse(
                None,
                {"id": "c", "choices": [{"index": 0, "delta": {"content": "done"}, "finish_reason": "stop"}]},
            ),
            sse(None, "[DONE]"),
        ]
    )
    events, body = run(stream, OPENAI_CHAT, "summary")
    assert len(events) == 4 and events[-1].data is None  # one reasoning chunk dropped, [DONE] kept
    msg = body["choices"][0]["message"]
    assert msg == {"role": "assistant", "content": "done", "reasoning_content": "[withheld]"}
    doc = {"choices": [{"message": {"content": "x", "reasoning_content": "secret"}}]}
    assert withhold_json(OPENAI_CHAT, doc, "remove", "") and doc["choices"][0]["message"] == {"content": "x"}
    assert not withhold_json(OPENAI_CHAT, doc, "remove", "")
