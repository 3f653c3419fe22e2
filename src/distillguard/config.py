"""The scan configuration: one YAML file, one section per pipeline stage.

Each stage validates its own section with its own model; this module only checks the top level
(known sections, types) and names the file and field in every error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class ConfigError(ValueError):
    """The configuration file is invalid; the message names the file and the field."""


def describe_yaml_error(exc: yaml.YAMLError) -> str:
    """A YAML parse error on one line: where it is and what is wrong."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"not valid YAML{where}: {problem}"


def _default_threshold() -> float:
    try:
        from distillguard.decide import DEFAULT_THRESHOLD
    except ImportError:  # the decide stage reports its own absence when the scan reaches it
        return 0.5
    return float(DEFAULT_THRESHOLD)


class ScanConfig(BaseModel):
    """Options of a scan. Sections other than `threshold` and `mapping` belong to their stage."""

    model_config = ConfigDict(extra="forbid")
    threshold: float = Field(default_factory=_default_threshold)  # risk at which an account is flagged
    mapping: str | None = None  # built-in mapping name or YAML file for non-contract log layouts
    signals: dict[str, Any] = Field(default_factory=dict)
    link: dict[str, Any] = Field(default_factory=dict)
    detect: dict[str, Any] = Field(default_factory=dict)  # per detector id: options, `enabled`
    decide: dict[str, Any] = Field(default_factory=dict)
    share: dict[str, Any] = Field(default_factory=dict)  # provider_name, pseudonym key env var, ...

    @field_validator("threshold")
    @classmethod
    def _in_unit_interval(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise ValueError("must be between 0 and 1")
        return value


def load_config(path: str | Path | None = None, **overrides: Any) -> ScanConfig:
    """Load a ScanConfig from YAML (defaults when `path` is None); `overrides` win over the file.

    Raises ConfigError naming the file and the offending field.
    """
    data: dict[str, Any] = {}
    label = "configuration"
    if path is not None:
        label = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{label}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{label}: {describe_yaml_error(exc)}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{label}: the top level must be a mapping of sections")
        data = loaded or {}
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return ScanConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{label}: {problems}") from None
