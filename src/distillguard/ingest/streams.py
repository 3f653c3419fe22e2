"""Streamed responses as logged: the stream's events folded into the response object that the same
call would have returned unstreamed, so that a streamed exchange yields the same columns.

A log may hold a streamed response as the list of its events (parsed JSON) or as the raw
server-sent-events text (`event: ...` / `data: {...}` lines, `data: [DONE]` at the end). Three
streams are read, as the providers send them:

- Anthropic Messages: `message_start` (model, input usage), `content_block_start` /
  `content_block_delta` (text, thinking, tool input) and `message_delta` (final output usage);
- OpenAI Chat Completions: `chat.completion.chunk` objects with `choices[].delta` (content,
  reasoning from compatible servers, tool calls) and, with `include_usage`, a last chunk with usage;
- OpenAI Responses: `response.*` events; `response.completed` (or `.incomplete` / `.failed`) carries
  the whole response, else the finished output items (`response.output_item.done`) are used.

Anything else gives None: the exchange is kept, its response columns stay empty.
"""

from __future__ import annotations

from typing import Any

import orjson


def read_stream(body: list | str | bytes) -> dict | None:
    """The response object a logged stream stands for, or None when `body` is not a stream."""
    events = _events(body)
    if not events:
        return None
    first = events[0]
    if first.get("object") == "chat.completion.chunk" or any(
        isinstance(c, dict) and "delta" in c for c in first.get("choices") or ()
    ):
        return _chat(events)
    kinds = {e.get("type") for e in events}
    if any(isinstance(k, str) and k.startswith("response.") for k in kinds):
        return _responses(events)
    if kinds & {"message_start", "content_block_start", "content_block_delta", "message_delta"}:
        return _anthropic(events)
    return None


def _events(body: list | str | bytes) -> list[dict]:
    if isinstance(body, list):
        return [e for e in body if isinstance(e, dict)]
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    events = []
    for line in text.splitlines():
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


def _anthropic(events: list[dict]) -> dict:
    message: dict[str, Any] = {"type": "message", "role": "assistant", "content": []}
    usage: dict[str, Any] = {}
    blocks: dict[int, dict[str, Any]] = {}
    for event in events:
        kind = event.get("type")
        if kind == "message_start":
            start = _dict(event.get("message"))
            message.update({k: v for k, v in start.items() if k not in ("content", "usage")})
            usage.update(_dict(start.get("usage")))
        elif kind == "content_block_start":
            blocks[_index(event)] = dict(_dict(event.get("content_block")))
        elif kind == "content_block_delta":
            block = blocks.setdefault(_index(event), {})
            delta = _dict(event.get("delta"))
            for field in ("text", "thinking", "partial_json"):
                if isinstance(delta.get(field), str):
                    block[field] = block.get(field, "") + delta[field]
            if "type" not in block:  # a delta without its start: its kind from the delta's
                block["type"] = {"text_delta": "text", "thinking_delta": "thinking"}.get(
                    delta.get("type"), "tool_use"
                )
        elif kind == "message_delta":
            message.update({k: v for k, v in _dict(event.get("delta")).items() if v is not None})
            usage.update({k: v for k, v in _dict(event.get("usage")).items() if v is not None})
    message["content"] = [blocks[i] for i in sorted(blocks)]
    message["usage"] = usage
    return message


def _index(event: dict) -> int:
    index = event.get("index")
    return index if isinstance(index, int) else 0


def _chat(chunks: list[dict]) -> dict:
    response: dict[str, Any] = {"object": "chat.completion"}
    choices: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for key in ("id", "model", "created", "system_fingerprint"):
            if chunk.get(key) is not None:
                response[key] = chunk[key]
        if isinstance(chunk.get("usage"), dict):
            response["usage"] = chunk["usage"]
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            message = choices.setdefault(_index(choice), {"role": "assistant"})
            delta = _dict(choice.get("delta"))
            for field in ("content", "reasoning_content", "reasoning"):
                if isinstance(delta.get(field), str):
                    message[field] = message.get(field, "") + delta[field]
            for call in delta.get("tool_calls") or ():
                if isinstance(call, dict):
                    _add_call_delta(message.setdefault("tool_calls", {}), call)
    out = []
    for i in sorted(choices):
        message = choices[i]
        if "tool_calls" in message:
            message["tool_calls"] = [message["tool_calls"][k] for k in sorted(message["tool_calls"])]
        out.append({"index": i, "message": message})
    response["choices"] = out
    return response


def _add_call_delta(calls: dict[int, dict[str, Any]], delta: dict) -> None:
    """A tool call arrives in pieces: its id and name first, then its arguments a fragment at a time."""
    call = calls.setdefault(_index(delta), {"type": "function", "function": {}})
    if delta.get("id") is not None:
        call["id"] = delta["id"]
    part = _dict(delta.get("function"))
    if isinstance(part.get("name"), str):
        call["function"]["name"] = part["name"]
    if isinstance(part.get("arguments"), str):
        call["function"]["arguments"] = call["function"].get("arguments", "") + part["arguments"]


def _responses(events: list[dict]) -> dict:
    final = None
    items: dict[int, dict] = {}
    for event in events:
        kind = event.get("type")
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            final = _dict(event.get("response"))
        elif kind == "response.output_item.done" and isinstance(event.get("item"), dict):
            index = event.get("output_index")
            items[index if isinstance(index, int) else len(items)] = event["item"]
    if final:
        return final
    # No closing event (a stream cut off): the finished items are what the call returned.
    return {"object": "response", "output": [items[i] for i in sorted(items)]}
