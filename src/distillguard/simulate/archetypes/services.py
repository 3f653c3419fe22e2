"""Services: chat products, LLM routers, serverless apps and synthetic-data jobs.

Traps: one system prompt at high volume around the clock; thousands of end users behind one
account with many egress addresses; a fresh cloud address per request; one slot-filled
template at full throughput.
"""

from __future__ import annotations

import numpy as np

from distillguard.simulate import phrases, timing
from distillguard.simulate.archetypes.common import (
    answer_len,
    flavor_for,
    make_spec,
    new_model_mask,
    pool_pick,
    pool_size,
    rate_for,
)
from distillguard.simulate.draws import pick, weighted_index
from distillguard.simulate.scenario import ArchetypeSpec
from distillguard.simulate.style import hosts_in, random_block
from distillguard.simulate.timing import DAY
from distillguard.simulate.world import World


def chat_product(world: World, spec: ArchetypeSpec, idx: int) -> None:
    """A chat product: one system prompt, thousands of end users, high volume around the clock."""
    rng = np.random.default_rng([world.seed, 103, idx])
    acct = world.new_account(
        archetype="chat_product",
        tier="enterprise" if rng.random() < 0.4 else "standard",
        email_domain=world.company_domain(rng),
        verified=True,
        n_keys=2,
    )
    flavor = flavor_for(rng, spec.flavors)
    model = world.model(rng, (0.5, 0.5, 0.0))
    system = phrases.product_system_prompt(rng)
    # Some products turn extended thinking on for every user: reasoning at volume, legitimately.
    budget = pick(rng, (2048, 4096, 8000)) if rng.random() < 0.3 else None
    rate = rate_for(world, spec, "chat_product", rng)
    ts = timing.poisson(rng, world.start, world.end, rate, np.roll(timing.GLOBAL_DAY, int(rng.random() * 24)))
    users = int(rng.integers(2000, 20000))
    prompts = world.prompts("human", "chat")
    pool = []
    for _ in range(pool_size(len(ts))):
        user = phrases.casual(pick(rng, prompts).text, rng)
        history: tuple = ()
        if rng.random() < 0.35:
            first = phrases.casual(pick(rng, prompts).text, rng)
            history = (("user", first), ("assistant", world.text.answer(rng, 300)))
            user = pick(rng, phrases.FOLLOW_UPS)
        pool.append(
            world.body(
                make_spec(
                    rng,
                    flavor,
                    model,
                    user,
                    system=system,
                    history=history,
                    end_user=f"u{int(rng.random() * users)}",
                    answer_chars=answer_len(rng, 150, 900),
                    max_tokens=600 + (budget or 0),
                    temperature=None if budget else 0.7,
                    stream=True,
                    thinking_budget=budget if flavor == "anthropic_messages" else None,
                    effort=("medium" if budget else None) if flavor != "anthropic_messages" else None,
                    reasoning_chars=answer_len(rng, 600, 4000) if budget else 0,
                )
            )
        )
    fleet = hosts_in(rng, world.style.cloud_prefixes, int(rng.integers(2, 7)))
    agent = world.agent(world.style.sdk_agents[int(rng.integers(0, 6))])
    world.emit(acct, ts, pool_pick(rng, pool, len(ts)), fleet[rng.integers(0, len(fleet), len(ts))], agent)


def router(world: World, spec: ArchetypeSpec, idx: int) -> None:
    """An LLM router: every kind of content from many end users, many egress addresses, all models."""
    rng = np.random.default_rng([world.seed, 105, idx])
    acct = world.new_account(
        archetype="router",
        tier="enterprise",
        verified=True,
        email_domain=world.company_domain(rng),
        n_keys=int(rng.integers(3, 12)),
    )
    rate = rate_for(world, spec, "router", rng)
    ts = timing.poisson(rng, world.start, world.end, rate, timing.GLOBAL_DAY)
    users = int(rng.integers(3000, 50000))
    kinds = [
        ("human", "chat"),
        ("human", "tool"),
        ("harvest", "code"),
        ("harvest", "general"),
        ("harvest", "roleplay"),
    ]
    new_model = new_model_mask(world, rng, ts, 0.3)
    pools: dict[bool, list[int]] = {False: [], True: []}
    for new in (False, True):
        for _ in range(pool_size(int((new_model == new).sum()))):
            origin, task = kinds[weighted_index(rng, (0.45, 0.2, 0.15, 0.1, 0.1))]
            prompts = world.prompts(origin, task)
            p = pick(rng, prompts)
            flavor = flavor_for(rng, spec.flavors)
            model = world.style.new_model if new else world.model(rng)
            think = (
                pick(rng, (2048, 8192)) if flavor == "anthropic_messages" and rng.random() < 0.15 else None
            )
            pools[new].append(
                world.body(
                    make_spec(
                        rng,
                        flavor,
                        model,
                        phrases.casual(p.text, rng),
                        tools=p.tools,
                        call_tool=bool(p.tools),
                        thinking_budget=think,
                        max_tokens=(think or 0) + 2048,
                        temperature=None if think else 0.7,
                        end_user=f"or-{int(rng.random() * users)}",
                        kind="code" if task == "code" else "general",
                        images=1 if not p.tools and rng.random() < 0.05 else 0,
                    )
                )
            )
    bodies = np.where(new_model, pool_pick(rng, pools[True], len(ts)), pool_pick(rng, pools[False], len(ts)))
    egress = hosts_in(rng, world.style.cloud_prefixes, int(rng.integers(8, 30)))
    agents = np.array(
        [world.agent(a) for a in world.style.sdk_agents[:8]] + [world.agent("router-gateway/2.4")]
    )
    world.emit(
        acct,
        ts,
        bodies,
        egress[rng.integers(0, len(egress), len(ts))],
        agents[rng.integers(0, len(agents), len(ts))],
    )


def serverless(world: World, spec: ArchetypeSpec, idx: int) -> None:
    """A serverless app: one summarization template, a fresh cloud address on every request."""
    rng = np.random.default_rng([world.seed, 107, idx])
    acct = world.new_account(
        archetype="serverless",
        tier=str(rng.choice(["standard", "startup"])),
        email_domain=world.company_domain(rng),
    )
    flavor = flavor_for(rng, spec.flavors)
    model = world.style.models[0]
    rate = rate_for(world, spec, "serverless", rng)
    ts = timing.poisson(rng, world.start, world.end, rate, np.roll(timing.GLOBAL_DAY, int(rng.random() * 24)))
    variant = int(rng.random() * 3)
    docs = world.prompts("human", "chat")
    pool = [
        world.body(
            make_spec(
                rng,
                flavor,
                model,
                phrases.summarize_prompt(pick(rng, docs).text, variant),
                max_tokens=200,
                temperature=0.2,
                answer_chars=answer_len(rng, 60, 300),
            )
        )
        for _ in range(pool_size(len(ts)))
    ]
    ips = hosts_in(rng, world.style.cloud_prefixes, len(ts))  # a fresh function instance each time
    agent = world.agent(world.style.sdk_agents[int(rng.integers(0, 12))])
    world.emit(acct, ts, pool_pick(rng, pool, len(ts)), ips, agent)


def synthetic_data(world: World, spec: ArchetypeSpec, idx: int) -> None:
    """A customer's own synthetic-data job: one slot-filled template at full throughput daily."""
    rng = np.random.default_rng([world.seed, 109, idx])
    acct = world.new_account(
        archetype="synthetic_data",
        tier=str(rng.choice(["startup", "enterprise"])),
        email_domain=world.company_domain(rng),
        verified=True,
    )
    flavor = flavor_for(rng, spec.flavors)
    model = world.model(rng, (0.6, 0.4, 0.0))
    rate = rate_for(world, spec, "synthetic_data", rng)
    days = int(np.ceil(world.scenario.world.days))
    jobs = world.start + np.arange(days) * DAY + rng.integers(0, DAY, days)
    per_job = np.full(days, int(rate))
    ts = timing.bursts(rng, world.start, world.end, jobs, per_job, (0.2, 2.0))
    pool = [
        world.body(
            make_spec(
                rng,
                flavor,
                model,
                phrases.synthetic_data_prompt(rng, pick(rng, phrases.SYNTH_TOPICS)),
                temperature=1.0,
                max_tokens=2048,
                answer_chars=answer_len(rng, 400, 2000),
            )
        )
        for _ in range(pool_size(len(ts)))
    ]
    block = random_block(rng, world.style.cloud_prefixes)
    ips = np.uint32(block) | rng.integers(2, 254, len(ts)).astype(np.uint32)
    agent = world.agent(world.style.sdk_agents[int(rng.integers(0, 6))])
    world.emit(acct, ts, pool_pick(rng, pool, len(ts)), ips, agent)
