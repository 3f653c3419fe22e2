"""Builders of exchange records in each API flavour, and a writer of JSON Lines inputs.

Named uniquely (not `builders.py`) because test folders are not packages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson


def anthropic_request(**extra: Any) -> dict:
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 2048,
        "system": [{"type": "text", "text": "You are a careful tutor."}],
        "messages": [{"role": "user", "content": "Explain recursion."}],
    }
    body.update(extra)
    return body


def anthropic_response(text: str = "Recursion is...", thinking: str | None = None) -> dict:
    content = [{"type": "thinking", "thinking": thinking, "signature": "sig"}] if thinking else []
    content.append({"type": "text", "text": text})
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": content,
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 12, "output_tokens": 34, "cache_read_input_tokens": 100},
    }


def chat_request(**extra: Any) -> dict:
    body = {
        "model": "gpt-4.1",
        "messages": [
            {"role": "system", "content": "You are a coding assistant."},
            {"role": "user", "content": "Write a sort function."},
        ],
    }
    body.update(extra)
    return body


def chat_response(text: str = "def sort(xs): ...") -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4.1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 20,
            "completion_tokens": 30,
            "completion_tokens_details": {"reasoning_tokens": 7},
        },
    }


def record(i: int, account: str = "acct-1", request: dict | None = None, **extra: Any) -> dict:
    rec = {
        "id": f"ex-{i}",
        "ts": f"2026-03-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
        "account_id": account,
        "api_key_id": "key-1",
        "client_ip": "203.0.113.7",
        "user_agent": "anthropic-python/0.64.0",
        "request": request if request is not None else anthropic_request(),
        "response": anthropic_response(),
        "status": 200,
        "latency_ms": 812.5,
    }
    rec.update(extra)
    return rec


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def write_lines(path: Path, lines: list[bytes], final_newline: bool = True) -> Path:
    data = b"\n".join(lines) + (b"\n" if final_newline else b"")
    path.write_bytes(data)
    return path
