"""Request and response bodies in the three API shapes, rendered once and reused.

A `RequestSpec` says what a call asks for in API-neutral terms (system prompt, turns, tools, tool
loop history, thinking budget or reasoning effort, answer size). `BodyPool.add` renders it to the
exact JSON of an Anthropic Messages, OpenAI Chat Completions or OpenAI Responses request and the
matching response (content blocks, `thinking` blocks with signatures, `reasoning` items,
`tool_use` / `tool_calls` / `function_call` items, `usage`). Rendering happens once per distinct
body (sources that repeat a request reuse its index); the writer only splices the per-exchange
response id and creation time into the bytes, which is what makes million-exchange worlds take
seconds.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import xxhash

from distillguard.simulate.text import TextBank

FLAVOR_CODES = {"anthropic_messages": 0, "openai_chat": 1, "openai_responses": 2}

Turn = tuple[
    Any, ...
]  # ("user", text) | ("assistant", text) | ("tool_call", id, name, args) | ("tool_result", id, text)


@dataclass(frozen=True, slots=True, eq=False)
class RequestSpec:
    """What one API call asks for, independent of the API shape."""

    flavor: str
    model: str
    user: str
    system: str | None = None
    history: tuple[Turn, ...] = ()  # earlier turns, oldest first, before the final user turn
    tools: tuple[dict[str, Any], ...] = ()
    thinking_budget: int | None = None  # Anthropic extended thinking
    effort: str | None = None  # OpenAI reasoning effort
    max_tokens: int = 1024
    temperature: float | None = None
    stream: bool = False
    answer_chars: int = 600
    reasoning_chars: int = 0
    call_tool: bool = False  # the answer is a tool call instead of text
    end_user: str | None = None  # metadata.user_id / user, as products and routers send
    final_is_tool_result: bool = False  # the last turn returns a tool result, not a user message
    kind: str = "general"  # answer style: general | code | math | cot | rubric
    images: int = 0  # images attached to the final user turn (by URL)


class BodyPool:
    """Distinct bodies of one world, rendered to bytes; exchanges point at them by index."""

    def __init__(self, rng: np.random.Generator, text: TextBank) -> None:
        self._rng = rng
        self._text = text
        self.flavor: list[int] = []
        self.request: list[bytes] = []
        self.tail: list[bytes] = []  # response JSON after the spliced id / creation time
        self.latency_ms: list[float] = []

    def __len__(self) -> int:
        return len(self.request)

    def add(self, spec: RequestSpec) -> int:
        """Render `spec` and return the new body's index (callers reuse indexes to repeat a body)."""
        idx = len(self.request)
        render = _RENDERERS[spec.flavor]
        req, tail, out_tokens = render(spec, idx, self._rng, self._text)
        self.flavor.append(FLAVOR_CODES[spec.flavor])
        self.request.append(req)
        self.tail.append(tail)
        # Time to first token plus decoding at a model-dependent speed.
        self.latency_ms.append(
            350.0 + out_tokens * (12.0 if "mini" in spec.model or "haiku" in spec.model else 22.0)
        )
        return idx


# A serving fleet reports a handful of backend configurations.
_FINGERPRINTS = ("fp_3a1c9e0b52", "fp_7d24f6aa10", "fp_b80e13c4d9", "fp_52c7e9f031", "fp_e4a90b7d66")


def _user_content(spec: RequestSpec, flavor: int) -> str | list[dict[str, Any]]:
    """The final user turn: plain text, or image blocks then text in the flavour's block shapes."""
    if flavor == 2:
        blocks: list[dict[str, Any]] = [{"type": "input_text", "text": spec.user}]
    elif not spec.images:
        return spec.user
    else:
        blocks = [{"type": "text", "text": spec.user}]
    for i in range(spec.images):
        name = xxhash.xxh64_hexdigest(spec.user.encode() + bytes([i]))
        url = f"https://uploads.example-files.net/i/{name}.png"
        if flavor == 0:
            blocks.insert(i, {"type": "image", "source": {"type": "url", "url": url}})
        elif flavor == 1:
            blocks.insert(i, {"type": "image_url", "image_url": {"url": url, "detail": "auto"}})
        else:
            blocks.insert(i, {"type": "input_image", "image_url": url, "detail": "auto"})
    return blocks


def _tokens(chars: int) -> int:
    return max(1, chars // 4)


def _ident(prefix: str, idx: int, rng: np.random.Generator, n: int = 24) -> str:
    h = xxhash.xxh128_hexdigest(b"%d:%r" % (idx, rng.random()))
    return prefix + h[:n]


def tool_args(tool: dict[str, Any], rng: np.random.Generator, text: TextBank) -> dict[str, Any]:
    schema = tool.get("parameters") or tool.get("input_schema") or {}
    props = schema.get("properties") or {}
    required = schema.get("required") or list(props)[:1]
    args: dict[str, Any] = {}
    for name in required:
        prop = props.get(name) or {}
        kind = prop.get("type", "string")
        if prop.get("enum"):
            args[name] = prop["enum"][int(rng.random() * len(prop["enum"]))]
        elif kind == "integer":
            args[name] = 1 + int(rng.random() * 499)
        elif kind == "number":
            args[name] = round(float(rng.uniform(0, 1000)), 2)
        elif kind == "boolean":
            args[name] = rng.random() < 0.5
        elif kind == "array":
            args[name] = [text.word(rng)]
        elif kind == "object":
            args[name] = {}
        else:
            args[name] = text.arg_value(name, rng)
    return args


# ---------------------------------------------------------------- Anthropic Messages


def _anthropic(spec: RequestSpec, idx: int, rng: np.random.Generator, text: TextBank):
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
                    {"type": "thinking", "thinking": text.thinking(rng, 300), "signature": _sig(rng)}
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
        messages.append({"role": "user", "content": _user_content(spec, 0)})
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
        content.append({"type": "thinking", "thinking": thinking, "signature": _sig(rng)})
    if spec.call_tool and spec.tools:
        tool = spec.tools[int(rng.random() * len(spec.tools))]
        lead = text.tool_lead(rng)
        content.append({"type": "text", "text": lead})
        content.append(
            {
                "type": "tool_use",
                "id": _ident("toolu_01", idx, rng),
                "name": tool["name"],
                "input": tool_args(tool, rng, text),
            }
        )
        stop, answer_chars = "tool_use", len(lead) + 60
    else:
        answer = text.answer(rng, spec.answer_chars, spec.kind)
        content.append({"type": "text", "text": answer})
        stop, answer_chars = "end_turn", len(answer)
    out_tokens = _tokens(answer_chars + thinking_chars)
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
            "input_tokens": _tokens(len(req_bytes)),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": out_tokens,
            "service_tier": "standard",
        },
    }
    return req_bytes, orjson.dumps(resp)[1:], out_tokens


def _sig(rng: np.random.Generator) -> str:
    return base64.b64encode(rng.bytes(96)).decode()


# ---------------------------------------------------------------- OpenAI Chat Completions


def _chat(spec: RequestSpec, idx: int, rng: np.random.Generator, text: TextBank):
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
        messages.append({"role": "user", "content": _user_content(spec, 1)})
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
    reasoning_tokens = _tokens(spec.reasoning_chars or 1200) if spec.effort else 0
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None, "annotations": []}
    if spec.call_tool and spec.tools:
        tool = spec.tools[int(rng.random() * len(spec.tools))]
        args = orjson.dumps(tool_args(tool, rng, text)).decode()
        message["tool_calls"] = [
            {
                "id": _ident("call_", idx, rng),
                "type": "function",
                "function": {"name": tool["name"], "arguments": args},
            }
        ]
        finish, answer_chars = "tool_calls", len(args) + 20
    else:
        message["content"] = text.answer(rng, spec.answer_chars, spec.kind)
        finish, answer_chars = "stop", len(message["content"])
    out_tokens = _tokens(answer_chars) + reasoning_tokens
    if out_tokens >= spec.max_tokens:
        finish = "length"
    in_tokens = _tokens(len(req_bytes))
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
        "system_fingerprint": _FINGERPRINTS[idx % len(_FINGERPRINTS)],
    }
    return req_bytes, orjson.dumps(resp)[1:], out_tokens


# ---------------------------------------------------------------- OpenAI Responses


def _responses(spec: RequestSpec, idx: int, rng: np.random.Generator, text: TextBank):
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
        items.append({"role": "user", "content": _user_content(spec, 2)})
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
        reasoning_tokens = _tokens(spec.reasoning_chars or 1200)
        output.append(
            {
                "id": _ident("rs_", idx, rng, 40),
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": summary}],
            }
        )
    if spec.call_tool and spec.tools:
        tool = spec.tools[int(rng.random() * len(spec.tools))]
        args = orjson.dumps(tool_args(tool, rng, text)).decode()
        output.append(
            {
                "id": _ident("fc_", idx, rng, 40),
                "type": "function_call",
                "status": "completed",
                "call_id": _ident("call_", idx, rng),
                "name": tool["name"],
                "arguments": args,
            }
        )
        answer_chars = len(args) + 20
    else:
        answer = text.answer(rng, spec.answer_chars, spec.kind)
        output.append(
            {
                "id": _ident("msg_", idx, rng, 40),
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": answer, "annotations": []}],
            }
        )
        answer_chars = len(answer)
    out_tokens = _tokens(answer_chars) + reasoning_tokens
    in_tokens = _tokens(len(req_bytes))
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


_RENDERERS = {"anthropic_messages": _anthropic, "openai_chat": _chat, "openai_responses": _responses}

ERROR_BODIES = {
    (0, 429): orjson.dumps(
        {
            "type": "error",
            "error": {
                "type": "rate_limit_error",
                "message": "Number of requests has exceeded your rate limit.",
            },
        }
    ),
    (0, 529): orjson.dumps({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    (0, 500): orjson.dumps(
        {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}
    ),
}
for _code in (1, 2):
    ERROR_BODIES[(_code, 429)] = orjson.dumps(
        {
            "error": {
                "message": "Rate limit reached for requests",
                "type": "requests",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        }
    )
    ERROR_BODIES[(_code, 529)] = orjson.dumps(
        {
            "error": {
                "message": "The server is overloaded.",
                "type": "server_error",
                "param": None,
                "code": None,
            }
        }
    )
    ERROR_BODIES[(_code, 500)] = orjson.dumps(
        {
            "error": {
                "message": "The server had an error processing your request.",
                "type": "server_error",
                "param": None,
                "code": None,
            }
        }
    )
