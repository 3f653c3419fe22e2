"""The look of one world, drawn from its seed: identifier formats, address ranges, client strings.

Everything a detector could memorise about the simulator (how account ids look, which /16s the
clouds use, which SDK versions are current, how models are named) is drawn here per seed, so a
rule that keys on a constant of one world fails on the next.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

import numpy as np

_B62 = np.array(list(string.digits + string.ascii_letters))
_HEX = np.array(list("0123456789abcdef"))

# Real-looking first octets per kind of network; the second octet and the rest are drawn.
_CLOUD_FIRST = (3, 13, 18, 20, 34, 35, 40, 44, 52, 54, 104, 130, 146)
_HOSTING_FIRST = (5, 37, 45, 46, 51, 62, 65, 78, 91, 95, 138, 139, 142, 159, 164, 167, 178, 185, 188, 193)
_RESIDENTIAL_FIRST = (
    2,
    24,
    27,
    36,
    39,
    42,
    49,
    58,
    59,
    60,
    61,
    67,
    68,
    71,
    73,
    76,
    81,
    82,
    86,
    90,
    98,
    101,
    106,
    110,
    112,
    113,
    114,
    117,
    119,
    121,
    124,
    171,
    175,
    177,
    180,
    182,
    183,
    187,
    189,
    190,
    201,
)

_MODEL_FAMILIES = (
    ("claude-haiku-{v}", "claude-sonnet-{v}", "claude-opus-{v}"),
    ("gpt-{v}-mini", "gpt-{v}", "gpt-{v}-pro"),
    ("nova-lite-{v}", "nova-{v}", "nova-ultra-{v}"),
    ("atlas-{v}-small", "atlas-{v}", "atlas-{v}-max"),
)


def _pick_id(rng: np.random.Generator, alphabet: np.ndarray, n: int) -> str:
    return "".join(alphabet[rng.integers(0, len(alphabet), n)])


@dataclass
class WorldStyle:
    """Per-world formats and pools. Build with `WorldStyle.draw(rng)`."""

    account_fmt: str
    key_fmt: str
    request_prefix: str
    models: list[str]  # the current catalogue, cheapest first
    new_model: str  # released during the world
    cloud_prefixes: list[tuple[int, int]]
    hosting_prefixes: list[tuple[int, int]]
    residential_prefixes: list[tuple[int, int]]
    sdk_agents: list[str]  # common client strings with this world's versions
    email_domains_free: list[str] = field(default_factory=list)

    @classmethod
    def draw(cls, rng: np.random.Generator) -> WorldStyle:
        """Draw a world's look from `rng`."""
        fmt = rng.choice(["acct_{h12}", "org-{b24}", "user_{b22}", "{d10}", "a{h8}-{h4}", "cust_{b16}"])
        key = rng.choice(["key_{h16}", "apikey_01{b20}", "sk-key-{b12}", "k{d9}"])
        fam = _MODEL_FAMILIES[int(rng.integers(len(_MODEL_FAMILIES)))]
        major = int(rng.integers(3, 7))
        minor = int(rng.integers(0, 9))
        v = f"{major}-{minor}" if fam[0].startswith("claude") else f"{major}.{minor}"
        nv = f"{major + 1}"
        models = [f.format(v=v) for f in fam]
        new_model = fam[int(rng.integers(1, 3))].format(v=nv)

        def prefixes(firsts: tuple[int, ...], n: int) -> list[tuple[int, int]]:
            chosen = rng.choice(firsts, size=min(n, len(firsts)), replace=False)
            return [(int(a), int(rng.integers(0, 256))) for a in chosen]

        py = f"{int(rng.integers(0, 2))}.{int(rng.integers(30, 80))}.{int(rng.integers(0, 9))}"
        opy = f"{int(rng.integers(1, 3))}.{int(rng.integers(40, 99))}.{int(rng.integers(0, 9))}"
        js = f"0.{int(rng.integers(30, 70))}.{int(rng.integers(0, 9))}"
        ojs = f"{int(rng.integers(4, 6))}.{int(rng.integers(50, 99))}.{int(rng.integers(0, 9))}"
        httpx = f"0.{int(rng.integers(26, 29))}.{int(rng.integers(0, 3))}"
        req = f"2.{int(rng.integers(28, 33))}.{int(rng.integers(0, 4))}"
        agents = [
            f"Anthropic/Python {py}",
            f"AsyncAnthropic/Python {py}",
            f"Anthropic/JS {js}",
            f"OpenAI/Python {opy}",
            f"AsyncOpenAI/Python {opy}",
            f"OpenAI/JS {ojs}",
            f"python-httpx/{httpx}",
            f"python-requests/{req}",
            f"axios/1.{int(rng.integers(5, 9))}.{int(rng.integers(0, 9))}",
            f"curl/8.{int(rng.integers(4, 12))}.{int(rng.integers(0, 2))}",
            "Go-http-client/2.0",
            f"node-fetch/1.0 (+https://github.com/bitinn/node-fetch) node/{int(rng.integers(18, 24))}",
        ]
        free = ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "qq.com", "163.com"]
        return cls(
            account_fmt=str(fmt),
            key_fmt=str(key),
            request_prefix=str(rng.choice(["req_", "ex_", "evt-", "log_"])),
            models=models,
            new_model=new_model,
            cloud_prefixes=prefixes(_CLOUD_FIRST, 8),
            hosting_prefixes=prefixes(_HOSTING_FIRST, 10),
            residential_prefixes=prefixes(_RESIDENTIAL_FIRST, 30),
            sdk_agents=agents,
            email_domains_free=free,
        )

    def make_id(self, rng: np.random.Generator, fmt: str) -> str:
        """An identifier in `fmt`, with each {h/b/d + length} token filled from `rng`."""
        out = fmt
        for token, alphabet, n in (
            ("{h16}", _HEX, 16),
            ("{h12}", _HEX, 12),
            ("{h8}", _HEX, 8),
            ("{h4}", _HEX, 4),
            ("{b24}", _B62, 24),
            ("{b22}", _B62, 22),
            ("{b20}", _B62, 20),
            ("{b16}", _B62, 16),
            ("{b12}", _B62, 12),
            ("{d10}", _B62[:10], 10),
            ("{d9}", _B62[:10], 9),
        ):
            while token in out:
                out = out.replace(token, _pick_id(rng, alphabet, n), 1)
        return out

    def account_id(self, rng: np.random.Generator) -> str:
        """A new account id in this world's format."""
        return self.make_id(rng, self.account_fmt)

    def key_id(self, rng: np.random.Generator) -> str:
        """A new API key id in this world's format."""
        return self.make_id(rng, self.key_fmt)


def ip_int(a: int, b: int, c: int, d: int) -> int:
    """An IPv4 address from its four octets, as an integer."""
    return (a << 24) | (b << 16) | (c << 8) | d


def hosts_in(rng: np.random.Generator, prefixes: list[tuple[int, int]], n: int) -> np.ndarray:
    """`n` random addresses (uint32) inside random /16s of `prefixes`."""
    pre = np.array([(a << 24) | (b << 16) for a, b in prefixes], dtype=np.uint32)
    pick = pre[rng.integers(0, len(pre), n)]
    return pick | rng.integers(256, 65534, n).astype(np.uint32)


def block_hosts(rng: np.random.Generator, block: int, n: int) -> np.ndarray:
    """`n` addresses inside one /24 (`block` is its base address)."""
    return (np.uint32(block) | rng.integers(2, 254, n).astype(np.uint32)).astype(np.uint32)


def random_block(rng: np.random.Generator, prefixes: list[tuple[int, int]]) -> int:
    """The base address of a random /24 inside one of the /16 `prefixes`."""
    a, b = prefixes[int(rng.integers(len(prefixes)))]
    return ip_int(a, b, int(rng.integers(0, 256)), 0)
