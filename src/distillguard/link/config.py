"""Options of the link stage, validated from the scan config's `link:` section."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Weight of one kind of shared evidence when a pair's similarity on it is 1.0.
DEFAULT_KIND_WEIGHTS: dict[str, float] = {
    "payment": 1.0,
    "ip": 0.6,
    "subnet": 0.3,
    "user_agent": 0.25,
    "client_fp": 0.3,
    "api_key": 1.0,
    "creation_burst": 0.4,
    "email_domain": 0.2,
    "template": 0.6,
    "paraphrase": 0.4,
    "harvest_band": 0.4,
    "system_prompt": 0.4,
    "tool_schema": 0.3,
    "lockstep": 0.4,
    "cadence": 0.5,
    "fingerprint": 0.2,
}


# Values that millions of unrelated customers share: sharing them is no evidence at all, however
# rare they happen to be in a small scan. Regular expressions over the user agent, matched at start.
COMMON_USER_AGENTS: list[str] = [
    r"(Async)?(Anthropic|OpenAI)/(Python|JS|Node|Go|Java)",
    r"(anthropic|openai)[-_ ](python|typescript|node|go|java|sdk)",
    r"python-(requests|httpx|urllib)",
    r"(aiohttp|httpx|urllib|requests|axios|node-fetch|undici|got|okhttp|curl|wget|Wget)/",
    r"Go-http-client/",
    r"(Java|Apache-HttpClient|Dart|Ruby|PostmanRuntime|insomnia)",
    r"(langchain|litellm|llamaindex|llama-index|vercel-ai|ai-sdk)",
    r"Mozilla/5\.0",
]
# Free-mail providers: an email domain shared with them says nothing about an organisation.
COMMON_EMAIL_DOMAINS: list[str] = [
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "mail.ru",
    "yandex.ru",
    "yandex.com",
    "zoho.com",
    "fastmail.com",
    "tutanota.com",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "foxmail.com",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "rediffmail.com",
    "seznam.cz",
    "libero.it",
    "orange.fr",
]


class LinkConfig(BaseModel):
    """Every knob of the account graph. Defaults were set on training worlds only."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    seed: int = 7  # Leiden is randomized; a fixed seed makes clusters reproducible
    resolution: float = 0.5  # Leiden (RB-configuration) resolution per component; >1 splits finer
    min_cluster_size: int = 2
    # Accounts of one declared organisation share payment, domain and network by design; linking
    # them would only rediscover the organisation. Set true to link them anyway.
    link_within_org: bool = False

    # Shared-key blocking: each account is paired with at most `block_window` others per key
    # (neighbours in one global account order, so different keys propose the same pairs), and
    # keys held by more than `block_max_share` of all accounts propose no pairs at all.
    block_window: int = 24
    block_max_share: float = 0.2

    ip_window_hours: float = 24.0  # an IP shared within this window is "the same machine"
    # An address (or /24 block) in a window counts for an account only when it carries at least
    # this share of the account's requests. Two apps that each spray requests over hundreds of a
    # cloud region's blocks overlap on some by chance: that is the same provider, not the same
    # operator. 0 keeps every address.
    network_min_share: float = 0.002
    ipv6_prefix: int = 48
    creation_burst_hours: list[float] = Field(default_factory=lambda: [6.0, 48.0])  # burst window sizes
    lockstep_window_minutes: float = 10.0
    cadence_tolerance: float = 0.04  # gaps within ±2% of the period count as one machine cadence
    cadence_min_exchanges: int = 10

    fingerprint_min_exchanges: int = 10  # fewer exchanges make a noisy behaviour vector
    fingerprint_bands: int = 16
    fingerprint_bits: int = 8
    fingerprint_cosine_floor: float = 0.6  # cosine below this is no evidence at all

    common_user_agents: list[str] = Field(default_factory=lambda: list(COMMON_USER_AGENTS))
    common_email_domains: list[str] = Field(default_factory=lambda: list(COMMON_EMAIL_DOMAINS))

    kind_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_KIND_WEIGHTS))
    # A kind counts for a pair only when they share at least this many of its keys: two accounts
    # that send a popular template in the same window once or twice is chance, not lockstep.
    min_shared: dict[str, int] = Field(default_factory=lambda: {"lockstep": 4})
    # Similarity at which one kind links a pair on its own: a shared payment method or API key.
    strong: dict[str, float] = Field(default_factory=lambda: {"payment": 0.5, "api_key": 0.5})
    evidence_min: float = 0.06  # weighted similarity one piece of evidence needs to count as agreeing
    min_agreeing: int = 2  # weak evidence must come from this many independent kinds
    min_weight: float = 0.2  # combined weight an edge needs to be kept
    # Weak links also need evidence of a common operator (payment, network, client, creation
    # burst, cadence): content and timing alone are what independent eval runners share. Turn off
    # for exchanges-only scans of pools with an IP per request, at the cost of such false links.
    require_identity: bool = True
    identity_min: float = 0.05
    # Operator evidence that unrelated accounts may also share by coincidence (sign-ups in the
    # same hours), listed here, backs a weak link only when one more kind than `min_agreeing`
    # agrees. Empty by default: on training worlds it cost pools created in several bursts more
    # than it saved legitimate sign-ups.
    coincidence_kinds: list[str] = Field(default_factory=list)
    # Content-only evidence this strong may link two accounts that each have an identity-backed
    # link already (a pool created in several bursts); it never pulls in an unlinked account.
    bridge_min_weight: float = 0.15
    # An exchange's paraphrase bands are also `harvest_band` keys when one of its harvest signals
    # (chain-of-thought elicitation, rubric grading, censorship rewrite) reaches this score.
    harvest_band_min_signal: float = 0.5
    harvest_band_min_exchanges: int = 5  # an account needs this many such exchanges to hold any
    # Pool attachment (link/attach.py): an account in no cluster joins the cluster whose private
    # templates carry this much of its traffic (weighted like a template edge), over at least
    # `attach_min_templates` templates each sent by `attach_min_holders` members. 0 turns it off.
    attach_content_min: float = 0.2
    attach_min_templates: int = 2
    # ... or this many, for an account whose own requests carry a strong harvest signal: a pool's
    # straggler of two or three requests sends one of its prompts and one harvest request. The
    # harvest signal backs an attachment only with `require_identity` (without it nothing needs
    # backing, and this route is off).
    attach_harvest_min_templates: int = 1
    # A cluster of at most this many members is a fragment: its members are tested like accounts
    # in no cluster, and when at least half of them attach to one larger cluster the fragment
    # joins it whole (a few of a pool's accounts split off by the community step). 0: off.
    attach_fragment_max: int = 5
    attach_min_holders: int = 2
    # Look-alike joining (link/lookalike.py): an account in no cluster whose content and behaviour
    # pass the weak-edge rule (without the operator requirement) with at least this share of a
    # cluster's members, and at least `join_min_members` of them, joins it. 0 turns it off.
    join_member_share: float = 0.5
    join_min_members: int = 3
    # ... or, when fewer (and at least join_min_members), as many as the cluster's own members
    # have with one another at this quantile: a pool that forwards diverse content is held together
    # by few look-alike pairs per member, and an outsider as tied as the least tied quarter of its
    # members belongs as much. 0 turns this bound off (the share alone counts).
    join_member_quantile: float = 0.25
    # Communities of one component are merged when operator-backed links between them (creation
    # bursts left out) are at least this dense relative to those inside them (geometric mean),
    # and at least `merge_min_links` such links exist: the split was made by content (two scripts,
    # two API shapes of one operator), not by who runs the accounts. 0 turns it off.
    merge_operator_ratio: float = 0.2
    merge_min_links: int = 3

    density_scale: float = 2.0  # FRAUDAR density at which the cluster score reaches 1 - 1/e
    density_c: float = 5.0  # column weight 1 / log(c + degree), as in FRAUDAR

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> LinkConfig:
        """Validate the `link:` section; unknown keys are an error that names them."""
        raw = dict(raw or {})
        weights = dict(DEFAULT_KIND_WEIGHTS)
        weights.update(raw.pop("kind_weights", {}) or {})
        return cls(kind_weights=weights, **raw)
