"""Policy: reviewable YAML rules that turn a request's features into an action.

A rule has an `id`, a `level`, a `description`, the `falsepositives` a reviewer should expect,
a `condition` over the features of `scoring.FEATURES`, and an `action`. Conditions are short
comparisons (`template_accounts >= 12`) combined with `all:` (every one holds) and/or `any:`
(at least one holds); they are parsed and type-checked when the policy loads, so a typo fails
at start-up with the file, line and rule id, never on a live request.

Evaluation: rules run in file order. A matching `allow` rule ends evaluation (put exemptions
first); otherwise the strongest action among all matching rules applies (block > step_up >
throttle > withhold_reasoning > shadow > allow), and every match is reported.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from distillguard.act.scoring import FEATURES, ScoringConfig

Action = Literal["allow", "shadow", "throttle", "withhold_reasoning", "step_up", "block"]
ACTIONS: tuple[str, ...] = ("allow", "shadow", "withhold_reasoning", "throttle", "step_up", "block")
STRENGTH = {name: i for i, name in enumerate(ACTIONS)}
DENYING = frozenset({"throttle", "step_up", "block"})  # actions that answer instead of the model
DEFAULT_POLICY = Path(__file__).parent / "policies" / "default.yaml"

_CLAUSE = re.compile(r"^\s*([a-z_]+)\s*(>=|<=|==|!=|>|<|\bin\b|\bnot in\b)\s*(.+?)\s*$")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}


@dataclass(frozen=True, slots=True)
class Clause:
    feature: str
    op: str
    value: Any
    test: Callable[[Any, Any], bool]

    def holds(self, feats: dict[str, Any]) -> bool:
        return self.test(feats[self.feature], self.value)

    def __str__(self) -> str:
        return f"{self.feature} {self.op} {self.value!r}"


def _fits(kind: type, value: Any) -> bool:
    """Whether a literal suits a feature of type `kind` (a bool is not a number here)."""
    if kind is bool:
        return isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)


def parse_clause(text: str) -> Clause:
    """Parse `feature op value`; raise ValueError naming what is wrong."""
    m = _CLAUSE.match(text)
    if not m:
        raise ValueError(f"cannot read condition {text!r}: expected 'feature op value'")
    name, op, raw = m.group(1), m.group(2), m.group(3)
    if name not in FEATURES:
        raise ValueError(f"unknown feature {name!r} in {text!r}; known: {', '.join(sorted(FEATURES))}")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ValueError(f"{text!r}: cannot read the value {raw!r}") from exc
    kind = FEATURES[name]
    if op in ("in", "not in") and not isinstance(value, list):
        raise ValueError(f"{text!r}: '{op}' needs a list, e.g. [a, b]")
    for v in value if op in ("in", "not in") else [value]:
        if not _fits(kind, v):
            raise ValueError(f"{text!r}: {name} is a {kind.__name__}, got {v!r}")
    if kind is not float and op in (">=", "<=", ">", "<"):
        raise ValueError(f"{text!r}: {name} is a {kind.__name__} and cannot be ordered")
    if op in ("in", "not in"):
        value = frozenset(value)
    return Clause(name, op, value, _OPS[op])


class Condition(BaseModel):
    """`all` must every one hold, and of `any` at least one (when given)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    all: list[Clause] = Field(default_factory=list)
    any: list[Clause] = Field(default_factory=list)

    @field_validator("all", "any", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> list[Clause]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ValueError("a list of 'feature op value' strings")
        return [v if isinstance(v, Clause) else parse_clause(str(v)) for v in value]

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        if not self.all and not self.any:
            raise ValueError("a condition needs 'all' or 'any'")
        return self

    def holds(self, feats: dict[str, Any]) -> bool:
        for clause in self.all:
            if not clause.test(feats[clause.feature], clause.value):
                return False
        if self.any:
            return any(c.test(feats[c.feature], c.value) for c in self.any)
        return True


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    description: str
    level: Literal["informational", "low", "medium", "high", "critical"]
    status: Literal["stable", "test", "experimental"] = "stable"
    falsepositives: list[str] = Field(min_length=1)
    condition: Condition
    action: Action
    enabled: bool = True
    retry_after: int = Field(30, ge=1, description="seconds, for throttle")
    reason_code: str = Field(
        "verification_required", pattern=r"^[a-z0-9_]+$", description="for step_up/block"
    )


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    mode: Literal["enforce", "dry_run"] = "enforce"
    fail_mode: Literal["open", "closed"] = "open"  # when the state backend is unreachable
    withhold: Literal["summary", "remove"] = "summary"
    withhold_summary: str = "[reasoning withheld by the provider's usage policy]"
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    rules: list[Rule]

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} appears twice")
            seen.add(rule.id)
        return rules

    @property
    def dry_run(self) -> bool:
        return self.mode == "dry_run"


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    action: str
    rule: Rule | None  # the rule whose action applies
    matched: tuple[str, ...]  # ids of every matching rule, in file order


ALLOW = PolicyDecision("allow", None, ())


def evaluate(policy: Policy, feats: dict[str, Any]) -> PolicyDecision:
    """Apply the policy's rules to one request's features (see the module docstring)."""
    best: Rule | None = None
    matched: list[str] = []
    for rule in policy.rules:
        if not rule.enabled or not rule.condition.holds(feats):
            continue
        matched.append(rule.id)
        if rule.action == "allow":
            return PolicyDecision("allow", rule, tuple(matched))
        if best is None or STRENGTH[rule.action] > STRENGTH[best.action]:
            best = rule
    if best is None:
        return ALLOW
    return PolicyDecision(best.action, best, tuple(matched))


class PolicyError(ValueError):
    """A policy file that does not validate; the message names file, line and rule."""


def _rule_lines(text: str) -> list[int]:
    """1-based line of each item of the top-level `rules:` list, for error messages."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "rules" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate a policy file (the shipped default when `path` is None)."""
    path = Path(path) if path is not None else DEFAULT_POLICY
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        lines = _rule_lines(text)
        problems = []
        for err in exc.errors():
            loc = err["loc"]
            where = str(path)
            if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
                idx = loc[1]
                if idx < len(lines):
                    where += f":{lines[idx]}"
                rid = (data.get("rules") or [{}])[idx].get("id", "?") if isinstance(data, dict) else "?"
                where += f" (rule {rid})"
            field = ".".join(str(p) for p in loc)
            problems.append(f"{where}: {field}: {err['msg']}")
        raise PolicyError("\n".join(problems)) from exc
