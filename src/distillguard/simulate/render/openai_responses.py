"""OpenAI Responses: input items, function calls and outputs, reasoning items, usage."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from distillguard.simulate.draws import pick
from distillguard.simulate.render.common import (
    ident,
    tokens,
    tool_args,
    user_content,
)
from distillguard.simulate.spec import RequestSpec
from distillguard.simulate.text import TextBank


def render(spec: RequestSpec, idx: int, rng: np.random.Generator, text: TextBank) -> tuple[bytes, bytes, int]:
    """an OpenAI Responses request (JSON bytes), its response after the id (bytes), output tokens."""
    items: list[dict[str, Any]] = []
    for turn in spec.history:
        kind = turn[0]
        if kind == "user":
            items.append({"role": "user", "content": [{"type": "input_text", "text": turn[1]}]})
        elif kind == "assistant":
            items.append({"role": "assistant", "content": turn[1]})
        elif kind == "tool_call":
            items.append(
                {
                    "type": "function_call",
                    "call_id": "call_" + turn[1],
                    "name": turn[2],
                    "arguments": orjson.dumps(turn[3]).decode(),
                }
            )
        elif kind == "tool_result":
            items.append({"type": "function_call_output", "call_id": "call_" + turn[1], "output": turn[2]})
    if not spec.final_is_tool_result:
        items.append({"role": "user", "content": user_content(spec, 2)})
    req: dict[str, Any] = {"model": spec.model}
    if spec.system:
        req["instructions"] = spec.system
    simple = len(items) == 1 and not spec.final_is_tool_result and not spec.images
    req["input"] = spec.user if simple else items
    tools = [
        {
            "type": "function",
            "name": t["name"],
            "description": t["description"],
            "parameters": t["parameters"],
            "strict": False,
        }
        for t in spec.tools
    ]
    if tools:
        req["tools"] = tools
    if spec.effort:
        req["reasoning"] = {"effort": spec.effort, "summary": "auto"}
    elif spec.temperature is not None:
        req["temperature"] = spec.temperature
    req["max_output_tokens"] = spec.max_tokens
    if spec.stream:
        req["stream"] = True
    req["store"] = False
    if spec.end_user:
        req["user"] = spec.end_user

    req_bytes = orjson.dumps(req)
    output: list[dict[str, Any]] = []
    reasoning_tokens = 0
    if spec.effort:
        summary = text.thinking(rng, max(200, (spec.reasoning_chars or 1200) // 3))
        reasoning_tokens = tokens(spec.reasoning_chars or 1200)
        output.append(
            {
                "id": ident("rs_", idx, rng, 40),
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": summary}],
            }
        )
    if spec.call_tool and spec.tools:
        tool = pick(rng, spec.tools)
        args = orjson.dumps(tool_args(tool, rng, text)).decode()
        output.append(
            {
                "id": ident("fc_", idx, rng, 40),
                "type": "function_call",
                "status": "completed",
                "call_id": ident("call_", idx, rng),
                "name": tool["name"],
                "arguments": args,
            }
        )
        answer_chars = len(args) + 20
    else:
        answer = text.answer(rng, spec.answer_chars, spec.kind)
        output.append(
            {
                "id": ident("msg_", idx, rng, 40),
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": answer, "annotations": []}],
            }
        )
        answer_chars = len(answer)
    out_tokens = tokens(answer_chars) + reasoning_tokens
    in_tokens = tokens(len(req_bytes))
    resp = {
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "instructions": spec.system,
        "max_output_tokens": spec.max_tokens,
        "model": spec.model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": spec.effort, "summary": "auto" if spec.effort else None},
        "store": False,
        "temperature": 1.0 if spec.temperature is None else spec.temperature,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": tools,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": in_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": out_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": in_tokens + out_tokens,
        },
        "user": spec.end_user,
        "metadata": {},
    }
    return req_bytes, orjson.dumps(resp)[1:], out_tokens
