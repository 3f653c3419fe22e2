"""Server-sent events on the way through: split into events, withhold reasoning, and rebuild
the final response body for the exchange log.

The stream stays a stream: events go out as soon as they are complete, in order. Withholding
keeps the stream consistent for the client SDKs: Anthropic content-block indices and OpenAI
Responses output indices are renumbered when blocks are removed, Responses `sequence_number`s
stay contiguous, and every kept block still has its start, delta and stop events.
"""

from __future__ import annotations

from typing import Any

import orjson

from distillguard.act.actions import (
    ANTHROPIC,
    OPENAI_CHAT,
    OPENAI_RESPONSES,
    _withhold_chat_fields,
    summarized_reasoning_item,
)


class SSEEvent:
    """One event: its raw bytes (without the blank-line terminator), name and parsed data."""

    __slots__ = ("data", "name", "raw")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.name: str | None = None
        data_lines: list[bytes] = []
        for line in raw.split(b"\n"):
            if line.startswith(b"data:"):
                data_lines.append(line[5:].lstrip(b" "))
            elif line.startswith(b"event:"):
                self.name = line[6:].strip().decode("utf-8", "replace")
        payload = b"\n".join(data_lines)
        self.data: Any = None
        if payload and payload != b"[DONE]":
            try:
                self.data = orjson.loads(payload)
            except orjson.JSONDecodeError:
                self.data = None

    def encode(self) -> bytes:
        """Serialize a (possibly modified) event back to SSE bytes, with its terminator."""
        head = f"event: {self.name}\n".encode() if self.name else b""
        return head + b"data: " + orjson.dumps(self.data) + b"\n\n"


class SSESplitter:
    """Accumulate chunks and yield complete events (handles \\r\\n and split chunks)."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        buf = (self._buf + chunk).replace(b"\r\n", b"\n")
        parts = buf.split(b"\n\n")
        self._buf = parts.pop()
        return [p for p in parts if p.strip()]

    def rest(self) -> bytes:
        rest, self._buf = self._buf, b""
        return rest


class StreamWithholder:
    """Rewrite a provider's event stream so that no reasoning reaches the client."""

    def __init__(self, flavor: str, mode: str, summary: str) -> None:
        self.flavor, self.mode, self.summary = flavor, mode, summary
        self.withheld = False
        self._removed: list[int] = []  # removed block / output indices, ascending
        self._reasoning: set[int] = set()  # original indices of reasoning blocks / items
        self._summarized: set[tuple[int, int]] = set()  # Responses (output, summary) parts already sent
        self._chat_first: set[int] = set()  # chat choices whose summary was sent
        self._seq = 0

    def _shift(self, index: int) -> int:
        return index - sum(1 for r in self._removed if r < index)

    def process(self, ev: SSEEvent) -> list[SSEEvent]:
        """The events to send in place of `ev` (empty to drop it)."""
        if not isinstance(ev.data, dict):
            return [ev]
        if self.flavor == ANTHROPIC:
            return self._anthropic(ev)
        if self.flavor == OPENAI_CHAT:
            return self._chat(ev)
        if self.flavor == OPENAI_RESPONSES:
            out = self._responses(ev)
            for e in out:  # keep sequence numbers contiguous after dropping events
                if isinstance(e.data, dict) and "sequence_number" in e.data:
                    e.data["sequence_number"] = self._seq
                    self._seq += 1
            return out
        return [ev]

    def _anthropic(self, ev: SSEEvent) -> list[SSEEvent]:
        d = ev.data
        kind = d.get("type")
        index = d.get("index")
        if not isinstance(index, int):
            return [ev]
        if kind == "content_block_start":
            block_type = (d.get("content_block") or {}).get("type")
            if block_type == "thinking" or (block_type == "redacted_thinking" and self.mode == "remove"):
                self._reasoning.add(index)
                self.withheld = True
                if self.mode == "remove":
                    self._removed.append(index)
                    return []
                d["index"] = self._shift(index)
                d["content_block"] = {"type": "thinking", "thinking": "", "signature": ""}
                _rewritten(ev)
                delta = SSEEvent(b"")
                delta.name = "content_block_delta"
                delta.data = {
                    "type": "content_block_delta",
                    "index": d["index"],
                    "delta": {"type": "thinking_delta", "thinking": self.summary},
                }
                return [ev, delta]
        elif index in self._reasoning and (kind == "content_block_delta" or self.mode == "remove"):
            return []  # thinking_delta / signature_delta, or the stop of a removed block
        if self._removed:
            d["index"] = self._shift(index)
            return [_rewritten(ev)]
        return [ev]

    def _chat(self, ev: SSEEvent) -> list[SSEEvent]:
        d = ev.data
        changed = False
        for choice in d.get("choices") or ():
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if not isinstance(delta, dict):
                continue
            idx = choice.get("index", 0)
            first = idx not in self._chat_first
            if _withhold_chat_fields(delta, self.mode, self.summary, first):
                changed = self.withheld = True
                if self.mode == "summary" and first:
                    self._chat_first.add(idx)
        if not changed:
            return [ev]
        empty = all(
            not (c.get("delta") or {}) and c.get("finish_reason") is None for c in d.get("choices") or ()
        )
        if empty and not d.get("usage"):
            return []
        return [_rewritten(ev)]

    def _responses(self, ev: SSEEvent) -> list[SSEEvent]:
        d = ev.data
        kind = d.get("type", "")
        out_idx = d.get("output_index")
        if kind == "response.output_item.added" and (d.get("item") or {}).get("type") == "reasoning":
            self._reasoning.add(out_idx)
            self.withheld = True
            if self.mode == "remove":
                self._removed.append(out_idx)
                return []
            item = {k: v for k, v in d["item"].items() if k not in ("encrypted_content", "content")}
            item["summary"] = []
            d["item"] = item
        elif isinstance(out_idx, int) and out_idx in self._reasoning:
            if self.mode == "remove":
                return []
            part = d.get("summary_index", 0)
            if kind.startswith("response.reasoning_text") or part != 0:
                return []  # raw reasoning text, and summary parts beyond the first
            if kind == "response.reasoning_summary_text.delta":
                if (out_idx, part) in self._summarized:
                    return []
                self._summarized.add((out_idx, part))
                d["delta"] = self.summary
            elif kind == "response.reasoning_summary_text.done":
                d["text"] = self.summary
            elif kind in ("response.reasoning_summary_part.added", "response.reasoning_summary_part.done"):
                p = d.get("part")
                if isinstance(p, dict):
                    p["text"] = "" if kind.endswith("added") else self.summary
            elif kind == "response.output_item.done" and isinstance(d.get("item"), dict):
                d["item"] = summarized_reasoning_item(d["item"], self.summary)
        resp = d.get("response")
        if isinstance(resp, dict) and isinstance(resp.get("output"), list):
            if self.mode == "remove":
                resp["output"] = [i for i in resp["output"] if (i or {}).get("type") != "reasoning"]
            else:
                resp["output"] = [
                    summarized_reasoning_item(i, self.summary) if (i or {}).get("type") == "reasoning" else i
                    for i in resp["output"]
                ]
        if isinstance(out_idx, int) and self._removed:
            d["output_index"] = self._shift(out_idx)
        return [_rewritten(ev)]


def _rewritten(ev: SSEEvent) -> SSEEvent:
    """Mark an event as modified so that it is re-encoded rather than sent raw."""
    ev.raw = b""
    return ev


def encode_event(ev: SSEEvent) -> bytes:
    """Raw bytes of an untouched event, or the re-encoded bytes of a modified one."""
    return ev.raw + b"\n\n" if ev.raw else ev.encode()


class StreamAssembler:
    """Rebuild the final response body from the events a client received, for the log."""

    def __init__(self, flavor: str) -> None:
        self.flavor = flavor
        self.body: dict[str, Any] | None = None
        self._blocks: dict[int, dict[str, Any]] = {}
        self._json: dict[int, str] = {}
        self._choices: dict[int, dict[str, Any]] = {}

    def add(self, ev: SSEEvent) -> None:
        d = ev.data
        if not isinstance(d, dict):
            return
        if self.flavor == ANTHROPIC:
            self._anthropic(d)
        elif self.flavor == OPENAI_CHAT:
            self._chat(d)
        elif isinstance(d.get("response"), dict):  # Responses: the last full snapshot wins
            self.body = d["response"]

    def _anthropic(self, d: dict[str, Any]) -> None:
        kind = d.get("type")
        if kind == "message_start" and isinstance(d.get("message"), dict):
            self.body = dict(d["message"])
        elif kind == "content_block_start":
            self._blocks[d.get("index", 0)] = dict(d.get("content_block") or {})
        elif kind == "content_block_delta":
            block = self._blocks.setdefault(d.get("index", 0), {})
            delta = d.get("delta") or {}
            dt = delta.get("type")
            if dt == "text_delta":
                block["text"] = block.get("text", "") + delta.get("text", "")
            elif dt == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
            elif dt == "signature_delta":
                block["signature"] = delta.get("signature", "")
            elif dt == "input_json_delta":
                i = d.get("index", 0)
                self._json[i] = self._json.get(i, "") + delta.get("partial_json", "")
        elif kind == "message_delta" and self.body is not None:
            self.body.update({k: v for k, v in (d.get("delta") or {}).items() if v is not None})
            if isinstance(d.get("usage"), dict):
                usage = dict(self.body.get("usage") or {})
                usage.update(d["usage"])
                self.body["usage"] = usage

    def _chat(self, d: dict[str, Any]) -> None:
        if self.body is None:
            self.body = {
                "id": d.get("id"),
                "object": "chat.completion",
                "created": d.get("created"),
                "model": d.get("model"),
                "choices": [],
            }
        if d.get("usage"):
            self.body["usage"] = d["usage"]
        for c in d.get("choices") or ():
            idx = c.get("index", 0)
            ch = self._choices.setdefault(
                idx, {"index": idx, "message": {"role": "assistant", "content": ""}, "finish_reason": None}
            )
            msg, delta = ch["message"], c.get("delta") or {}
            if delta.get("content"):
                msg["content"] += delta["content"]
            if delta.get("reasoning_content"):
                msg["reasoning_content"] = msg.get("reasoning_content", "") + delta["reasoning_content"]
            for tc in delta.get("tool_calls") or ():
                calls = msg.setdefault("tool_calls", [])
                while len(calls) <= tc.get("index", 0):
                    calls.append({"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
                call = calls[tc.get("index", 0)]
                call["id"] = tc.get("id") or call["id"]
                fn = tc.get("function") or {}
                call["function"]["name"] += fn.get("name") or ""
                call["function"]["arguments"] += fn.get("arguments") or ""
            if c.get("finish_reason"):
                ch["finish_reason"] = c["finish_reason"]

    def result(self) -> dict[str, Any] | None:
        """The assembled body, or None when the stream carried nothing recognizable."""
        if self.flavor == ANTHROPIC and self.body is not None:
            for i, raw in self._json.items():
                if i in self._blocks:
                    try:
                        self._blocks[i]["input"] = orjson.loads(raw) if raw else {}
                    except orjson.JSONDecodeError:
                        self._blocks[i]["input"] = raw
            self.body["content"] = [self._blocks[i] for i in sorted(self._blocks)]
        elif self.flavor == OPENAI_CHAT and self.body is not None:
            self.body["choices"] = [self._choices[i] for i in sorted(self._choices)]
        return self.body
