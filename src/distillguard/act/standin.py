"""A stand-in model API (Anthropic Messages, OpenAI Chat Completions and Responses) for tests,
benchmarks and demos of the gateway. It answers at once with deterministic text, includes
reasoning when the request asks for it, and streams in each provider's event format.

Test hooks: header `x-standin-status: 4xx|5xx` answers with that provider-shaped error; header
`x-standin-delay-ms: N` waits N ms between stream events; a request whose model is
`break-stream` stops its stream half-way.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from distillguard.act.actions import error_response

REASONING = "First I restate the problem. Then I work through it step by step. Finally I check it."
_ids = itertools.count(1)


def _answer(text: str) -> str:
    return "Answer: " + " ".join(text.split()[:8])


def _user_text(messages: Any) -> str:
    for m in reversed(messages or []):
        if isinstance(m, dict) and m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, str):
                return c
            if isinstance(c, list):
                return " ".join(b.get("text", "") for b in c if isinstance(b, dict))
    return ""


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"x-upstream-request-id": f"req_{next(_ids)}"},
    )


def _sse(events: Iterator[tuple[str | None, Any]], breaks: bool, delay_s: float = 0.0) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        for i, (name, data) in enumerate(events):
            if delay_s and i:
                await asyncio.sleep(delay_s)
            if breaks and i == 3:
                raise RuntimeError("stand-in stream broken on purpose")
            head = f"event: {name}\n".encode() if name else b""
            payload = data if isinstance(data, bytes) else orjson.dumps(data)
            yield head + b"data: " + payload + b"\n\n"

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"x-upstream-request-id": f"req_{next(_ids)}", "cache-control": "no-cache"},
    )


def _event(kind: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    """A named SSE event whose payload repeats the name as its `type` (both providers do)."""
    return kind, {"type": kind, **fields}


def _delay(request: Request) -> float:
    return float(request.headers.get("x-standin-delay-ms", 0)) / 1000.0


def _chunks(text: str, n: int = 3) -> list[str]:
    step = max(1, len(text) // n + 1)
    return [text[i : i + step] for i in range(0, len(text), step)]


async def messages(request: Request) -> Response:
    req = orjson.loads(await request.body())
    answer = _answer(_user_text(req.get("messages")))
    thinking = isinstance(req.get("thinking"), dict) and req["thinking"].get("type") == "enabled"
    mid = f"msg_{next(_ids):06d}"
    usage = {"input_tokens": 12, "output_tokens": 30}
    blocks: list[dict[str, Any]] = []
    if thinking:
        blocks.append({"type": "thinking", "thinking": REASONING, "signature": "c2lnbmF0dXJl"})
    blocks.append({"type": "text", "text": answer})
    msg = {
        "id": mid,
        "type": "message",
        "role": "assistant",
        "model": req.get("model", "stand-in"),
        "content": blocks,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }
    if not req.get("stream"):
        return _json(msg)

    def events() -> Iterator[tuple[str | None, Any]]:
        yield _event(
            "message_start",
            message=msg | {"content": [], "stop_reason": None, "usage": usage | {"output_tokens": 1}},
        )
        for i, block in enumerate(blocks):
            if block["type"] == "thinking":
                yield _event(
                    "content_block_start",
                    index=i,
                    content_block={"type": "thinking", "thinking": "", "signature": ""},
                )
                for part in _chunks(REASONING):
                    yield _event(
                        "content_block_delta", index=i, delta={"type": "thinking_delta", "thinking": part}
                    )
                yield _event(
                    "content_block_delta",
                    index=i,
                    delta={"type": "signature_delta", "signature": "c2lnbmF0dXJl"},
                )
            else:
                yield _event("content_block_start", index=i, content_block={"type": "text", "text": ""})
                yield _event("ping")
                for part in _chunks(answer):
                    yield _event("content_block_delta", index=i, delta={"type": "text_delta", "text": part})
            yield _event("content_block_stop", index=i)
        yield _event(
            "message_delta",
            delta={"stop_reason": "end_turn", "stop_sequence": None},
            usage={"output_tokens": 30},
        )
        yield _event("message_stop")

    return _sse(events(), req.get("model") == "break-stream", _delay(request))


async def chat(request: Request) -> Response:
    req = orjson.loads(await request.body())
    answer = _answer(_user_text(req.get("messages")))
    reasoning = bool(req.get("reasoning_effort"))
    cid = f"chatcmpl-{next(_ids):06d}"
    base = {"id": cid, "created": 1_700_000_000, "model": req.get("model", "stand-in")}
    usage = {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42}
    if not req.get("stream"):
        message: dict[str, Any] = {"role": "assistant", "content": answer}
        if reasoning:
            message["reasoning_content"] = REASONING
        return _json(
            base
            | {
                "object": "chat.completion",
                "usage": usage,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            }
        )

    def events() -> Iterator[tuple[str | None, Any]]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return base | {
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        yield None, chunk({"role": "assistant", "content": ""})
        if reasoning:
            for part in _chunks(REASONING):
                yield None, chunk({"reasoning_content": part})
        for part in _chunks(answer):
            yield None, chunk({"content": part})
        yield None, chunk({}, "stop")
        if (req.get("stream_options") or {}).get("include_usage"):
            yield None, base | {"object": "chat.completion.chunk", "choices": [], "usage": usage}
        yield None, b"[DONE]"

    return _sse(events(), req.get("model") == "break-stream")


async def responses(request: Request) -> Response:
    req = orjson.loads(await request.body())
    inp = req.get("input")
    answer = _answer(inp if isinstance(inp, str) else _user_text(inp))
    reasoning = isinstance(req.get("reasoning"), dict)
    rid = f"resp_{next(_ids):06d}"
    items: list[dict[str, Any]] = []
    if reasoning:
        items.append(
            {"id": f"rs_{rid}", "type": "reasoning", "summary": [{"type": "summary_text", "text": REASONING}]}
        )
    items.append(
        {
            "id": f"msg_{rid}",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": answer, "annotations": []}],
        }
    )
    usage = {
        "input_tokens": 12,
        "output_tokens": 30,
        "total_tokens": 42,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 20 if reasoning else 0},
    }
    resp = {
        "id": rid,
        "object": "response",
        "created_at": 1_700_000_000,
        "status": "completed",
        "model": req.get("model", "stand-in"),
        "output": items,
        "usage": usage,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
    }
    if not req.get("stream"):
        return _json(resp)

    def events() -> Iterator[tuple[str | None, Any]]:
        seq = itertools.count()

        def ev(kind: str, **fields: Any) -> tuple[str, dict[str, Any]]:
            return _event(kind, sequence_number=next(seq), **fields)

        def part(
            kind: str,
            text_kind: str,
            at: dict[str, Any],
            empty: dict[str, Any],
            full: dict[str, Any],
            text: str,
        ) -> Iterator[tuple[str, dict[str, Any]]]:
            # One part's lifecycle, the same for a reasoning summary and an answer: added, text
            # deltas, text done, part done.
            yield ev(f"response.{kind}.added", **at, part=empty)
            for piece in _chunks(text):
                yield ev(f"response.{text_kind}.delta", **at, delta=piece)
            yield ev(f"response.{text_kind}.done", **at, text=text)
            yield ev(f"response.{kind}.done", **at, part=full)

        pending = resp | {"status": "in_progress", "output": [], "usage": None}
        yield ev("response.created", response=pending)
        yield ev("response.in_progress", response=pending)
        for oi, item in enumerate(items):
            if item["type"] == "reasoning":
                yield ev("response.output_item.added", output_index=oi, item=item | {"summary": []})
                yield from part(
                    "reasoning_summary_part",
                    "reasoning_summary_text",
                    {"item_id": item["id"], "output_index": oi, "summary_index": 0},
                    {"type": "summary_text", "text": ""},
                    {"type": "summary_text", "text": REASONING},
                    REASONING,
                )
            else:
                yield ev(
                    "response.output_item.added",
                    output_index=oi,
                    item=item | {"status": "in_progress", "content": []},
                )
                yield from part(
                    "content_part",
                    "output_text",
                    {"item_id": item["id"], "output_index": oi, "content_index": 0},
                    {"type": "output_text", "text": "", "annotations": []},
                    item["content"][0],
                    answer,
                )
            yield ev("response.output_item.done", output_index=oi, item=item)
        yield ev("response.completed", response=resp)

    return _sse(events(), req.get("model") == "break-stream")


def _with_hooks(handler: Any, family: str) -> Any:
    async def endpoint(request: Request) -> Response:
        forced = request.headers.get("x-standin-status")
        if forced:
            status, headers, body = error_response(family, int(forced), f"stand-in error {forced}")
            return Response(body, status_code=status, headers={k.decode(): v.decode() for k, v in headers})
        return await handler(request)

    return endpoint


def create_standin_app() -> Starlette:
    """The stand-in model API as a Starlette app."""
    return Starlette(
        routes=[
            Route("/v1/messages", _with_hooks(messages, "anthropic"), methods=["POST"]),
            Route("/v1/chat/completions", _with_hooks(chat, "openai"), methods=["POST"]),
            Route("/v1/responses", _with_hooks(responses, "openai"), methods=["POST"]),
        ]
    )


app = create_standin_app()
