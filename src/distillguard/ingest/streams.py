"""Streamed responses as logged: the stream's events folded into the response object that the same
call would have returned unstreamed, so that a streamed exchange yields the same columns.

A log may hold a streamed response as the list of its events (parsed JSON) or as the raw
server-sent-events text (`event: ...` / `data: {...}` lines, `data: [DONE]` at the end). Three
streams are read, as the providers send them:

- Anthropic Messages: `message_start` (model, input usage), `content_block_start` /
  `content_block_delta` (text, thinking, tool input) and `message_delta` (final output usage);
- OpenAI Chat Completions: `chat.completion.chunk` objects with `choices[].delta` (content,
  reasoning from compatible servers, tool calls, legacy function calls) and, with
  `include_usage`, a last chunk with usage; a first chunk without choices (Azure's prompt
  filter results) is allowed;
- OpenAI Responses: `response.*` events; `response.completed` (or `.incomplete` / `.failed`) carries
  the whole response, else the finished output items (`response.output_item.done`) are used.

Deltas without an `index` (compatible servers omit it) continue the last block or call, unless
they start a new one. Anything else gives None: the exchange is kept, its response columns stay
empty. A field of an unexpected type is ignored, never an exception.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

# Server-sent-events line ends (not str.splitlines: JSON may carry U+2028 and friends unescaped).
_SSE_LINES = re.compile(r"\r\n|\r|\n")
_ANTHROPIC_EVENTS = {"message_start", "content_block_start", "content_block_delta", "message_delta"}
# The content field each Anthropic delta type extends, and the block type it implies when its
# block's start is missing.
_ANTHROPIC_DELTAS = {
    "text_delta": ("text", "text"),
    "thinking_delta": ("thinking", "thinking"),
    "input_json_delta": ("partial_json", "tool_use"),
}


def read_stream(body: list | str | bytes) -> dict | None:
    """The response object a logged stream stands for, or None when `body` is not a stream."""
    events = _events(body)
    if any(e.get("object") == "chat.completion.chunk" or _has_delta(e) for e in events):
        return _chat(events)
    kinds = {kind for e in events if isinstance(kind := e.get("type"), str)}
    if any(k.startswith("response.") for k in kinds):
        return _responses(events)
    if kinds & _ANTHROPIC_EVENTS:
        return _anthropic(events)
    return None


def _events(body: list | str | bytes) -> list[dict]:
    if isinstance(body, list):
        return [e for e in body if isinstance(e, dict)]
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    events = []
    for line in _SSE_LINES.split(text):
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if not payload or payload == "[DONE]":
            continue
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _has_delta(event: dict) -> bool:
    return any(isinstance(c, dict) and "delta" in c for c in _list(event.get("choices")))


def _index(item: dict, default: int) -> int:
    index = item.get("index")
    return index if isinstance(index, int) else default


class _Text:
    """Text that arrives a fragment at a time, joined once at the end (not quadratic)."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, value: Any) -> None:
        if isinstance(value, str):
            self.parts.append(value)

    def text(self) -> str:
        return "".join(self.parts)


def _anthropic(events: list[dict]) -> dict:
    message: dict[str, Any] = {"type": "message", "role": "assistant"}
    usage: dict[str, Any] = {}
    blocks: dict[int, dict[str, Any]] = {}
    texts: dict[tuple[int, str], _Text] = {}
    last = -1  # the block an index-less delta continues
    for event in events:
        kind = event.get("type")
        if kind == "message_start":
            start = _dict(event.get("message"))
            message.update({k: v for k, v in start.items() if k not in ("content", "usage")})
            usage.update(_dict(start.get("usage")))
        elif kind == "content_block_start":
            last = _index(event, max(blocks, default=-1) + 1)
            block = dict(_dict(event.get("content_block")))
            blocks[last] = block
            for field in ("text", "thinking"):
                texts.setdefault((last, field), _Text()).add(block.pop(field, None))
        elif kind == "content_block_delta":
            delta = _dict(event.get("delta"))
            delta_type = delta.get("type")
            field, implied = (
                _ANTHROPIC_DELTAS.get(delta_type, (None, None))
                if isinstance(delta_type, str)
                else (None, None)
            )
            if field is None:  # signature, citations: no content of their own
                continue
            last = _index(event, max(last, 0))
            blocks.setdefault(last, {"type": implied})
            texts.setdefault((last, field), _Text()).add(delta.get(field))
        elif kind == "message_delta":
            message.update({k: v for k, v in _dict(event.get("delta")).items() if v is not None})
            usage.update({k: v for k, v in _dict(event.get("usage")).items() if v is not None})
    for (i, field), text in texts.items():
        if text.parts:
            blocks[i][field] = text.text()
    message["content"] = [blocks[i] for i in sorted(blocks)]
    message["usage"] = usage
    return message


def _chat(chunks: list[dict]) -> dict:
    response: dict[str, Any] = {"object": "chat.completion"}
    messages: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for key in ("id", "model", "created", "system_fingerprint"):
            if chunk.get(key) not in (None, ""):  # Azure's filter chunks carry empty ones
                response[key] = chunk[key]
        if isinstance(chunk.get("usage"), dict):
            response["usage"] = chunk["usage"]
        for choice in _list(chunk.get("choices")):
            if not isinstance(choice, dict):
                continue
            message = messages.setdefault(_index(choice, 0), {"text": {}, "calls": [], "function": []})
            delta = _dict(choice.get("delta"))
            for field in ("content", "reasoning_content", "reasoning"):
                message["text"].setdefault(field, _Text()).add(delta.get(field))
            for call in _list(delta.get("tool_calls")):
                if isinstance(call, dict):
                    _add_call_delta(message["calls"], call)
            if isinstance(delta.get("function_call"), dict):  # the legacy single call
                _add_call_delta(message["function"], {"index": 0, "function": delta["function_call"]})
    response["choices"] = [{"index": i, "message": _chat_message(messages[i])} for i in sorted(messages)]
    return response


def _add_call_delta(calls: list[dict[str, Any]], delta: dict) -> None:
    """A tool call arrives in pieces: its id and name first, then its arguments a fragment at a
    time. Without an index, a delta with a new id starts a call and any other continues the last."""
    index = delta.get("index")
    if isinstance(index, int):
        call = next((c for c in calls if c["index"] == index), None)
    elif calls and delta.get("id") in (None, calls[-1]["id"]):
        call = calls[-1]
    else:
        call = None
    if call is None:
        call = {"index": index, "id": None, "name": None, "arguments": _Text()}
        calls.append(call)
    if delta.get("id") is not None:
        call["id"] = delta["id"]
    part = _dict(delta.get("function"))
    if isinstance(part.get("name"), str):
        call["name"] = part["name"]
    call["arguments"].add(part.get("arguments"))


def _chat_message(parts: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant"}
    for field, text in parts["text"].items():
        if text.parts:
            message[field] = text.text()
    calls = sorted(parts["calls"], key=lambda c: c["index"] if isinstance(c["index"], int) else 1 << 30)
    if calls:
        message["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": c["arguments"].text()},
            }
            for c in calls
        ]
    if parts["function"]:
        (function,) = parts["function"]
        message["function_call"] = {"name": function["name"], "arguments": function["arguments"].text()}
    return message


def _responses(events: list[dict]) -> dict:
    final = None
    items: dict[int, dict] = {}
    for event in events:
        kind = event.get("type")
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            final = _dict(event.get("response"))
        elif kind == "response.output_item.done" and isinstance(event.get("item"), dict):
            index = event.get("output_index")
            items[index if isinstance(index, int) else max(items, default=-1) + 1] = event["item"]
    if final:
        return final
    # No closing event (a stream cut off): the finished items are what the call returned.
    return {"object": "response", "output": [items[i] for i in sorted(items)]}
