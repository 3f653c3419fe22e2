"""What an action does to a response: provider-shaped errors and reasoning withholding (JSON).

Errors carry the shape each provider's SDK parses, so clients raise their usual exception
classes: Anthropic `{"type": "error", "error": {"type", "message"}}` and OpenAI
`{"error": {"message", "type", "param", "code"}}`. A throttle is a 429 with `retry-after`; a
step-up or block is a 403 whose reason code travels in the body and in `x-distillguard-reason`.
Streaming withholding lives in `sse.py`.
"""

from __future__ import annotations

from typing import Any

import orjson

ANTHROPIC = "anthropic_messages"
OPENAI_CHAT = "openai_chat"
OPENAI_RESPONSES = "openai_responses"

# The API routes the gateway serves, and the flavour of each.
ROUTES: dict[str, str] = {
    "/v1/messages": ANTHROPIC,
    "/v1/chat/completions": OPENAI_CHAT,
    "/v1/responses": OPENAI_RESPONSES,
}

_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "api_error",
    529: "overloaded_error",
}
_OPENAI_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", "upstream_error"),
    503: ("server_error", "service_unavailable"),
    504: ("server_error", "upstream_timeout"),
}


def family_of(flavor_or_path: str, headers: list[tuple[bytes, bytes]] | None = None) -> str:
    """`anthropic` or `openai`: whose error shape a client on this route expects."""
    if flavor_or_path in (ANTHROPIC, "/v1/messages") or flavor_or_path.startswith("/v1/messages"):
        return "anthropic"
    if flavor_or_path in (OPENAI_CHAT, OPENAI_RESPONSES) or flavor_or_path.startswith(
        ("/v1/chat", "/v1/responses")
    ):
        return "openai"
    # Unknown route: an Anthropic client identifies itself by these headers.
    for name, _ in headers or ():
        if name in (b"anthropic-version", b"x-api-key"):
            return "anthropic"
    return "openai"


def error_body(family: str, status: int, message: str, code: str | None = None) -> bytes:
    """The JSON error body a provider's SDK expects for `status`."""
    if family == "anthropic":
        err: dict[str, Any] = {"type": _ANTHROPIC_TYPES.get(status, "api_error"), "message": message}
        if code:
            err["reason_code"] = code
        return orjson.dumps({"type": "error", "error": err})
    etype, ecode = _OPENAI_TYPES.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None)
    )
    return orjson.dumps({"error": {"message": message, "type": etype, "param": None, "code": code or ecode}})


def error_response(
    family: str, status: int, message: str, *, code: str | None = None, retry_after: int | None = None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """(status, headers, body) of a provider-shaped error."""
    body = error_body(family, status, message, code)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    if code:
        headers.append((b"x-distillguard-reason", code.encode()))
    return status, headers, body


async def send_error(send: Any, family: str, status: int, message: str, **kw: Any) -> bytes:
    """Send a provider-shaped error on an ASGI `send`; return the body sent (for the log)."""
    status, headers, body = error_response(family, status, message, **kw)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return body


def withhold_json(flavor: str, body: dict[str, Any], mode: str, summary: str) -> bool:
    """Remove (mode "remove") or replace by `summary` (mode "summary") the reasoning in a
    non-streaming response body, in place. Returns whether anything was withheld."""
    changed = False
    if flavor == ANTHROPIC:
        content = body.get("content")
        if isinstance(content, list):
            out = []
            for block in content:
                kind = block.get("type") if isinstance(block, dict) else None
                if kind == "thinking":
                    changed = True
                    if mode == "summary":
                        out.append({"type": "thinking", "thinking": summary, "signature": ""})
                    continue
                if kind == "redacted_thinking" and mode == "remove":
                    changed = True
                    continue
                out.append(block)
            body["content"] = out
    elif flavor == OPENAI_CHAT:
        for choice in body.get("choices") or ():
            msg = choice.get("message") if isinstance(choice, dict) else None
            if isinstance(msg, dict):
                changed |= _withhold_chat_fields(msg, mode, summary, first=True)
    elif flavor == OPENAI_RESPONSES:
        output = body.get("output")
        if isinstance(output, list):
            new_output = []
            for item in output:
                if isinstance(item, dict) and item.get("type") == "reasoning":
                    changed = True
                    if mode == "summary":
                        new_output.append(summarized_reasoning_item(item, summary))
                    continue
                new_output.append(item)
            body["output"] = new_output
    return changed


def summarized_reasoning_item(item: dict[str, Any], summary: str) -> dict[str, Any]:
    """A Responses `reasoning` item with its content dropped and its summary replaced."""
    out = {k: v for k, v in item.items() if k not in ("content", "encrypted_content", "summary")}
    out["summary"] = [{"type": "summary_text", "text": summary}]
    return out


_CHAT_REASONING_KEYS = ("reasoning_content", "reasoning", "reasoning_details")


def _withhold_chat_fields(msg: dict[str, Any], mode: str, summary: str, first: bool) -> bool:
    """Chat Completions reasoning fields (provider extensions) in a message or a stream delta."""
    changed = False
    for key in _CHAT_REASONING_KEYS:
        if key in msg and msg[key] not in (None, "", []):
            changed = True
            if mode == "summary" and first and key == "reasoning_content":
                msg[key] = summary
            else:
                del msg[key]
    return changed
