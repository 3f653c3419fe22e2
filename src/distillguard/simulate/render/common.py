"""Helpers shared by the three API shapes: user content with images, token counts, ids, tool arguments."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import xxhash

from distillguard.simulate.draws import pick
from distillguard.simulate.spec import RequestSpec
from distillguard.simulate.text import TextBank

# A serving fleet reports a handful of backend configurations (`system_fingerprint`).
FINGERPRINTS = ("fp_3a1c9e0b52", "fp_7d24f6aa10", "fp_b80e13c4d9", "fp_52c7e9f031", "fp_e4a90b7d66")


def user_content(spec: RequestSpec, flavor: int) -> str | list[dict[str, Any]]:
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


def tokens(chars: int) -> int:
    """Approximate tokens of `chars` characters (about four characters a token)."""
    return max(1, chars // 4)


def ident(prefix: str, idx: int, rng: np.random.Generator, n: int = 24) -> str:
    """A provider-style object id (`toolu_`, `call_`, `rs_` ...), unique per body and draw."""
    h = xxhash.xxh128_hexdigest(b"%d:%r" % (idx, rng.random()))
    return prefix + h[:n]


def tool_args(tool: dict[str, Any], rng: np.random.Generator, text: TextBank) -> dict[str, Any]:
    """Plausible arguments for a call of `tool`, filling its required parameters by type."""
    schema = tool.get("parameters") or tool.get("input_schema") or {}
    props = schema.get("properties") or {}
    required = schema.get("required") or list(props)[:1]
    args: dict[str, Any] = {}
    for name in required:
        prop = props.get(name) or {}
        kind = prop.get("type", "string")
        if prop.get("enum"):
            args[name] = pick(rng, prop["enum"])
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


def signature(rng: np.random.Generator) -> str:
    """An opaque thinking-block signature."""
    return base64.b64encode(rng.bytes(96)).decode()
