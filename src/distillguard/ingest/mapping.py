"""Declared field mappings: other log layouts come in through YAML, not code.

A mapping names, for each field of the exchange contract, where the value sits in the source
record (a dotted path, a template over several paths, or a constant). The request is either a whole
body found at a path (kept with its own flavour), or built from flat fields (prompt, system prompt,
model, max_tokens, ...) into a synthetic request whose flavour is "mapped".
See docs/data-contracts.md for the format.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from distillguard.config import describe_yaml_error
from distillguard.ingest.parse_body import decode_body
from distillguard.ingest.timestamps import TIMESTAMP_FORMATS

# Contract fields a mapping may fill from the source record.
RECORD_FIELDS = (
    "id",
    "ts",
    "account_id",
    "api_key_id",
    "client_ip",
    "asn",
    "user_agent",
    "client_fp",
    "status",
    "latency_ms",
)
# Columns a mapping may set directly (they override what the bodies give).
USAGE_FIELDS = ("input_tokens", "output_tokens", "reasoning_tokens", "response_chars", "reasoning_chars")
# Flat fields that build a synthetic request.
REQUEST_FIELDS = ("model", "prompt", "system", "max_tokens", "temperature", "top_p", "stream")

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class MappingError(ValueError):
    """A field mapping file is invalid; the message names the file and the field."""


class FieldSpec(BaseModel):
    """Where one value comes from: exactly one of path, template or value."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str | None = None  # dotted path into the source record: "meta.client.ip", "items.0.id"
    template: str | None = None  # "AS{asn_number}": null when any placeholder is null
    value: Any = None  # a constant

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        given = [n for n in ("path", "template", "value") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of path, template, value")
        return self


def _coerce_spec(value: Any) -> Any:
    return {"path": value} if isinstance(value, str) else value


class BodySpec(BaseModel):
    """The request (or response) body: a whole body at `body`, or flat fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    body: FieldSpec | None = None
    model: FieldSpec | None = None
    prompt: FieldSpec | None = None
    system: FieldSpec | None = None
    max_tokens: FieldSpec | None = None
    temperature: FieldSpec | None = None
    top_p: FieldSpec | None = None
    stream: FieldSpec | None = None
    text: FieldSpec | None = None  # response only: the answer text

    @field_validator("*", mode="before")
    @classmethod
    def _paths(cls, value: Any) -> Any:
        return _coerce_spec(value)


class FieldMapping(BaseModel):
    """A validated field mapping (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str = ""
    timestamp_format: str = "auto"
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    _plans: dict[str, tuple] = PrivateAttr(default_factory=dict)
    request: BodySpec = Field(default_factory=BodySpec)
    response: BodySpec | None = None

    @field_validator("fields", mode="before")
    @classmethod
    def _paths(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: _coerce_spec(v) for k, v in value.items()}

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        allowed = set(RECORD_FIELDS) | set(USAGE_FIELDS)
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; allowed: {sorted(allowed)}")
        for required in ("ts", "account_id"):
            if required not in value:
                raise ValueError(f"the mapping must say where {required!r} comes from")
        return value

    @field_validator("timestamp_format")
    @classmethod
    def _ts_format(cls, value: str) -> str:
        if value not in TIMESTAMP_FORMATS and "%" not in value:
            raise ValueError(f"timestamp_format must be one of {TIMESTAMP_FORMATS} or a strptime pattern")
        return value

    @model_validator(mode="after")
    def _request_source(self) -> FieldMapping:
        req = self.request
        if req.body is None and req.prompt is None:
            raise ValueError("request needs `body` (a whole request body) or `prompt` (flat fields)")
        return self

    def model_post_init(self, context: Any) -> None:
        self._plans = {name: _compile(spec) for name, spec in self.fields.items()}

    def to_record(self, source: dict) -> dict[str, Any]:
        """Rewrite one source record into the exchange contract's shape.

        The result has the contract's keys (ts, account_id, request, response, ...) plus the
        usage overrides; `request` is the body found at `request.body`, or a synthetic OpenAI-chat
        shaped body built from the flat fields and marked with `_mapped`.
        """
        out = {name: _read(plan, source) for name, plan in self._plans.items()}
        out["request"] = self._body(self.request, source, request=True)
        if self.response is not None:
            out["response"] = self._body(self.response, source, request=False)
        return out

    def _body(self, spec: BodySpec, source: dict, *, request: bool) -> Any:
        if spec.body is not None:
            return decode_body(_read(_compile(spec.body), source))
        if not request:
            text = _read(_compile(spec.text), source) if spec.text else None
            return {"_mapped": True, "text": text if isinstance(text, str) else None}
        prompt = _read(_compile(spec.prompt), source) if spec.prompt else None
        system = _read(_compile(spec.system), source) if spec.system else None
        messages = []
        if isinstance(system, str) and system:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": prompt if isinstance(prompt, str) else ""})
        body: dict[str, Any] = {"_mapped": True, "messages": messages}
        for key in ("model", "max_tokens", "temperature", "top_p", "stream"):
            field_spec = getattr(spec, key)
            if field_spec is not None:
                body[key] = _read(_compile(field_spec), source)
        return body


def _split(path: str) -> tuple[str | int, ...]:
    return tuple(int(p) if p.isdigit() else p for p in path.split("."))


def _get_path(record: Any, parts: tuple[str | int, ...]) -> Any:
    for part in parts:
        if isinstance(record, dict):
            record = record.get(part if isinstance(part, str) else str(part))
        elif isinstance(record, list) and isinstance(part, int):
            record = record[part] if part < len(record) else None
        else:
            return None
        if record is None:
            return None
    return record


def _compile(spec: FieldSpec) -> tuple:
    """A picklable plan for reading one value (mappings travel to worker processes)."""
    if spec.path is not None:
        return ("path", _split(spec.path))
    if spec.template is not None:
        names = tuple((m.group(0), _split(m.group(1))) for m in _PLACEHOLDER.finditer(spec.template))
        return ("template", spec.template, names)
    return ("value", spec.value)


def _read(plan: tuple, record: dict) -> Any:
    kind = plan[0]
    if kind == "path":
        parts = plan[1]
        return record.get(parts[0]) if len(parts) == 1 else _get_path(record, parts)
    if kind == "template":
        text = plan[1]
        for token, parts in plan[2]:
            value = _get_path(record, parts)
            if value is None:
                return None
            text = text.replace(token, str(value))
        return text
    return plan[1]


def load_mapping(path_or_name: str | Path) -> FieldMapping:
    """Load and validate a field mapping from a YAML file, or a built-in one by name.

    Built-in names: the files in distillguard/ingest/mappings/ ("glasswally"). Raises
    MappingError with the file and the failing field in its message.
    """
    text_path = str(path_or_name)
    builtin = resources.files("distillguard.ingest") / "mappings" / f"{text_path}.yaml"
    if not text_path.endswith((".yaml", ".yml")) and builtin.is_file():
        label, text = f"built-in mapping {text_path!r}", builtin.read_text(encoding="utf-8")
    else:
        path = Path(path_or_name)
        if not path.is_file():
            names = ", ".join(sorted(builtin_mappings()))
            raise MappingError(f"{path}: no such mapping file (built-in mappings: {names})")
        label = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MappingError(f"{path}: cannot read mapping: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"{label}: {describe_yaml_error(exc)}") from None
    if not isinstance(data, dict):
        raise MappingError(f"{label}: a mapping file must hold a YAML mapping at its top level")
    try:
        return FieldMapping.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise MappingError(f"{label}: {problems}") from None


def builtin_mappings() -> list[str]:
    """Names of the mappings shipped with distillguard."""
    folder = resources.files("distillguard.ingest") / "mappings"
    return sorted(p.name.rsplit(".", 1)[0] for p in folder.iterdir() if p.name.endswith(".yaml"))
