"""Anthropic Messages: request and response bodies, thinking blocks with budgets, tool use."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from distillguard.simulate.draws import pick
from distillguard.simulate.render.common import (
    ident,
    signature,
    tokens,
    tool_args,
    user_content,
)
from distillguard.simulate.spec import RequestSpec
from distillguard.simulate.text import TextBank


def render(spec: RequestSpec, idx: int, rng: np.random.Generator, text: TextBank) -> tuple[bytes, bytes, int]:
    """an Anthropic Messages request (JSON bytes), its response after the id (bytes), output tokens."""
    messages: list[dict[str, Any]] = []
    for turn in spec.history:
        kind = turn[0]
        if kind == "user":
            messages.append({"role": "user", "content": turn[1]})
        elif kind == "assistant":
            messages.append({"role": "assistant", "content": turn[1]})
        elif kind == "tool_call":
            blocks: list[dict[str, Any]] = []
            if spec.thinking_budget:
                blocks.append(
                    {"type": "thinking", "thinking": text.thinking(rng, 300), "signature": signature(rng)}
                )
            blocks.append({"type": "tool_use", "id": "toolu_01" + turn[1], "name": turn[2], "input": turn[3]})
            messages.append({"role": "assistant", "content": blocks})
        elif kind == "tool_result":
            messages.append(
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_01" + turn[1], "content": turn[2]}
                    ],
                }
            )
    if not spec.final_is_tool_result:
        messages.append({"role": "user", "content": user_content(spec, 0)})
    req: dict[str, Any] = {"model": spec.model, "max_tokens": spec.max_tokens}
    if spec.system:
        req["system"] = spec.system
    req["messages"] = messages
    if spec.tools:
        req["tools"] = [
            {"name": t["name"], "description": t["description"], "input_schema": t["parameters"]}
            for t in spec.tools
        ]
    if spec.thinking_budget:
        req["thinking"] = {"type": "enabled", "budget_tokens": spec.thinking_budget}
    elif spec.temperature is not None:
        req["temperature"] = spec.temperature
    if spec.stream:
        req["stream"] = True
    if spec.end_user:
        req["metadata"] = {"user_id": spec.end_user}

    req_bytes = orjson.dumps(req)
    content: list[dict[str, Any]] = []
    thinking_chars = 0
    if spec.thinking_budget:
        thinking = text.thinking(rng, spec.reasoning_chars or 800)
        thinking_chars = len(thinking)
        content.append({"type": "thinking", "thinking": thinking, "signature": signature(rng)})
    if spec.call_tool and spec.tools:
        tool = pick(rng, spec.tools)
        lead = text.tool_lead(rng)
        content.append({"type": "text", "text": lead})
        content.append(
            {
                "type": "tool_use",
                "id": ident("toolu_01", idx, rng),
                "name": tool["name"],
                "input": tool_args(tool, rng, text),
            }
        )
        stop, answer_chars = "tool_use", len(lead) + 60
    else:
        answer = text.answer(rng, spec.answer_chars, spec.kind)
        content.append({"type": "text", "text": answer})
        stop, answer_chars = "end_turn", len(answer)
    out_tokens = tokens(answer_chars + thinking_chars)
    if out_tokens >= spec.max_tokens:
        stop = "max_tokens"
    resp = {
        "type": "message",
        "role": "assistant",
        "model": spec.model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": tokens(len(req_bytes)),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": out_tokens,
            "service_tier": "standard",
        },
    }
    return req_bytes, orjson.dumps(resp)[1:], out_tokens
