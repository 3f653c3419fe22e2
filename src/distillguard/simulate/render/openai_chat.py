"""OpenAI Chat Completions: messages, function tools and tool calls, reasoning effort, usage."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from distillguard.simulate.draws import pick
from distillguard.simulate.render.common import (
    FINGERPRINTS,
    ident,
    tokens,
    tool_args,
    user_content,
)
from distillguard.simulate.spec import RequestSpec
from distillguard.simulate.text import TextBank


def render(spec: RequestSpec, idx: int, rng: np.random.Generator, text: TextBank) -> tuple[bytes, bytes, int]:
    """an OpenAI Chat Completions request (JSON bytes), its response after the id (bytes), output tokens."""
    messages: list[dict[str, Any]] = []
    if spec.system:
        role = "developer" if spec.effort else "system"
        messages.append({"role": role, "content": spec.system})
    for turn in spec.history:
        kind = turn[0]
        if kind in ("user", "assistant"):
            messages.append({"role": kind, "content": turn[1]})
        elif kind == "tool_call":
            messages.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_" + turn[1],
                            "type": "function",
                            "function": {"name": turn[2], "arguments": orjson.dumps(turn[3]).decode()},
                        }
                    ],
                }
            )
        elif kind == "tool_result":
            messages.append({"role": "tool", "tool_call_id": "call_" + turn[1], "content": turn[2]})
    if not spec.final_is_tool_result:
        messages.append({"role": "user", "content": user_content(spec, 1)})
    req: dict[str, Any] = {"model": spec.model, "messages": messages}
    if spec.tools:
        req["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t["name"],
                    "description": t["description"],
                    "parameters": t["parameters"],
                },
            }
            for t in spec.tools
        ]
        req["tool_choice"] = "auto"
    if spec.effort:
        req["reasoning_effort"] = spec.effort
        req["max_completion_tokens"] = spec.max_tokens
    else:
        req["max_tokens"] = spec.max_tokens
        if spec.temperature is not None:
            req["temperature"] = spec.temperature
    if spec.stream:
        req["stream"] = True
        req["stream_options"] = {"include_usage": True}
    if spec.end_user:
        req["user"] = spec.end_user

    req_bytes = orjson.dumps(req)
    reasoning_tokens = tokens(spec.reasoning_chars or 1200) if spec.effort else 0
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None, "annotations": []}
    if spec.call_tool and spec.tools:
        tool = pick(rng, spec.tools)
        args = orjson.dumps(tool_args(tool, rng, text)).decode()
        message["tool_calls"] = [
            {
                "id": ident("call_", idx, rng),
                "type": "function",
                "function": {"name": tool["name"], "arguments": args},
            }
        ]
        finish, answer_chars = "tool_calls", len(args) + 20
    else:
        message["content"] = text.answer(rng, spec.answer_chars, spec.kind)
        finish, answer_chars = "stop", len(message["content"])
    out_tokens = tokens(answer_chars) + reasoning_tokens
    if out_tokens >= spec.max_tokens:
        finish = "length"
    in_tokens = tokens(len(req_bytes))
    resp = {
        "model": spec.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": in_tokens,
            "completion_tokens": out_tokens,
            "total_tokens": in_tokens + out_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": FINGERPRINTS[idx % len(FINGERPRINTS)],
    }
    return req_bytes, orjson.dumps(resp)[1:], out_tokens
