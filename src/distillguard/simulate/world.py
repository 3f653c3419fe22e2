"""The state of a world under construction: accounts, keys, client strings, bodies and activity.

Generators (legitimate archetypes and campaigns) register accounts and emit activity as numpy
arrays; the writer later merges everything in time order. Nothing here writes files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import orjson

from distillguard.simulate.bodies import BodyPool, RequestSpec
from distillguard.simulate.corpus import Prompt, Split, load_prompts
from distillguard.simulate.draws import pick
from distillguard.simulate.scenario import Scenario
from distillguard.simulate.style import WorldStyle
from distillguard.simulate.text import TextBank
from distillguard.simulate.timing import DAY, HOUR

_COUNTRIES = np.array(
    [
        "US",
        "IN",
        "GB",
        "DE",
        "BR",
        "FR",
        "JP",
        "CA",
        "KR",
        "SG",
        "NG",
        "AU",
        "ES",
        "NL",
        "MX",
        "PL",
        "ID",
        "TR",
        "VN",
        "IT",
    ]
)
_COUNTRY_W = np.array([30, 12, 7, 6, 5, 4, 4, 4, 3, 2, 2, 3, 2, 2, 2, 2, 2, 1, 1, 2], dtype=float)
# Rough UTC offsets, for human activity curves.
TZ = {
    "US": -6,
    "IN": 5.5,
    "GB": 0,
    "DE": 1,
    "BR": -3,
    "FR": 1,
    "JP": 9,
    "CA": -5,
    "KR": 9,
    "SG": 8,
    "NG": 1,
    "AU": 10,
    "ES": 1,
    "NL": 1,
    "MX": -6,
    "PL": 1,
    "ID": 7,
    "TR": 3,
    "VN": 7,
    "IT": 1,
    "CN": 8,
    "HK": 8,
    "RU": 3,
}
_WORDS = (
    "acme",
    "lumen",
    "brisk",
    "cobalt",
    "delta",
    "ember",
    "fable",
    "grove",
    "helix",
    "ionic",
    "juniper",
    "kite",
    "lattice",
    "mosaic",
    "north",
    "onyx",
    "prism",
    "quartz",
    "ridge",
    "summit",
    "tandem",
    "umber",
)
_TLDS = ("com", "io", "ai", "co", "dev", "net", "tech")


@dataclass
class Account:
    """One account of the world, with its ground truth."""

    account_id: str
    created_at: int  # µs since epoch
    org_id: str
    tier: str
    email_domain: str
    payment_fingerprint: str
    country: str
    verified: bool
    label: str  # legit | campaign
    archetype: str
    campaign_id: str | None
    keys: list[int] = field(default_factory=list)  # indexes into World.keys

    def record(self) -> dict:
        """The account record of the data contract (accounts.jsonl row)."""
        return {
            "account_id": self.account_id,
            "created_at": iso(self.created_at),
            "org_id": self.org_id,
            "tier": self.tier,
            "email_domain": self.email_domain,
            "payment_fingerprint": self.payment_fingerprint,
            "country": self.country,
            "verified": self.verified,
        }


def iso(us: int) -> str:
    """RFC 3339 UTC text of a time in microseconds since the epoch."""
    return datetime.fromtimestamp(us / 1e6, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class World:
    """Accounts and activity of one simulated world, seeded and split-aware."""

    def __init__(self, scenario: Scenario, seed: int, split: Split, scale: float) -> None:
        self.scenario = scenario
        self.seed = seed
        self.split: Split = split
        self.scale = scale
        self.rng = np.random.default_rng(seed)
        self.style = WorldStyle.draw(self.rng)
        self.text = TextBank(self.rng)
        self.bodies = BodyPool(np.random.default_rng(seed + 1), self.text)
        ws = scenario.world
        if ws.start:
            begin = datetime.fromisoformat(ws.start.replace("Z", "+00:00"))
            begin = begin if begin.tzinfo else begin.replace(tzinfo=UTC)  # a time without zone is UTC
            self.start = int(begin.timestamp() * 1e6)
        else:  # a midnight between January and October 2026
            base = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp() * 1e6)
            self.start = base + int(self.rng.integers(0, 280)) * DAY
        self.end = self.start + int(ws.days * DAY)
        self.release = self.start + int(self.draw(ws.new_model_release_hour) * HOUR)
        self.accounts: list[Account] = []
        self.keys: list[str] = []
        self.agents: list[bytes] = []  # JSON-encoded client strings
        self._agent_index: dict[str, int] = {}
        self.campaigns: list[str] = [c.id for c in scenario.campaigns]
        self._chunks: list[tuple[np.ndarray, ...]] = []
        self._orgs = 0

    # ------------------------------------------------------------------ draws

    def draw(self, value: tuple[float, float], rng: np.random.Generator | None = None) -> float:
        """One value from a scenario range."""
        low, high = value
        return low if low == high else float((rng or self.rng).uniform(low, high))

    def scaled(self, n: int) -> int:
        """An account count multiplied by the world's scale (at least one unless zero)."""
        return 0 if n <= 0 else max(1, round(n * self.scale))

    def country(self, rng: np.random.Generator | None = None) -> str:
        """A customer country, weighted like a global API's user base."""
        rng = rng or self.rng
        return str(_COUNTRIES[rng.choice(len(_COUNTRIES), p=_COUNTRY_W / _COUNTRY_W.sum())])

    def company_domain(self, rng: np.random.Generator | None = None) -> str:
        """A made-up company email domain."""
        rng = rng or self.rng
        a, b = rng.choice(len(_WORDS), 2, replace=False)
        return f"{_WORDS[a]}{_WORDS[b]}.{pick(rng, _TLDS)}"

    def edu_domain(self, rng: np.random.Generator | None = None) -> str:
        """A made-up university email domain."""
        rng = rng or self.rng
        w = pick(rng, _WORDS)
        return str(
            rng.choice([f"{w}.edu", f"{w}-university.edu", f"{w}.ac.uk", f"{w}.edu.cn", f"uni-{w}.de"])
        )

    def payment(self, rng: np.random.Generator | None = None) -> str:
        """A new payment-method fingerprint."""
        return "pm_" + (rng or self.rng).bytes(8).hex()

    def new_org(self) -> str:
        """A new organisation id."""
        self._orgs += 1
        return "org_" + self.rng.bytes(6).hex()

    def model(self, rng: np.random.Generator, weights: tuple[float, float, float] = (0.3, 0.5, 0.2)) -> str:
        """One of the current models: cheap, mid, top, in proportion to `weights`."""
        r = rng.random() * sum(weights)
        for model, w in zip(self.style.models, weights, strict=True):
            r -= w
            if r < 0:
                return model
        return self.style.models[-1]

    # ------------------------------------------------------------------ content

    def prompts(self, origin: str, task: str) -> tuple[Prompt, ...]:
        """Corpus prompts of the world's split."""
        return load_prompts(origin, task, self.split)

    def body(self, spec: RequestSpec) -> int:
        """Render a request spec; return its body index."""
        return self.bodies.add(spec)

    def agent(self, text: str) -> int:
        """The index of a client string (user agent), registering it on first use."""
        found = self._agent_index.get(text)
        if found is None:
            found = self._agent_index[text] = len(self.agents)
            self.agents.append(orjson.dumps(text))
        return found

    # ------------------------------------------------------------------ accounts and activity

    def new_account(
        self,
        *,
        archetype: str,
        tier: str = "standard",
        created_at: int | None = None,
        org_id: str | None = None,
        email_domain: str | None = None,
        payment: str | None = None,
        country: str | None = None,
        verified: bool | None = None,
        campaign_id: str | None = None,
        n_keys: int = 1,
    ) -> int:
        """Register an account and return its index."""
        rng = self.rng
        if created_at is None:  # established customers: weeks to years old
            created_at = self.start - int(rng.uniform(20, 900) * DAY)
        acct = Account(
            account_id=self.style.account_id(rng),
            created_at=int(created_at),
            org_id=org_id or self.new_org(),
            tier=tier,
            email_domain=email_domain or str(rng.choice(self.style.email_domains_free)),
            payment_fingerprint=payment or self.payment(),
            country=country or self.country(),
            verified=bool(rng.random() < 0.8) if verified is None else verified,
            label="campaign" if campaign_id else "legit",
            archetype=archetype,
            campaign_id=campaign_id,
        )
        for _ in range(max(1, n_keys)):
            acct.keys.append(len(self.keys))
            self.keys.append(self.style.key_id(rng))
        self.accounts.append(acct)
        return len(self.accounts) - 1

    def emit(
        self,
        account: int,
        ts: np.ndarray,
        body: np.ndarray | int,
        ip: np.ndarray | int,
        agent: np.ndarray | int,
        key: np.ndarray | int | None = None,
        campaign: np.ndarray | int = -1,
    ) -> None:
        """Record the exchanges of one account (arrays broadcast against `ts`)."""
        ts = np.asarray(ts, dtype=np.int64)
        keep = (ts >= self.start) & (ts < self.end)
        n = int(keep.sum())
        if n == 0:
            return
        if key is None:
            keys = self.accounts[account].keys
            key = keys[0] if len(keys) == 1 else np.asarray(keys)[self.rng.integers(0, len(keys), len(ts))]

        def col(v, dtype):
            a = np.asarray(v, dtype=dtype)
            if a.ndim and len(a) != len(ts):
                raise ValueError(f"emit: a column of {len(a)} values for {len(ts)} exchanges")
            return np.broadcast_to(a, ts.shape)[keep].copy()

        self._chunks.append(
            (
                ts[keep],
                np.full(n, account, np.int32),
                col(body, np.int32),
                col(ip, np.uint32),
                col(agent, np.int32),
                col(key, np.int32),
                col(campaign, np.int16),
            )
        )

    def activity(self) -> tuple[np.ndarray, ...]:
        """All exchanges, sorted by time: (ts, account, body, ip, agent, key, campaign)."""
        if not self._chunks:
            empty = (
                np.empty(0, t)
                for t in (np.int64, np.int32, np.int32, np.uint32, np.int32, np.int32, np.int16)
            )
            return tuple(empty)
        cols = [np.concatenate([c[i] for c in self._chunks]) for i in range(7)]
        order = np.argsort(cols[0], kind="stable")
        return tuple(c[order] for c in cols)
