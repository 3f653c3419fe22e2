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

import numpy as np
import orjson

from distillguard.simulate.render import anthropic, openai_chat, openai_responses
from distillguard.simulate.render.common import tool_args
from distillguard.simulate.spec import FLAVOR_CODES, RequestSpec, Turn
from distillguard.simulate.text import TextBank

__all__ = ["ERROR_BODIES", "FLAVOR_CODES", "BodyPool", "RequestSpec", "Turn", "tool_args"]


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


_RENDERERS = {
    "anthropic_messages": anthropic.render,
    "openai_chat": openai_chat.render,
    "openai_responses": openai_responses.render,
}

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
