"""Read provider request/response bodies as they are sent and received.

`extract` detects the API flavour from the body's shape (Anthropic Messages, OpenAI Chat
Completions, OpenAI Responses) and returns the exchange columns that come from the bodies. It is
pure and tolerant: a field of an unexpected type is ignored, never an exception, because the
gateway calls it on every live request and the batch scan on every logged one.
"""

from __future__ import annotations

from typing import Any

import orjson
import xxhash

from distillguard.ingest.streams import read_stream

ANTHROPIC = "anthropic_messages"
OPENAI_CHAT = "openai_chat"
OPENAI_RESPONSES = "openai_responses"

# Keys that only one flavour uses at the top level of a request body.
_ANTHROPIC_REQUEST_KEYS = frozenset({"system", "thinking", "top_k", "stop_sequences", "anthropic_version"})
_OPENAI_CHAT_REQUEST_KEYS = frozenset(
    {
        "max_completion_tokens",
        "reasoning_effort",
        "n",
        "response_format",
        "frequency_penalty",
        "presence_penalty",
        "logprobs",
        "top_logprobs",
        "logit_bias",
        "seed",
        "stream_options",
        "functions",
        "function_call",
        "modalities",
        "audio",
    }
)
# Block types seen only in Anthropic message content.
_ANTHROPIC_BLOCKS = frozenset(
    {"tool_use", "tool_result", "thinking", "redacted_thinking", "document", "server_tool_use"}
)

EXTRACT_COLUMNS: tuple[str, ...] = (
    "flavor",
    "model",
    "system_text",
    "user_text",
    "turns",
    "tool_count",
    "tool_names",
    "tool_schema_fp",
    "tool_result_count",
    "image_count",
    "thinking_requested",
    "thinking_budget",
    "reasoning_effort",
    "temperature",
    "top_p",
    "max_tokens",
    "stream",
    "response_chars",
    "reasoning_chars",
    "response_tool_calls",
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
)
_EMPTY_ROW: dict[str, Any] = dict.fromkeys(EXTRACT_COLUMNS)  # copied per call: cheaper than fromkeys


def decode_body(body: Any) -> Any:
    """A request or response body as logged: an object, or its JSON text (warehouse exports and
    gateways often store bodies as text), read as the object. Text that is not JSON stays text."""
    if isinstance(body, str | bytes):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
    return body


def detect_flavor(request: dict, response: dict | None = None) -> str:
    """Name the API flavour of an exchange from the shape of its bodies."""
    if isinstance(response, dict):
        if response.get("object") == "response" or isinstance(response.get("output"), list):
            return OPENAI_RESPONSES
        if isinstance(response.get("choices"), list):
            return OPENAI_CHAT
        if response.get("type") == "message" or response.get("stop_reason") is not None:
            return ANTHROPIC
    if request.get("messages") is None and (
        request.get("input") is not None or request.get("instructions") is not None
    ):
        return OPENAI_RESPONSES
    # `is not None`: columnar sources fill absent keys with nulls.
    anthropic = sum(1 for k in _ANTHROPIC_REQUEST_KEYS if request.get(k) is not None)
    openai = sum(1 for k in _OPENAI_CHAT_REQUEST_KEYS if request.get(k) is not None)
    tools = request.get("tools")
    if isinstance(tools, list) and tools and isinstance(tools[0], dict):
        if tools[0].get("input_schema") is not None:
            anthropic += 1
        elif tools[0].get("function") is not None:
            openai += 1
    messages = request.get("messages")
    if isinstance(messages, list):
        for msg in messages:
            if not isinstance(msg, dict):
                continue
            role = msg.get("role")
            if role in ("system", "developer", "tool", "function") or msg.get("tool_calls") is not None:
                openai += 1
                break
            content = msg.get("content")
            if isinstance(content, list):
                for block in content:
                    if isinstance(block, dict):
                        kind = block.get("type")
                        if kind in _ANTHROPIC_BLOCKS or (kind == "image" and block.get("source") is not None):
                            anthropic += 1
                        elif kind in ("image_url", "input_audio", "file"):
                            openai += 1
    if anthropic > openai:
        return ANTHROPIC
    if openai > anthropic:
        return OPENAI_CHAT
    # Anthropic requires max_tokens; a bare chat request without it is OpenAI's.
    return ANTHROPIC if request.get("max_tokens") is not None else OPENAI_CHAT


def _text_of(content: Any) -> str:
    """Text of a message `content`: a string, or the text parts of a list of blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            b["text"]
            for b in content
            if isinstance(b, dict)
            and b.get("type") in ("text", "input_text", "output_text")
            and isinstance(b.get("text"), str)
        ]
        return "\n".join(parts)
    return ""


def _count_blocks(content: Any, kinds: tuple[str, ...]) -> int:
    if not isinstance(content, list):
        return 0
    return sum(1 for b in content if isinstance(b, dict) and b.get("type") in kinds)


_INT64 = 1 << 63


def _num(value: Any) -> float | None:
    if type(value) is float:  # the common cases first: bool and subclasses take the full path
        return value
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def as_int(value: Any, bits: int = 64) -> int | None:
    """`value` as an integer column value: None unless a finite number within a signed `bits` range."""
    if type(value) is not int:  # a plain int (the common case) needs only the range check
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                return None
            value = int(value)
    limit = _INT64 if bits == 64 else 1 << (bits - 1)
    return value if -limit <= value < limit else None


_int = as_int


def _tool_name(tool: Any) -> str | None:
    if not isinstance(tool, dict):
        return None
    fn = tool.get("function")
    if isinstance(fn, dict) and isinstance(fn.get("name"), str):
        return fn["name"]
    name = tool.get("name")
    if isinstance(name, str):
        return name
    kind = tool.get("type")  # built-in tools (web_search, computer_use, ...) carry only a type
    return kind if isinstance(kind, str) else None


def _tools(request: dict, out: dict) -> None:
    tools = request.get("tools")
    if not isinstance(tools, list) or not tools:
        tools = request.get("functions")  # legacy OpenAI chat functions
    if not isinstance(tools, list) or not tools:
        out["tool_count"] = 0
        out["tool_names"] = None
        out["tool_schema_fp"] = None
        return
    names = sorted({n for n in map(_tool_name, tools) if n})
    out["tool_count"] = len(tools)
    out["tool_names"] = ",".join(names) if names else None
    try:
        canonical = orjson.dumps(tools, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # not JSON-native (only possible for bodies built in code, not parsed ones)
        canonical = repr(tools).encode()
    out["tool_schema_fp"] = xxhash.xxh3_64_hexdigest(canonical)


def _anthropic_request(request: dict, out: dict) -> None:
    system = request.get("system")
    out["system_text"] = _text_of(system) or None
    messages = request.get("messages")
    messages = messages if isinstance(messages, list) else []
    out["turns"] = len(messages)
    user_text = None
    tool_results = images = 0
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        content = msg.get("content")
        if isinstance(content, list):
            for block in content:
                kind = block.get("type") if isinstance(block, dict) else None
                if kind == "tool_result":
                    tool_results += 1
                    images += _count_blocks(block.get("content"), ("image",))  # images sent back
                elif kind == "image":
                    images += 1
        if msg.get("role") == "user":
            text = _text_of(content)
            if text:
                user_text = text
    out["user_text"] = user_text
    out["tool_result_count"] = tool_results
    out["image_count"] = images
    thinking = request.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        out["thinking_requested"] = True
        out["thinking_budget"] = _int(thinking.get("budget_tokens"))
    out["max_tokens"] = _int(request.get("max_tokens"))


def _chat_request(request: dict, out: dict) -> None:
    messages = request.get("messages")
    messages = messages if isinstance(messages, list) else []
    out["turns"] = len(messages)
    system_parts: list[str] = []
    user_text = None
    tool_results = images = 0
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        role = msg.get("role")
        content = msg.get("content")
        if role in ("system", "developer"):
            text = _text_of(content)
            if text:
                system_parts.append(text)
        elif role == "user":
            text = _text_of(content)
            if text:
                user_text = text
            images += _count_blocks(content, ("image_url", "image"))
        elif role in ("tool", "function"):
            tool_results += 1
    out["system_text"] = "\n".join(system_parts) or None
    out["user_text"] = user_text
    out["tool_result_count"] = tool_results
    out["image_count"] = images
    effort = request.get("reasoning_effort")
    if isinstance(effort, str):
        out["reasoning_effort"] = effort
        out["thinking_requested"] = effort != "none"
    mt = request.get("max_completion_tokens")
    out["max_tokens"] = _int(mt if mt is not None else request.get("max_tokens"))


def _responses_request(request: dict, out: dict) -> None:
    system_parts: list[str] = []
    instructions = request.get("instructions")
    if isinstance(instructions, str) and instructions:
        system_parts.append(instructions)
    items = request.get("input")
    user_text = None
    tool_results = images = turns = 0
    if isinstance(items, str):
        user_text = items or None
        turns = 1
    elif isinstance(items, list):
        turns = len(items)
        for item in items:
            if not isinstance(item, dict):
                continue
            kind = item.get("type")
            if kind == "function_call_output" or (isinstance(kind, str) and kind.endswith("_call_output")):
                tool_results += 1
                continue
            role = item.get("role")
            if role is None:
                continue
            content = item.get("content")
            if role in ("system", "developer"):
                text = _text_of(content)
                if text:
                    system_parts.append(text)
            elif role == "user":
                text = _text_of(content)
                if text:
                    user_text = text
                images += _count_blocks(content, ("input_image",))
    out["system_text"] = "\n".join(system_parts) or None
    out["user_text"] = user_text
    out["turns"] = turns
    out["tool_result_count"] = tool_results
    out["image_count"] = images
    reasoning = request.get("reasoning")
    if isinstance(reasoning, dict):
        effort = reasoning.get("effort")
        if isinstance(effort, str):
            out["reasoning_effort"] = effort
        out["thinking_requested"] = effort != "none" if isinstance(effort, str) else bool(reasoning)
    out["max_tokens"] = _int(request.get("max_output_tokens"))


def _anthropic_response(response: dict, out: dict) -> None:
    answer = reasoning = calls = 0
    content = response.get("content")
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str):
                answer += len(block["text"])
            elif kind == "thinking" and isinstance(block.get("thinking"), str):
                reasoning += len(block["thinking"])
            elif kind in ("tool_use", "server_tool_use"):
                calls += 1
    out["response_chars"] = answer
    out["reasoning_chars"] = reasoning
    out["response_tool_calls"] = calls
    usage = response.get("usage")
    if isinstance(usage, dict):
        inp = _int(usage.get("input_tokens"))
        if inp is not None:  # prompt tokens served from or written to the cache are input too
            inp += (_int(usage.get("cache_read_input_tokens")) or 0) + (
                _int(usage.get("cache_creation_input_tokens")) or 0
            )
        out["input_tokens"] = inp
        out["output_tokens"] = _int(usage.get("output_tokens"))


# The usage fields of each OpenAI flavour: input tokens, output tokens, output token details.
_CHAT_USAGE = ("prompt_tokens", "completion_tokens", "completion_tokens_details")
_RESPONSES_USAGE = ("input_tokens", "output_tokens", "output_tokens_details")


def _openai_counts(
    out: dict, answer: int, reasoning: int, calls: int, usage: object, fields: tuple[str, str, str]
) -> None:
    """Store the answer counts and OpenAI usage; `fields` name the flavour's usage fields."""
    out["response_chars"] = answer
    out["reasoning_chars"] = reasoning
    out["response_tool_calls"] = calls
    if isinstance(usage, dict):
        inp, outp, details_field = fields
        out["input_tokens"] = _int(usage.get(inp))
        out["output_tokens"] = _int(usage.get(outp))
        details = usage.get(details_field)
        if isinstance(details, dict):
            out["reasoning_tokens"] = _int(details.get("reasoning_tokens"))


def _chat_response(response: dict, out: dict) -> None:
    answer = reasoning = calls = 0
    choices = response.get("choices")
    for choice in choices if isinstance(choices, list) else ():
        msg = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(msg, dict):
            continue
        answer += len(_text_of(msg.get("content")))
        for key in ("reasoning_content", "reasoning"):  # reasoning returned by compatible servers
            if isinstance(msg.get(key), str):
                reasoning += len(msg[key])
        tool_calls = msg.get("tool_calls")
        if isinstance(tool_calls, list):
            calls += len(tool_calls)
        elif isinstance(msg.get("function_call"), dict):
            calls += 1
    _openai_counts(out, answer, reasoning, calls, response.get("usage"), _CHAT_USAGE)


def _responses_response(response: dict, out: dict) -> None:
    answer = reasoning = calls = 0
    output = response.get("output")
    for item in output if isinstance(output, list) else ():
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "message":
            answer += len(_text_of(item.get("content")))
        elif kind == "reasoning":
            for key in ("summary", "content"):
                parts = item.get(key)
                for part in parts if isinstance(parts, list) else ():
                    if isinstance(part, dict) and isinstance(part.get("text"), str):
                        reasoning += len(part["text"])
        elif isinstance(kind, str) and kind.endswith("_call"):
            calls += 1
    _openai_counts(out, answer, reasoning, calls, response.get("usage"), _RESPONSES_USAGE)


_REQUEST = {ANTHROPIC: _anthropic_request, OPENAI_CHAT: _chat_request, OPENAI_RESPONSES: _responses_request}
_RESPONSE = {
    ANTHROPIC: _anthropic_response,
    OPENAI_CHAT: _chat_response,
    OPENAI_RESPONSES: _responses_response,
}


def extract(request: dict, response: dict | list | str | None = None) -> dict[str, Any]:
    """Return the body-derived exchange columns (`EXTRACT_COLUMNS`) of one exchange.

    `response` may be None (a live request not yet answered); the response columns are then None.
    A streamed response logged as its events (a list, or server-sent-events text) is read as the
    response it adds up to (`streams.read_stream`).
    Never raises on an unexpected shape; a non-dict `request` gives an empty row of flavour None.
    """
    out = _EMPTY_ROW.copy()
    if not isinstance(request, dict):
        return out
    if isinstance(response, list | str | bytes):  # a streamed response, logged as its events
        try:
            response = read_stream(response)
        except (TypeError, ValueError, AttributeError, KeyError):  # a shape no stream has: no response
            response = None
    if not isinstance(response, dict):
        response = None
    flavor = detect_flavor(request, response)
    out["flavor"] = flavor
    model = request.get("model")
    if not isinstance(model, str) and response is not None:
        model = response.get("model")
    out["model"] = model if isinstance(model, str) else None
    out["thinking_requested"] = False
    _REQUEST[flavor](request, out)
    _tools(request, out)
    out["temperature"] = _num(request.get("temperature"))
    out["top_p"] = _num(request.get("top_p"))
    out["stream"] = request.get("stream") is True
    if response is not None:
        _RESPONSE[flavor](response, out)
    return out
