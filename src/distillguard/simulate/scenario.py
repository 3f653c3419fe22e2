"""Scenarios: the YAML data that describes a simulated world, validated with pydantic.

A scenario names the legitimate archetypes (each a false-positive trap) and the distillation
campaigns to mix into one world. Numbers may be given as a single value or as a `[low, high]`
range; ranges are drawn per world from the seed, so no detector can learn a constant of the
simulator. Errors name the file, the line and the field.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from distillguard.simulate.errors import ScenarioError

FLAVORS = ("anthropic_messages", "openai_chat", "openai_responses")
TIERS = ("standard", "education", "research", "startup", "enterprise")
LEGIT_ARCHETYPES = (
    "casual_chat",
    "tool_developer",
    "chat_product",
    "eval_runner",
    "router",
    "ci_agent",
    "serverless",
    "new_account",
    "synthetic_data",
    "classroom",
)


def _as_range(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (float(value), float(value))
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError("a range is a number or a [low, high] pair")
        return (float(value[0]), float(value[1]))
    return value


def _check_range(value: tuple[float, float]) -> tuple[float, float]:
    low, high = value
    if low < 0 or high < 0:
        raise ValueError(f"must not be negative, got [{low}, {high}]")
    if low > high:
        raise ValueError(f"low {low} is above high {high}")
    return value


# A non-negative number or a [low, high] range, drawn per world.
Range = Annotated[tuple[float, float], BeforeValidator(_as_range), AfterValidator(_check_range)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Share = Annotated[float, Field(ge=0.0, le=1.0)]
Weights = dict[str, Annotated[float, Field(ge=0.0)]]


class WorldSpec(_Strict):
    """The clock and the model catalogue of a world."""

    start: str | None = None  # RFC 3339 (UTC); drawn from the seed when absent
    days: Annotated[float, Field(gt=0, le=60)] = 2.0
    new_model_release_hour: Range = (18.0, 30.0)  # hours after start when a new model ships
    error_rate: Share = 0.01  # share of 5xx answers, for everyone

    @field_validator("start")
    @classmethod
    def _rfc3339(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(
                    f"start must be an RFC 3339 time like 2026-03-02T00:00:00Z, not {value!r}"
                ) from None
        return value


class ArchetypeSpec(_Strict):
    """One legitimate archetype: how many accounts and how busy each one is."""

    accounts: Annotated[int, Field(ge=0)] = 0
    exchanges_per_day: Range | None = None  # per account; archetype default when absent
    flavors: Weights | None = None

    @model_validator(mode="after")
    def _known_flavors(self) -> ArchetypeSpec:
        _check_flavors(self.flavors)
        return self


class CreationSpec(_Strict):
    """When the campaign's accounts were created, relative to the world start."""

    days_before_start: Range = (1.0, 7.0)
    burst_hours: Range = (2.0, 6.0)  # accounts of one burst are created within this window
    bursts: Annotated[int, Field(ge=1)] = 1
    verified_share: Share = 0.3


class PaymentSpec(_Strict):
    """Shared payment methods of a pool."""

    shared_share: Share = 0.7  # accounts paying with one of a few shared payment methods
    pool: Annotated[int, Field(ge=1)] = 3


class IPSpec(_Strict):
    """Where a pool's requests come from."""

    strategy: Literal["datacenter_block", "sticky_proxy", "residential_per_request", "cloud_per_request"] = (
        "datacenter_block"
    )
    blocks: Annotated[int, Field(ge=1)] = 2  # datacenter /24 blocks
    exits: Annotated[int, Field(ge=1)] = 40  # sticky proxy exits shared by the pool
    sticky_minutes: Range = (20.0, 120.0)


class TimingSpec(_Strict):
    """When a pool's accounts send, and how much."""

    mode: Literal["lockstep", "flat", "low_and_slow", "diurnal"] = "flat"
    exchanges_per_account_per_day: Range = (200.0, 400.0)
    jitter_s: Range = (0.05, 0.5)  # lockstep: spread of each dispatch around its tick
    active_hours: Range = (24.0, 24.0)  # low_and_slow / diurnal: hours a day the account works
    start_hour: Range = (0.0, 6.0)  # hours after world start when the campaign begins


class ContentSpec(_Strict):
    """What a pool sends: the prompt source, templates and the shares of each kind of request."""

    source: Literal["harvest", "forwarded", "template"] = "template"
    tasks: Weights = Field(default_factory=lambda: {"general": 1.0})
    templates: Annotated[int, Field(ge=1)] = 4
    paraphrase: Share = 0.0  # share of requests whose template wording is paraphrased
    cot: Share = 0.0  # chain-of-thought elicitation
    rubric: Share = 0.0  # "act as a reward model" grading
    censorship: Share = 0.0  # censorship-safe rewrites of sensitive questions
    tools: Share = 0.0  # requests that offer tools
    agentic_system: Share = 0.0  # requests with an agentic system prompt and tool loops
    vision: Share = 0.0  # requests with images (screenshots, documents, charts)
    camouflage: Share = 0.0  # ordinary-looking requests the pool sends itself, to dilute the harvest
    system_prompt_share: Share = 0.3


class ReasoningSpec(_Strict):
    """Reasoning requested: Anthropic thinking budgets and OpenAI effort."""

    thinking_share: Share = 0.0
    budgets: list[Annotated[int, Field(ge=1024)]] = Field(default_factory=lambda: [8000])
    effort: Literal["low", "medium", "high"] = "high"


class PivotSpec(_Strict):
    """The move of part of the traffic to the model released during the world."""

    share: Share = 0.0  # share of the campaign's traffic moved to the new model
    within_hours: Range = (4.0, 20.0)  # after the release


class ResellerSpec(_Strict):
    """A reseller pool's ordinary customers mixed into the same accounts."""

    customers_share: Share = 0.0  # share of a pool account's traffic that is ordinary customers'


class CampaignSpec(_Strict):
    """One distillation campaign, with the knobs the public reports describe."""

    id: Annotated[str, Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    description: str = ""
    accounts: Annotated[int, Field(ge=1)]
    tiers: Weights = Field(default_factory=lambda: {"standard": 1.0})
    creation: CreationSpec = Field(default_factory=CreationSpec)
    payment: PaymentSpec = Field(default_factory=PaymentSpec)
    ip: IPSpec = Field(default_factory=IPSpec)
    timing: TimingSpec = Field(default_factory=TimingSpec)
    content: ContentSpec = Field(default_factory=ContentSpec)
    reasoning: ReasoningSpec = Field(default_factory=ReasoningSpec)
    pivot: PivotSpec = Field(default_factory=PivotSpec)
    reseller: ResellerSpec = Field(default_factory=ResellerSpec)
    flavors: Weights = Field(default_factory=lambda: {"anthropic_messages": 1.0})
    user_agents: Annotated[int, Field(ge=1)] = 1  # distinct client strings in the pool

    @model_validator(mode="after")
    def _known_keys(self) -> CampaignSpec:
        _check_flavors(self.flavors)
        bad = sorted(set(self.tiers) - set(TIERS))
        if bad:
            raise ValueError(f"tiers: unknown tier {bad[0]!r}; known: {', '.join(TIERS)}")
        if not any(self.tiers.values()):
            raise ValueError("tiers: at least one weight must be positive")
        bad = sorted(set(self.content.tasks) - {"code", "tool", "general", "roleplay", "chat", "math"})
        if bad:
            raise ValueError(f"content.tasks: unknown task {bad[0]!r}")
        return self


class Scenario(_Strict):
    """A whole world: its clock, the legitimate population and the campaigns."""

    name: str
    description: str = ""
    world: WorldSpec = Field(default_factory=WorldSpec)
    legit: dict[str, ArchetypeSpec] = Field(default_factory=dict)
    campaigns: list[CampaignSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_archetypes(self) -> Scenario:
        bad = sorted(set(self.legit) - set(LEGIT_ARCHETYPES))
        if bad:
            raise ValueError(f"legit: unknown archetype {bad[0]!r}; known: {', '.join(LEGIT_ARCHETYPES)}")
        ids = [c.id for c in self.campaigns]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"campaigns: id {dup[0]!r} is used twice")
        return self


def _check_flavors(flavors: dict[str, float] | None) -> None:
    if flavors is None:
        return
    bad = sorted(set(flavors) - set(FLAVORS))
    if bad:
        raise ValueError(f"flavors: unknown API flavour {bad[0]!r}; known: {', '.join(FLAVORS)}")
    if not any(flavors.values()):
        raise ValueError("flavors: at least one weight must be positive")


def builtin_scenarios() -> list[str]:
    """Names of the scenarios shipped with distillguard."""
    folder = resources.files("distillguard.simulate") / "scenarios"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a built-in scenario by name or a YAML file by path; raise `ScenarioError` when invalid.

    The error message names the file, the line of the offending field when it can be found, the
    field's dotted path and what is wrong with it.
    """
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ScenarioError(f"scenario file {path} does not exist")
        text, origin = path.read_text(encoding="utf-8"), str(path)
    else:
        name = str(name_or_path)
        if name not in builtin_scenarios():
            known = ", ".join(builtin_scenarios())
            raise ScenarioError(f"unknown scenario {name!r}: give a YAML file or one of {known}")
        text = (resources.files("distillguard.simulate") / "scenarios" / f"{name}.yaml").read_text("utf-8")
        origin = f"<built-in {name}>"
    return parse_scenario(text, origin)


def parse_scenario(text: str, origin: str = "<string>") -> Scenario:
    """Validate scenario YAML text; `origin` names it in error messages."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark is not None else origin
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{origin}: a scenario is a YAML mapping with at least `name`")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
            dotted = ".".join(str(p) for p in loc) or "(top level)"
            line = _line_of(node, loc)
            where = f"{origin}:{line}" if line else origin
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field (check the spelling; see docs/simulator.md)"
            lines.append(f"{where}: {dotted}: {msg}")
        raise ScenarioError("invalid scenario\n  " + "\n  ".join(lines)) from None


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int | None:
    """1-based line of the YAML node at `loc`, or of its deepest existing ancestor."""
    best = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == str(key)), None)
            if nxt is None:
                nxt_key = next((k for k, _ in node.value if k.value == str(key)), None)
                return nxt_key.start_mark.line + 1 if nxt_key is not None else best
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return best
        best = node.start_mark.line + 1
    return best
