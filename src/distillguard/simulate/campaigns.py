"""Distillation campaigns: pools of accounts harvesting a model's answers, reasoning and tool use.

One function, `generate`, turns a `CampaignSpec` into accounts and exchanges: creation bursts,
tiers and shared payment methods; an IP strategy (datacenter blocks, sticky proxy exits shared by
the pool, a residential or cloud address per request); a cadence (lockstep round robin, flat
24/7, low-and-slow under per-account thresholds, human-like days); content (raw harvest prompts,
real users' prompts forwarded, templates with slot filling and paraphrase) with shares of
chain-of-thought elicitation, rubric grading, censorship-safe rewrites, tools and agentic loops;
reasoning budgets; a pivot to the new model after its release; and, for reseller pools, ordinary
customers' requests mixed into the same accounts.
"""

from __future__ import annotations

import numpy as np

from distillguard.simulate import timing
from distillguard.simulate.archetypes.common import DEFAULT_FLAVORS, REPEAT
from distillguard.simulate.draws import pick, weighted
from distillguard.simulate.harvest import HarvestContent, customer_spec
from distillguard.simulate.scenario import CampaignSpec
from distillguard.simulate.style import block_hosts, hosts_in, random_block
from distillguard.simulate.timing import DAY, HOUR, US
from distillguard.simulate.world import TZ, World

POOL_CAP = 4000  # distinct harvest bodies per campaign, flavour and model


def _accounts(world: World, c: CampaignSpec, rng: np.random.Generator, n: int) -> list[int]:
    cr = c.creation
    burst_at = [world.start - int(world.draw(cr.days_before_start, rng) * DAY) for _ in range(cr.bursts)]
    burst_len = world.draw(cr.burst_hours, rng) * HOUR
    payments = [world.payment(rng) for _ in range(c.payment.pool)]
    edu = [world.edu_domain(rng) for _ in range(2)]
    corp = [world.company_domain(rng) for _ in range(3)]
    countries = list(rng.choice(["US", "SG", "HK", "GB", "CA", "JP", "DE", "KR", "AU"], 3, replace=False))
    tiers = [weighted(rng, c.tiers) for _ in range(n)]
    out = []
    for i in range(n):
        tier = tiers[i]
        domain = (
            edu[int(rng.random() * 2)]
            if tier == "education"
            else corp[int(rng.random() * 3)]
            if tier in ("research", "startup")
            else str(rng.choice(world.style.email_domains_free))
        )
        shared = rng.random() < c.payment.shared_share
        out.append(
            world.new_account(
                archetype="reseller" if c.reseller.customers_share > 0 else "campaign",
                campaign_id=c.id,
                tier=tier,
                created_at=burst_at[i % cr.bursts] + int(rng.uniform(0, burst_len)),
                email_domain=domain,
                payment=pick(rng, payments) if shared else None,
                country=countries[int(rng.random() * 3)],
                verified=bool(rng.random() < cr.verified_share),
                n_keys=int(rng.integers(1, 3)),
            )
        )
    return out


def _times(world: World, c: CampaignSpec, rng: np.random.Generator, n: int) -> list[np.ndarray]:
    t = c.timing
    start = world.start + int(world.draw(t.start_hour, rng) * HOUR)
    rate = world.draw(t.exchanges_per_account_per_day, rng)
    if t.mode == "lockstep":
        interval = 86400.0 / max(1e-9, n * rate)
        ts, who = timing.lockstep(rng, start, world.end, n, interval, world.draw(t.jitter_s, rng))
        # Pools churn: a few accounts join late (replacements) or drop out (banned, out of credit);
        # the dispatcher skips their turn while they are not in the pool.
        span = max(1, world.end - start)
        joins = start + (rng.random(n) < 0.15) * (rng.random(n) * 0.5 * span).astype(np.int64)
        leaves = world.end - (rng.random(n) < 0.15) * (rng.random(n) * 0.5 * span).astype(np.int64)
        return [ts[(who == i) & (ts >= joins[i]) & (ts < leaves[i])] for i in range(n)]
    out = []
    hours = max(1.0, world.draw(t.active_hours, rng))
    for _ in range(n):
        r = rate * float(rng.uniform(0.7, 1.3))
        if t.mode == "flat":
            out.append(timing.poisson(rng, start, world.end, r))
        elif t.mode == "low_and_slow":
            ts = timing.poisson(rng, start, world.end, r * 24.0 / hours)
            phase = rng.uniform(0, 24)
            hour = (ts % DAY) / HOUR
            out.append(ts[((hour - phase) % 24) < hours])
        else:  # diurnal: mimic a person's day in a claimed time zone
            tz = TZ[str(rng.choice(["US", "GB", "DE", "JP", "SG"]))]
            ts, _ = timing.sessions(rng, start, (world.end - start) / DAY, r / 5, 5, tz, gap_s=(15, 180))
            out.append(ts)
    return out


def _ips(
    world: World, c: CampaignSpec, rng: np.random.Generator, times: list[np.ndarray]
) -> list[np.ndarray]:
    s = c.ip
    out = []
    if s.strategy == "datacenter_block":
        blocks = [random_block(rng, world.style.hosting_prefixes) for _ in range(s.blocks)]
        for i, ts in enumerate(times):
            hosts = block_hosts(rng, blocks[i % len(blocks)], int(rng.integers(1, 3)))
            out.append(hosts[rng.integers(0, len(hosts), len(ts))])
    elif s.strategy == "sticky_proxy":
        exits = hosts_in(rng, world.style.residential_prefixes, s.exits)
        for ts in times:
            sticky = world.draw(s.sticky_minutes, rng) * 60 * US
            seg = ((ts - world.start) // int(sticky)).astype(np.int64)
            choice = rng.integers(0, len(exits), int(seg.max()) + 1 if len(seg) else 1)
            out.append(exits[choice[seg]])
    elif s.strategy == "residential_per_request":
        out = [hosts_in(rng, world.style.residential_prefixes, len(ts)) for ts in times]
    else:
        out = [hosts_in(rng, world.style.cloud_prefixes, len(ts)) for ts in times]
    return out


def generate(world: World, c: CampaignSpec, cidx: int) -> None:
    """Add campaign `c` (its accounts scaled by the world's scale) to the world."""
    rng = np.random.default_rng([world.seed, 200, cidx])
    n = world.scaled(c.accounts)
    accounts = _accounts(world, c, rng, n)
    times = _times(world, c, rng, n)
    ips = _ips(world, c, rng, times)
    agent_pool = list(
        rng.choice(world.style.sdk_agents, min(c.user_agents, len(world.style.sdk_agents)), replace=False)
    )
    agents = [world.agent(str(a)) for a in agent_pool]
    content = HarvestContent(world, c, rng)
    old_model = world.model(rng, (0.1, 0.3, 0.6))
    pivot_at = world.release + int(world.draw(c.pivot.within_hours, rng) * HOUR)
    share = c.reseller.customers_share
    days = max(1e-9, (world.end - world.start) / DAY)

    # Plan first (flavour per account, pivoted exchanges, customers' times), so that each pool
    # of distinct bodies is sized by how many exchanges will draw from it.
    flavors = [weighted(rng, c.flavors or DEFAULT_FLAVORS) for _ in range(n)]
    pivoted = [(ts >= pivot_at) & (rng.random(len(ts)) < c.pivot.share) for ts in times]
    # Camouflage: ordinary-looking requests the operator sends itself, to dilute the harvest.
    camouflaged = [rng.random(len(ts)) < c.content.camouflage for ts in times]
    customer_ts = [
        timing.poisson(
            rng, world.start, world.end, len(ts) / days * share / (1 - share + 1e-9), timing.GLOBAL_DAY
        )
        if share > 0
        else np.empty(0, np.int64)
        for ts in times
    ]
    need: dict[tuple[str, str], int] = {}
    for i in range(n):
        for key, count in (
            ("old", int((~pivoted[i] & ~camouflaged[i]).sum())),
            ("new", int((pivoted[i] & ~camouflaged[i]).sum())),
            ("customer", len(customer_ts[i]) + int(camouflaged[i].sum())),
        ):
            need[(flavors[i], key)] = need.get((flavors[i], key), 0) + count
    pools: dict[tuple[str, str], np.ndarray] = {}
    for (flavor, key), count in sorted(need.items()):
        if count == 0:
            continue
        size = min(POOL_CAP, max(10, count // REPEAT))  # harvesters also re-sample a prompt
        if key == "customer":
            specs = [customer_spec(world, rng, flavor, world.model(rng)) for _ in range(size)]
        else:
            model = world.style.new_model if key == "new" else old_model
            specs = [content.spec(flavor, model) for _ in range(size)]
        pools[(flavor, key)] = np.array([world.body(s) for s in specs], np.int32)

    def draw(flavor: str, key: str, k: int) -> np.ndarray:
        pool = pools[(flavor, key)]
        return pool[rng.integers(0, len(pool), k)]

    for i, acct in enumerate(accounts):
        ts, flavor, piv, camo = times[i], flavors[i], pivoted[i], camouflaged[i]
        body = np.empty(len(ts), np.int32)
        for key, mask in (("old", ~piv & ~camo), ("new", piv & ~camo), ("customer", camo)):
            if mask.any():
                body[mask] = draw(flavor, key, int(mask.sum()))
        agent = agents[i % len(agents)]
        world.emit(acct, ts, body, ips[i], agent, campaign=cidx)
        cts = customer_ts[i]
        if len(cts):  # the reseller's paying customers, on their own day, through the same account and exits
            cip = (
                ips[i][rng.integers(0, len(ips[i]), len(cts))]
                if len(ips[i])
                else hosts_in(rng, world.style.residential_prefixes, len(cts))
            )
            world.emit(acct, cts, draw(flavor, "customer", len(cts)), cip, agent, campaign=-1)
