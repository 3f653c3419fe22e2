"""People: casual chat users, new accounts ramping up, and university courses.

Traps: human prompts (the forwarder's content); no history and an abused tier (new accounts);
a creation burst, a shared card and one homework template asking for step-by-step work (a class).
"""

from __future__ import annotations

import numpy as np

from distillguard.simulate import phrases, timing
from distillguard.simulate.archetypes.common import (
    answer_len,
    flavor_for,
    make_spec,
    rate_for,
)
from distillguard.simulate.draws import pick, weighted_index
from distillguard.simulate.scenario import ArchetypeSpec
from distillguard.simulate.style import hosts_in, random_block
from distillguard.simulate.timing import DAY, HOUR
from distillguard.simulate.world import TZ, World


def casual_chat(world: World, spec: ArchetypeSpec, idx: int) -> None:
    """A person chatting on a human day: multi-turn sessions from a home address or two."""
    rng = np.random.default_rng([world.seed, 101, idx])
    country = world.country(rng)
    acct = world.new_account(archetype="casual_chat", country=country)
    flavor = flavor_for(rng, spec.flavors)
    model = world.model(rng)
    rate = rate_for(world, spec, "casual_chat", rng)
    per_session = float(rng.uniform(1.5, 4))
    ts, sess = timing.sessions(
        rng, world.start, world.scenario.world.days, rate / per_session, per_session, TZ.get(country, 0)
    )
    home = hosts_in(rng, world.style.residential_prefixes, 2)
    agent = world.agent(pick(rng, world.style.sdk_agents))
    prompts = world.prompts("human", "chat")
    bodies = np.empty(len(ts), np.int32)
    history: tuple = ()
    for i in range(len(ts)):
        new_session = i == 0 or sess[i] != sess[i - 1]
        if new_session or len(history) > 8:
            history = ()
            user = phrases.casual(pick(rng, prompts).text, rng)
        else:
            user = pick(rng, phrases.FOLLOW_UPS)
        think = pick(rng, (2048, 4096)) if flavor == "anthropic_messages" and rng.random() < 0.1 else None
        s = make_spec(
            rng,
            flavor,
            model,
            user,
            history=history,
            thinking_budget=think,
            max_tokens=8192 if think else 1024,
            images=1 if new_session and rng.random() < 0.06 else 0,  # a screenshot or a photo
        )
        bodies[i] = world.body(s)
        history = (*history, ("user", user), ("assistant", world.text.answer(rng, 300)))
    ips = home[(rng.random(len(ts)) < 0.2).astype(int)]
    world.emit(acct, ts, bodies, ips, agent)


def new_account(world: World, spec: ArchetypeSpec, idx: int) -> None:
    """An account created during the window that ramps up; some are students, most unverified."""
    rng = np.random.default_rng([world.seed, 108, idx])
    created = world.start + int(rng.uniform(-1, world.scenario.world.days * 0.7) * DAY)
    student = rng.random() < 0.3
    country = world.country(rng)
    acct = world.new_account(
        archetype="new_account",
        created_at=created,
        country=country,
        tier="education" if student else "standard",
        email_domain=world.edu_domain(rng) if student else None,
        verified=bool(rng.random() < 0.3),
    )
    flavor = flavor_for(rng, spec.flavors)
    model = world.model(rng)
    rate = rate_for(world, spec, "new_account", rng)
    ts, _ = timing.sessions(rng, world.start, world.scenario.world.days, rate / 4, 4, TZ.get(country, 0))
    ts = ts[ts > created]
    # Ramp: the first day after sign-up keeps only part of the traffic.
    age_days = (ts - created) / DAY
    ts = ts[rng.random(len(ts)) < np.clip(0.25 + age_days, 0, 1)]
    kinds = [("human", "chat"), ("harvest", "code"), ("human", "tool")]
    bodies = np.empty(len(ts), np.int32)
    for i in range(len(ts)):
        origin, task = kinds[weighted_index(rng, (0.6, 0.25, 0.15))]
        prompts = world.prompts(origin, task)
        p = pick(rng, prompts)
        bodies[i] = world.body(
            make_spec(
                rng,
                flavor,
                model,
                phrases.casual(p.text, rng),
                tools=p.tools,
                kind="code" if task == "code" else "general",
            )
        )
    home = hosts_in(rng, world.style.residential_prefixes, 1)[0]
    agent = world.agent(world.style.sdk_agents[int(rng.integers(0, 12))])
    world.emit(acct, ts, bodies, home, agent)


def classroom(world: World, spec: ArchetypeSpec, idx: int, room: int = 40) -> None:
    """A university course: students on education accounts created the same week, one homework
    template, campus NAT addresses in class hours, sometimes paid by one department card."""
    rng = np.random.default_rng([world.seed, 110, idx])
    size = min(room, 12 + int(rng.random() * 29))
    domain, country = world.edu_domain(rng), world.country(rng)
    term_start = world.start - int(rng.uniform(7, 40) * DAY)
    department_card = world.payment(rng) if rng.random() < 0.35 else None
    campus = random_block(rng, world.style.residential_prefixes)
    flavor = flavor_for(rng, spec.flavors)
    model = world.model(rng, (0.6, 0.4, 0.0))
    homework = 1 + int(rng.random() * 9)
    problems = phrases.benchmark(60, world.split, rng=np.random.default_rng([world.seed, 111, idx]))
    code = world.prompts("harvest", "code")
    chat = world.prompts("human", "chat")
    assignment = [
        world.body(
            make_spec(
                rng,
                flavor,
                model,
                phrases.assignment_prompt(rng, homework, p if i % 3 else pick(rng, code).text),
                kind="cot",
                answer_chars=answer_len(rng, 400, 2000),
            )
        )
        for i, p in enumerate(problems)
    ]
    agent = world.agent(world.style.sdk_agents[int(rng.random() * 8)])
    tz = TZ.get(country, 0)
    for _ in range(size):
        acct = world.new_account(
            archetype="classroom",
            tier="education",
            email_domain=domain,
            country=country,
            created_at=term_start + int(rng.uniform(0, 3) * DAY),
            payment=department_card,
            verified=bool(rng.random() < 0.5),
        )
        rate = rate_for(world, spec, "classroom", rng)
        ts, _ = timing.sessions(
            rng,
            world.start,
            world.scenario.world.days,
            rate / 6,
            6,
            tz,
            gap_s=(20, 300),
            weekdays_only=rng.random() < 0.7,
        )
        on_campus = (((ts % DAY) / HOUR + tz) % 24 < 17) & (rng.random(len(ts)) < 0.85)
        home = hosts_in(rng, world.style.residential_prefixes, 1)[0]
        ips = np.where(on_campus, np.uint32(campus) | rng.integers(2, 254, len(ts)).astype(np.uint32), home)
        bodies = np.empty(len(ts), np.int32)
        for i in range(len(ts)):
            if rng.random() < 0.7:
                bodies[i] = pick(rng, assignment)
            else:
                p = pick(rng, chat)
                bodies[i] = world.body(make_spec(rng, flavor, model, phrases.casual(p.text, rng)))
        world.emit(acct, ts, bodies, ips.astype(np.uint32), agent)
