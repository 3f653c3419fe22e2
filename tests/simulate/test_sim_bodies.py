"""Rendered bodies have the real APIs' shapes; checked with the official SDKs' types when installed."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from distillguard.simulate.bodies import ERROR_BODIES, BodyPool, RequestSpec
from distillguard.simulate.text import TextBank

TOOLS = (
    {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
)
LOOP = (
    ("user", "What is the weather in Lima?"),
    ("tool_call", "abc1", "get_weather", {"city": "Lima"}),
    ("tool_result", "abc1", '{"temp": 18}'),
)


def _render(spec: RequestSpec) -> tuple[dict, dict]:
    pool = BodyPool(np.random.default_rng(0), TextBank(np.random.default_rng(1)))
    i = pool.add(spec)
    from distillguard.simulate.writer import _RESPONSE_ID

    f = pool.flavor[i]
    head = _RESPONSE_ID[f] % ((7, 1_760_000_000) if f else 7)
    response = orjson.loads(head[len(b',"response":') :] + pool.tail[i])
    return orjson.loads(pool.request[i]), response


def _specs(flavor: str) -> list[RequestSpec]:
    return [
        RequestSpec(flavor=flavor, model="m-1", user="hello", system="Be brief.", temperature=0.5),
        RequestSpec(
            flavor=flavor, model="m-1", user="", tools=TOOLS, history=LOOP, final_is_tool_result=True
        ),
        RequestSpec(flavor=flavor, model="m-1", user="weather?", tools=TOOLS, call_tool=True, end_user="u1"),
        RequestSpec(flavor=flavor, model="m-1", user="What is in this chart?", images=2),
        RequestSpec(
            flavor=flavor,
            model="m-1",
            user="Think step by step.",
            thinking_budget=8000 if flavor == "anthropic_messages" else None,
            effort=None if flavor == "anthropic_messages" else "high",
            max_tokens=12000,
            reasoning_chars=3000,
            kind="cot",
        ),
    ]


def test_anthropic_messages_shape():
    for spec in _specs("anthropic_messages"):
        req, resp = _render(spec)
        assert req["model"] == "m-1" and isinstance(req["max_tokens"], int) and req["messages"]
        assert resp["type"] == "message" and resp["role"] == "assistant"
        assert {"input_tokens", "output_tokens"} <= set(resp["usage"])
        kinds = [b["type"] for b in resp["content"]]
        if spec.thinking_budget:
            assert req["thinking"] == {"type": "enabled", "budget_tokens": 8000}
            assert kinds[0] == "thinking" and resp["content"][0]["signature"]
            assert "temperature" not in req  # extended thinking does not accept a temperature
        if spec.call_tool:
            assert "tool_use" in kinds and resp["stop_reason"] == "tool_use"
            assert req["tools"][0]["input_schema"]["type"] == "object"
        if spec.images:
            blocks = req["messages"][-1]["content"]
            assert [b["type"] for b in blocks] == ["image", "image", "text"]
            assert blocks[0]["source"]["type"] == "url"
        if spec.final_is_tool_result:
            last = req["messages"][-1]["content"][0]
            assert last["type"] == "tool_result" and last["tool_use_id"].startswith("toolu_")
            assert req["messages"][-2]["content"][-1]["type"] == "tool_use"


def test_openai_chat_shape():
    for spec in _specs("openai_chat"):
        req, resp = _render(spec)
        assert resp["object"] == "chat.completion" and isinstance(resp["created"], int)
        choice = resp["choices"][0]
        assert choice["message"]["role"] == "assistant"
        assert (
            resp["usage"]["total_tokens"]
            == resp["usage"]["prompt_tokens"] + resp["usage"]["completion_tokens"]
        )
        if spec.effort:
            assert req["reasoning_effort"] == "high" and "max_completion_tokens" in req
            assert resp["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0
        if spec.call_tool:
            call = choice["message"]["tool_calls"][0]
            assert choice["finish_reason"] == "tool_calls" and orjson.loads(call["function"]["arguments"])
        if spec.images:
            assert [b["type"] for b in req["messages"][-1]["content"]] == ["image_url", "image_url", "text"]
        if spec.final_is_tool_result:
            assert req["messages"][-1]["role"] == "tool"
            assert req["messages"][-2]["tool_calls"][0]["id"] == req["messages"][-1]["tool_call_id"]


def test_openai_responses_shape():
    for spec in _specs("openai_responses"):
        req, resp = _render(spec)
        assert resp["object"] == "response" and resp["status"] == "completed"
        kinds = [item["type"] for item in resp["output"]]
        if spec.effort:
            assert req["reasoning"]["effort"] == "high" and kinds[0] == "reasoning"
            assert resp["usage"]["output_tokens_details"]["reasoning_tokens"] > 0
        if spec.call_tool:
            assert "function_call" in kinds
        if spec.images:
            kinds = [b["type"] for b in req["input"][-1]["content"]]
            assert kinds == ["input_image", "input_image", "input_text"]
        if spec.final_is_tool_result:
            assert req["input"][-1]["type"] == "function_call_output"
            assert req["input"][-2]["call_id"] == req["input"][-1]["call_id"]


def test_bodies_validate_with_official_sdks():
    anthropic = pytest.importorskip("anthropic")
    openai = pytest.importorskip("openai")
    from pydantic import TypeAdapter

    checks = {
        "anthropic_messages": (
            anthropic.types.Message,
            TypeAdapter(anthropic.types.message_create_params.MessageCreateParamsNonStreaming),
        ),
        "openai_chat": (
            openai.types.chat.ChatCompletion,
            TypeAdapter(openai.types.chat.completion_create_params.CompletionCreateParamsNonStreaming),
        ),
        "openai_responses": (
            openai.types.responses.Response,
            TypeAdapter(openai.types.responses.response_create_params.ResponseCreateParamsNonStreaming),
        ),
    }
    for flavor, (response_type, request_type) in checks.items():
        for spec in _specs(flavor):
            req, resp = _render(spec)
            response_type.model_validate(resp)
            request_type.validate_python(req)


def test_error_bodies_are_json_per_flavour():
    for (flavor, status), body in ERROR_BODIES.items():
        parsed = orjson.loads(body)
        assert status in (429, 500, 529)
        assert ("error" in parsed) and (
            parsed.get("type") == "error" if flavor == 0 else "message" in parsed["error"]
        )
