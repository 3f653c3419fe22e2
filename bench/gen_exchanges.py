"""Realistic exchange logs for benchmarks: Anthropic Messages, OpenAI Chat and OpenAI Responses
bodies with tool schemas, thinking / reasoning blocks, multi-turn tool loops and usage, ~2 KB each.

Prompts come from the real corpora in ../shared/corpora when present (synthetic text otherwise).
Deterministic for a seed. Used by bench/scan.py when the simulator is not installed or when an
exact exchange count is wanted.

    python bench/gen_exchanges.py --exchanges 80000 --out bench/.data/exchanges-80000.jsonl
"""

from __future__ import annotations

import argparse
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

CORPORA = Path(
    os.environ.get("DISTILLGUARD_CORPORA", Path(__file__).resolve().parents[2] / "shared" / "corpora")
)
WORDS = [
    "the",
    "model",
    "answer",
    "step",
    "reasoning",
    "explain",
    "data",
    "function",
    "value",
    "result",
    "first",
    "then",
    "because",
    "check",
    "list",
    "table",
    "code",
    "error",
    "test",
    "input",
    "output",
    "user",
    "system",
    "request",
    "tool",
    "call",
    "return",
]


def _prompts(rng: random.Random) -> tuple[list[str], list[list[dict]]]:
    texts: list[str] = []
    tools: list[list[dict]] = []
    if CORPORA.is_dir():
        for path in sorted(CORPORA.glob("*.jsonl")):
            for line in path.open("rb"):
                rec = orjson.loads(line)
                texts.append(rec["text"][:1500])
                if rec.get("tools"):
                    tools.append(rec["tools"])
    if not texts:
        texts = [" ".join(rng.choices(WORDS, k=rng.randint(8, 60))) for _ in range(5000)]
    if not tools:
        tools = [
            [
                {
                    "name": f"tool_{i}",
                    "description": "Look up a value.",
                    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
                }
            ]
            for i in range(50)
        ]
    return texts, tools


def _filler(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)


def _anthropic(rng: random.Random, prompt: str, tools: list[dict], model: str) -> tuple[dict, dict]:
    request: dict = {"model": model, "max_tokens": rng.choice([1024, 2048, 4096, 8192])}
    if rng.random() < 0.6:
        request["system"] = "You are a helpful assistant for a developer platform. " + _filler(rng, 120)
    messages: list[dict] = [{"role": "user", "content": prompt}]
    if tools and rng.random() < 0.7:
        request["tools"] = [
            {
                "name": t["name"],
                "description": t.get("description", ""),
                "input_schema": t.get("parameters", {}),
            }
            for t in tools
        ]
        if rng.random() < 0.5:
            messages += [
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "Let me look that up."},
                        {"type": "tool_use", "id": "toolu_01", "name": tools[0]["name"], "input": {"q": "x"}},
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_01", "content": _filler(rng, 200)}
                    ],
                },
            ]
    if rng.random() < 0.5:
        request["thinking"] = {"type": "enabled", "budget_tokens": rng.choice([1024, 4096, 16000])}
    if rng.random() < 0.3:
        request["temperature"] = round(rng.random(), 2)
    request["messages"] = messages
    content: list[dict] = []
    if "thinking" in request:
        content.append({"type": "thinking", "thinking": _filler(rng, 350), "signature": "EqQBCgIYAhIM" * 4})
    content.append({"type": "text", "text": _filler(rng, rng.randint(150, 600))})
    response = {
        "id": f"msg_{rng.getrandbits(64):016x}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "end_turn",
        "usage": {"input_tokens": rng.randint(50, 3000), "output_tokens": rng.randint(50, 2000)},
    }
    return request, response


def _chat(rng: random.Random, prompt: str, tools: list[dict], model: str) -> tuple[dict, dict]:
    messages: list[dict] = []
    if rng.random() < 0.6:
        messages.append({"role": "system", "content": "You are a coding assistant. " + _filler(rng, 120)})
    messages.append({"role": "user", "content": prompt})
    request: dict = {"model": model, "messages": messages}
    if tools and rng.random() < 0.7:
        request["tools"] = [{"type": "function", "function": t} for t in tools]
        if rng.random() < 0.5:
            messages += [
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": tools[0]["name"], "arguments": '{"q": "x"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": _filler(rng, 200)},
            ]
    if rng.random() < 0.4:
        request["reasoning_effort"] = rng.choice(["low", "medium", "high"])
    request["max_completion_tokens"] = rng.choice([1024, 4096])
    message: dict = {"role": "assistant", "content": _filler(rng, rng.randint(150, 600))}
    response = {
        "id": f"chatcmpl-{rng.getrandbits(64):016x}",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": rng.randint(50, 3000),
            "completion_tokens": rng.randint(50, 2000),
            "completion_tokens_details": {"reasoning_tokens": rng.randint(0, 1500)},
        },
    }
    return request, response


def _responses(rng: random.Random, prompt: str, tools: list[dict], model: str) -> tuple[dict, dict]:
    request: dict = {
        "model": model,
        "input": [{"role": "user", "content": [{"type": "input_text", "text": prompt}]}],
    }
    if rng.random() < 0.6:
        request["instructions"] = "Answer precisely. " + _filler(rng, 100)
    if tools and rng.random() < 0.6:
        request["tools"] = [{"type": "function", **t} for t in tools]
    request["reasoning"] = {"effort": rng.choice(["low", "medium", "high"]), "summary": "auto"}
    output = [
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": _filler(rng, 400)}]},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": _filler(rng, rng.randint(150, 600))}],
        },
    ]
    response = {
        "id": f"resp_{rng.getrandbits(64):016x}",
        "object": "response",
        "model": model,
        "output": output,
        "usage": {
            "input_tokens": rng.randint(50, 3000),
            "output_tokens": rng.randint(50, 2000),
            "output_tokens_details": {"reasoning_tokens": rng.randint(0, 1500)},
        },
    }
    return request, response


def generate(path: Path, exchanges: int, seed: int = 0) -> Path:
    """Write `exchanges` records to `path` (JSON Lines) and return it."""
    rng = random.Random(seed)
    texts, toolsets = _prompts(rng)
    n_accounts = max(10, exchanges // 40)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    span = 86400.0
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        for i in range(exchanges):
            account = rng.randrange(n_accounts)
            prompt = rng.choice(texts)
            tools = rng.choice(toolsets)[:2] if rng.random() < 0.5 else []
            kind = rng.random()
            if kind < 0.45:
                request, response = _anthropic(
                    rng, prompt, tools, rng.choice(["claude-sonnet-4-5", "claude-opus-4-1"])
                )
            elif kind < 0.8:
                request, response = _chat(rng, prompt, tools, rng.choice(["gpt-4.1", "o4-mini"]))
            else:
                request, response = _responses(rng, prompt, tools, rng.choice(["gpt-5", "o3"]))
            ts = start + timedelta(seconds=span * i / exchanges + rng.random())
            record = {
                "id": f"ex-{seed}-{i:09d}",
                "ts": ts.isoformat().replace("+00:00", "Z"),
                "account_id": f"acct-{account:06d}",
                "api_key_id": f"key-{account:06d}-{rng.randrange(3)}",
                "client_ip": f"10.{account % 256}.{rng.randrange(256)}.{rng.randrange(256)}",
                "user_agent": rng.choice(["anthropic-python/0.64.0", "openai-python/1.99.1", "curl/8.5.0"]),
                "request": request,
                "response": response,
                "status": 200,
                "latency_ms": round(rng.uniform(300, 30000), 1),
            }
            fh.write(orjson.dumps(record) + b"\n")
    tmp.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exchanges", type=int, default=80_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    generate(args.out, args.exchanges, args.seed)


if __name__ == "__main__":
    main()
