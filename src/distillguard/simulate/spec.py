"""What one API call asks for, independent of the API shape it is rendered in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FLAVOR_CODES = {"anthropic_messages": 0, "openai_chat": 1, "openai_responses": 2}

# ("user", text) | ("assistant", text) | ("tool_call", id, name, args) | ("tool_result", id, text)
Turn = tuple[Any, ...]


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
