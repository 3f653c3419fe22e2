"""Legitimate archetypes. Each one is a false-positive trap for some family of detectors.

- casual_chat: people on a human day, multi-turn conversations, a home IP or two.
- tool_developer: developers building tool-using apps, on weekdays, re-sending the same prompt
  while debugging; small teams share an organisation and a payment method.
- chat_product: one fixed system prompt, thousands of end users, high volume around the clock.
- eval_runner: a public benchmark with "let's think step by step", sent by several independent
  accounts on a new model's release day at full speed, then idle.
- router: an LLM gateway with thousands of end users behind one account, many egress IPs,
  every kind of content, every model, early adopter of the new model.
- ci_agent: a coding agent with a fixed harness prompt running tool loops in night-time bursts
  from a fresh CI runner address each run.
- serverless: one summarization template, a fresh cloud address on every request.
- new_account: accounts created during the window, ramping up, some of them students.
- synthetic_data: a customer's own templated data-generation job at full throughput.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from distillguard.simulate import phrases, timing
from distillguard.simulate.bodies import RequestSpec
from distillguard.simulate.scenario import ArchetypeSpec
from distillguard.simulate.style import hosts_in, random_block
from distillguard.simulate.timing import DAY, HOUR, US
from distillguard.simulate.world import TZ, World

# Default requests per account per day, and default API flavour mix.
DEFAULT_RATE: dict[str, tuple[float, float]] = {
    "casual_chat": (2, 15),
    "tool_developer": (30, 160),
    "chat_product": (1500, 6000),
    "eval_runner": (1500, 5000),
    "router": (5000, 15000),
    "ci_agent": (150, 900),
    "serverless": (300, 2500),
    "new_account": (5, 60),
    "synthetic_data": (1500, 6000),
}
DEFAULT_FLAVORS = {"anthropic_messages": 0.5, "openai_chat": 0.35, "openai_responses": 0.15}
POOL_CAP = 2500  # distinct bodies per high-volume account; repeats beyond that are realistic
REPEAT = 6  # a templated high-volume source sends each distinct body about this often

_CI_TOOLS = (
    {
        "name": "bash",
        "description": "Run a shell command in the repository and return its output.",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string"}},
            "required": ["command"],
        },
    },
    {
        "name": "read_file",
        "description": "Read a file of the repository.",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    },
    {
        "name": "edit_file",
        "description": "Replace a unique string in a file.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "old": {"type": "string"}, "new": {"type": "string"}},
            "required": ["path", "old", "new"],
        },
    },
)


def _flavor(rng: np.random.Generator, weights: dict[str, float] | None) -> str:
    return weighted(rng, weights or DEFAULT_FLAVORS)


def pick(rng: np.random.Generator, options: tuple | list):
    """One of `options`, uniformly (rng.choice is slow on small Python sequences)."""
    return options[int(rng.integers(len(options)))]


def weighted_index(rng: np.random.Generator, weights: tuple[float, ...]) -> int:
    """An index drawn in proportion to `weights`."""
    r = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        r -= w
        if r < 0:
            return i
    return len(weights) - 1


def weighted(rng: np.random.Generator, weights: dict[str, float]) -> str:
    """One key of `weights`, drawn in proportion to its weight (cheaper than rng.choice)."""
    total = sum(weights.values())
    r = rng.random() * total
    for name, w in weights.items():
        r -= w
        if r < 0:
            return name
    return next(k for k, w in reversed(weights.items()) if w > 0)


def _answer(rng: np.random.Generator, low: int = 200, high: int = 2500) -> int:
    """A log-uniform answer length in characters."""
    return int(low * (high / low) ** rng.random())


def _spec(world: World, rng: np.random.Generator, flavor: str, model: str, user: str, **kw) -> RequestSpec:
    kw.setdefault("answer_chars", _answer(rng))
    kw.setdefault("max_tokens", pick(rng, (1024, 2048, 4096, 8192)))
    kw.setdefault("temperature", None if rng.random() < 0.5 else pick(rng, (0.2, 0.5, 0.7, 1.0)))
    return RequestSpec(flavor=flavor, model=model, user=user, **kw)


def _model_at(world: World, rng: np.random.Generator, ts: np.ndarray, base: str, adopt: float) -> np.ndarray:
    """Per exchange: True when the new model is used (after release, with probability `adopt`)."""
    return (ts >= world.release + int(rng.uniform(0.5, 12) * HOUR)) & (rng.random(len(ts)) < adopt)


def _pool_size(n: int) -> int:
    """Distinct bodies for `n` requests of one templated source: repeats are part of the shape."""
    return min(POOL_CAP, max(20, n // REPEAT))


def _pool_pick(rng: np.random.Generator, pool: list[int], n: int) -> np.ndarray:
    return np.asarray(pool, dtype=np.int32)[rng.integers(0, len(pool), n)]


def _rate(world: World, spec: ArchetypeSpec, name: str, rng: np.random.Generator) -> float:
    return world.draw(spec.exchanges_per_day or DEFAULT_RATE[name], rng)


# ---------------------------------------------------------------------------- archetypes


def casual_chat(world: World, spec: ArchetypeSpec, idx: int) -> None:
    rng = np.random.default_rng([world.seed, 101, idx])
    country = world.country(rng)
    acct = world.new_account(archetype="casual_chat", country=country)
    flavor = _flavor(rng, spec.flavors)
    model = world.model(rng)
    rate = _rate(world, spec, "casual_chat", rng)
    per_session = float(rng.uniform(1.5, 4))
    ts, sess = timing.sessions(
        rng, world.start, world.scenario.world.days, rate / per_session, per_session, TZ.get(country, 0)
    )
    home = hosts_in(rng, world.style.residential_prefixes, 2)
    agent = world.agent(world.style.sdk_agents[int(rng.integers(len(world.style.sdk_agents)))])
    prompts = world.prompts("human", "chat")
    bodies = np.empty(len(ts), np.int32)
    history: tuple = ()
    for i in range(len(ts)):
        new_session = i == 0 or sess[i] != sess[i - 1]
        if new_session or len(history) > 8:
            history = ()
            user = phrases.casual(prompts[int(rng.integers(len(prompts)))].text, rng)
        else:
            user = phrases.FOLLOW_UPS[int(rng.integers(len(phrases.FOLLOW_UPS)))]
        think = pick(rng, (2048, 4096)) if flavor == "anthropic_messages" and rng.random() < 0.1 else None
        s = _spec(
            world,
            rng,
            flavor,
            model,
            user,
            history=history,
            thinking_budget=think,
            max_tokens=8192 if think else 1024,
        )
        bodies[i] = world.body(s)
        history = (*history, ("user", user), ("assistant", world.text.answer(rng, 300)))
    ips = home[(rng.random(len(ts)) < 0.2).astype(int)]
    world.emit(acct, ts, bodies, ips, agent)


def tool_developer(world: World, spec: ArchetypeSpec, idx: int, room: int = 3) -> None:
    rng = np.random.default_rng([world.seed, 102, idx])
    team = min(room, int(rng.integers(1, 4)))
    org, pay, country = world.new_org(), world.payment(rng), world.country(rng)
    domain = world.company_domain(rng)
    tier = "startup" if rng.random() < 0.3 else "standard"
    tools_prompts = [p for p in world.prompts("human", "tool") if p.tools] or list(
        world.prompts("human", "tool")
    )
    for member in range(team):
        acct = world.new_account(
            archetype="tool_developer",
            org_id=org,
            payment=pay,
            country=country,
            email_domain=domain,
            tier=tier,
            n_keys=int(rng.integers(1, 4)),
        )
        flavor = _flavor(rng, spec.flavors)
        model = world.model(rng, (0.2, 0.6, 0.2))
        rate = _rate(world, spec, "tool_developer", rng)
        ts, sess = timing.sessions(
            rng,
            world.start,
            world.scenario.world.days,
            rate / 8,
            8,
            TZ.get(country, 0),
            gap_s=(8, 120),
            weekdays_only=member == 0,
        )
        new_model = _model_at(world, rng, ts, model, 0.25)
        office = hosts_in(rng, world.style.residential_prefixes, 1)[0]
        staging = hosts_in(rng, world.style.cloud_prefixes, 1)[0]
        agent = world.agent(world.style.sdk_agents[int(rng.integers(0, 6))])
        bodies = np.empty(len(ts), np.int32)
        current = None
        for i in range(len(ts)):
            if i == 0 or sess[i] != sess[i - 1] or rng.random() < 0.35:
                p = tools_prompts[int(rng.integers(len(tools_prompts)))]
                step = 0
            else:
                step = (step + 1) % 3  # debugging: re-send, then step through the tool loop
            m = world.style.new_model if new_model[i] else model
            history: tuple = ()
            call_tool = step == 0
            if step == 2 and p.tools:
                args = {"q": world.text.word(rng)}
                history = (
                    ("user", p.text),
                    ("tool_call", f"dev{idx}{i}", p.tools[0]["name"], args),
                    ("tool_result", f"dev{idx}{i}", world.text.tool_result(rng, p.tools[0]["name"])),
                )
            current = _spec(
                world,
                rng,
                flavor,
                m,
                p.text,
                tools=p.tools,
                history=history,
                call_tool=call_tool,
                final_is_tool_result=bool(history),
                answer_chars=_answer(rng, 80, 900),
            )
            bodies[i] = world.body(current)
        ips = np.where(rng.random(len(ts)) < 0.8, office, staging).astype(np.uint32)
        world.emit(acct, ts, bodies, ips, agent)


def chat_product(world: World, spec: ArchetypeSpec, idx: int) -> None:
    rng = np.random.default_rng([world.seed, 103, idx])
    acct = world.new_account(
        archetype="chat_product",
        tier="enterprise" if rng.random() < 0.4 else "standard",
        email_domain=world.company_domain(rng),
        verified=True,
        n_keys=2,
    )
    flavor = _flavor(rng, spec.flavors)
    model = world.model(rng, (0.5, 0.5, 0.0))
    system = phrases.product_system_prompt(rng)
    rate = _rate(world, spec, "chat_product", rng)
    ts = timing.poisson(rng, world.start, world.end, rate, np.roll(timing.GLOBAL_DAY, int(rng.integers(24))))
    users = int(rng.integers(2000, 20000))
    prompts = world.prompts("human", "chat")
    pool = []
    for _ in range(_pool_size(len(ts))):
        user = phrases.casual(prompts[int(rng.integers(len(prompts)))].text, rng)
        history: tuple = ()
        if rng.random() < 0.35:
            first = phrases.casual(prompts[int(rng.integers(len(prompts)))].text, rng)
            history = (("user", first), ("assistant", world.text.answer(rng, 300)))
            user = phrases.FOLLOW_UPS[int(rng.integers(len(phrases.FOLLOW_UPS)))]
        pool.append(
            world.body(
                _spec(
                    world,
                    rng,
                    flavor,
                    model,
                    user,
                    system=system,
                    history=history,
                    end_user=f"u{int(rng.integers(users))}",
                    answer_chars=_answer(rng, 150, 900),
                    max_tokens=600,
                    temperature=0.7,
                    stream=True,
                )
            )
        )
    fleet = hosts_in(rng, world.style.cloud_prefixes, int(rng.integers(2, 7)))
    agent = world.agent(world.style.sdk_agents[int(rng.integers(0, 6))])
    world.emit(acct, ts, _pool_pick(rng, pool, len(ts)), fleet[rng.integers(0, len(fleet), len(ts))], agent)


def eval_runner(world: World, spec: ArchetypeSpec, idx: int) -> None:
    rng = np.random.default_rng([world.seed, 104, idx])
    tier = str(rng.choice(["research", "enterprise", "startup", "education"]))
    acct = world.new_account(
        archetype="eval_runner",
        tier=tier,
        verified=True,
        email_domain=world.edu_domain(rng) if tier == "education" else world.company_domain(rng),
    )
    flavor = _flavor(rng, spec.flavors)
    # Everyone runs the same public benchmark: shared skeletons across unrelated accounts.
    questions = phrases.benchmark(int(rng.integers(200, 600)), world.split)
    suffix = phrases.EVAL_COT_SUFFIX[int(rng.integers(len(phrases.EVAL_COT_SUFFIX)))]
    samples = int(rng.integers(1, 5))
    rate = _rate(world, spec, "eval_runner", rng)
    runs = [(world.release + int(rng.uniform(0.2, 6) * HOUR), world.style.new_model)]
    if rng.random() < 0.6:  # a nightly regression suite on the current model, too
        runs.append((world.start + int(rng.uniform(1, 4) * HOUR), world.model(rng)))
    think = int(rng.choice([4096, 8192, 16000])) if rng.random() < 0.4 else None
    effort = str(rng.choice(["medium", "high"])) if think else None
    ips = hosts_in(rng, world.style.cloud_prefixes, int(rng.integers(1, 4)))
    agent = world.agent(world.style.sdk_agents[int(rng.integers(0, 8))])
    for start, model in runs:
        n = min(len(questions) * samples, int(rate))
        spacing = 86400 / max(rate, 1)
        ts = timing.bursts(
            rng, world.start, world.end, np.array([start]), np.array([n]), (spacing * 0.3, spacing * 1.7)
        )
        # One body per question: repeated samples send the same request again.
        per_question = [
            world.body(
                RequestSpec(
                    flavor=flavor,
                    model=model,
                    user=f"{q}\n{suffix}",
                    temperature=None if think else 0.0,
                    max_tokens=(think or 0) + 2048,
                    thinking_budget=think if flavor == "anthropic_messages" else None,
                    effort=effort if flavor != "anthropic_messages" else None,
                    answer_chars=_answer(rng, 300, 1500),
                    reasoning_chars=_answer(rng, 800, 6000) if think else 0,
                    kind="math",
                )
            )
            for q in questions[: min(len(questions), len(ts))]
        ]
        bodies = np.asarray(per_question, np.int32)[np.arange(len(ts)) % max(1, len(per_question))]
        world.emit(acct, ts, bodies, ips[rng.integers(0, len(ips), len(ts))], agent)


def router(world: World, spec: ArchetypeSpec, idx: int) -> None:
    rng = np.random.default_rng([world.seed, 105, idx])
    acct = world.new_account(
        archetype="router",
        tier="enterprise",
        verified=True,
        email_domain=world.company_domain(rng),
        n_keys=int(rng.integers(3, 12)),
    )
    rate = _rate(world, spec, "router", rng)
    ts = timing.poisson(rng, world.start, world.end, rate, timing.GLOBAL_DAY)
    users = int(rng.integers(3000, 50000))
    kinds = [
        ("human", "chat"),
        ("human", "tool"),
        ("harvest", "code"),
        ("harvest", "general"),
        ("harvest", "roleplay"),
    ]
    new_model = _model_at(world, rng, ts, "", 0.3)
    pools: dict[bool, list[int]] = {False: [], True: []}
    for new in (False, True):
        for _ in range(_pool_size(int((new_model == new).sum()))):
            origin, task = kinds[weighted_index(rng, (0.45, 0.2, 0.15, 0.1, 0.1))]
            prompts = world.prompts(origin, task)
            p = prompts[int(rng.integers(len(prompts)))]
            flavor = _flavor(rng, spec.flavors)
            model = world.style.new_model if new else world.model(rng)
            think = (
                pick(rng, (2048, 8192)) if flavor == "anthropic_messages" and rng.random() < 0.15 else None
            )
            pools[new].append(
                world.body(
                    _spec(
                        world,
                        rng,
                        flavor,
                        model,
                        phrases.casual(p.text, rng),
                        tools=p.tools,
                        call_tool=bool(p.tools),
                        thinking_budget=think,
                        max_tokens=(think or 0) + 2048,
                        temperature=None if think else 0.7,
                        end_user=f"or-{int(rng.integers(users))}",
                        kind="code" if task == "code" else "general",
                    )
                )
            )
    bodies = np.where(
        new_model, _pool_pick(rng, pools[True], len(ts)), _pool_pick(rng, pools[False], len(ts))
    )
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


def ci_agent(world: World, spec: ArchetypeSpec, idx: int) -> None:
    rng = np.random.default_rng([world.seed, 106, idx])
    country = world.country(rng)
    acct = world.new_account(
        archetype="ci_agent",
        tier=str(rng.choice(["standard", "startup", "enterprise"])),
        email_domain=world.company_domain(rng),
        country=country,
    )
    flavor = _flavor(rng, spec.flavors)
    model = world.model(rng, (0.1, 0.6, 0.3))
    repo = f"{world.company_domain(rng).split('.')[0]}/{world.text.word(rng)}-service"
    system = phrases.ci_harness_prompt(rng, repo)
    rate = _rate(world, spec, "ci_agent", rng)
    days = int(np.ceil(world.scenario.world.days))
    steps_mean = float(rng.uniform(8, 30))
    runs_per_day = max(1, int(rate / steps_mean))
    tz = TZ.get(country, 0)
    starts = []
    for d in range(days):  # the nightly batch at 01:00-05:00 local, plus daytime PR runs
        night = world.start + d * DAY + int(((1 - tz) % 24) * HOUR)
        starts += list(night + rng.integers(0, 4 * HOUR, int(runs_per_day * 0.7) + 1))
        starts += list(world.start + d * DAY + rng.integers(0, DAY, int(runs_per_day * 0.3)))
    agent = world.agent(
        f"claude-cli/1.0.{int(rng.integers(20, 99))} (external, sdk-ci)"
        if flavor == "anthropic_messages"
        else world.style.sdk_agents[int(rng.integers(0, 6))]
    )
    prompts = world.prompts("harvest", "code")
    for run_start in starts:
        task = prompts[int(rng.integers(len(prompts)))].text.split("\n")[0][:200]
        user = f"CI job failed on the default branch. Task: {task}\nMake the checks pass."
        steps = int(rng.geometric(1 / steps_mean))
        ts = int(run_start) + np.cumsum(rng.uniform(2, 25, steps) * US).astype(np.int64)
        history: tuple = ()
        bodies = np.empty(steps, np.int32)
        for s in range(steps):
            last = s == steps - 1
            bodies[s] = world.body(
                RequestSpec(
                    flavor=flavor,
                    model=model,
                    user=user,
                    system=system,
                    tools=_CI_TOOLS,
                    history=history[-12:],
                    call_tool=not last,
                    final_is_tool_result=bool(history),
                    max_tokens=8192,
                    temperature=0.0,
                    answer_chars=_answer(rng, 200, 1200),
                    kind="code",
                )
            )
            tool = _CI_TOOLS[int(rng.integers(len(_CI_TOOLS)))]["name"]
            cid = f"ci{idx}{s}{int(rng.integers(1 << 30))}"
            if not history:
                history = (("user", user),)
            args = (
                {"command": world.text.arg_value("command", rng)}
                if tool == "bash"
                else {"path": world.text.arg_value("path", rng)}
            )
            history = (
                *history,
                ("tool_call", cid, tool, args),
                ("tool_result", cid, world.text.tool_result(rng, tool)),
            )
        runner_ip = hosts_in(rng, world.style.cloud_prefixes, 1)[0]  # a fresh CI runner per run
        world.emit(acct, ts, bodies, runner_ip, agent)


def serverless(world: World, spec: ArchetypeSpec, idx: int) -> None:
    rng = np.random.default_rng([world.seed, 107, idx])
    acct = world.new_account(
        archetype="serverless",
        tier=str(rng.choice(["standard", "startup"])),
        email_domain=world.company_domain(rng),
    )
    flavor = _flavor(rng, spec.flavors)
    model = world.style.models[0]
    rate = _rate(world, spec, "serverless", rng)
    ts = timing.poisson(rng, world.start, world.end, rate, np.roll(timing.GLOBAL_DAY, int(rng.integers(24))))
    variant = int(rng.integers(3))
    docs = world.prompts("human", "chat")
    pool = [
        world.body(
            _spec(
                world,
                rng,
                flavor,
                model,
                phrases.summarize_prompt(docs[int(rng.integers(len(docs)))].text, variant),
                max_tokens=200,
                temperature=0.2,
                answer_chars=_answer(rng, 60, 300),
            )
        )
        for _ in range(_pool_size(len(ts)))
    ]
    ips = hosts_in(rng, world.style.cloud_prefixes, len(ts))  # a fresh function instance each time
    agent = world.agent(world.style.sdk_agents[int(rng.integers(0, 12))])
    world.emit(acct, ts, _pool_pick(rng, pool, len(ts)), ips, agent)


def new_account(world: World, spec: ArchetypeSpec, idx: int) -> None:
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
    flavor = _flavor(rng, spec.flavors)
    model = world.model(rng)
    rate = _rate(world, spec, "new_account", rng)
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
        p = prompts[int(rng.integers(len(prompts)))]
        bodies[i] = world.body(
            _spec(
                world,
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


def synthetic_data(world: World, spec: ArchetypeSpec, idx: int) -> None:
    rng = np.random.default_rng([world.seed, 109, idx])
    acct = world.new_account(
        archetype="synthetic_data",
        tier=str(rng.choice(["startup", "enterprise"])),
        email_domain=world.company_domain(rng),
        verified=True,
    )
    flavor = _flavor(rng, spec.flavors)
    model = world.model(rng, (0.6, 0.4, 0.0))
    rate = _rate(world, spec, "synthetic_data", rng)
    days = int(np.ceil(world.scenario.world.days))
    jobs = world.start + np.arange(days) * DAY + rng.integers(0, DAY, days)
    per_job = np.full(days, int(rate))
    ts = timing.bursts(rng, world.start, world.end, jobs, per_job, (0.2, 2.0))
    pool = [
        world.body(
            _spec(
                world,
                rng,
                flavor,
                model,
                phrases.synthetic_data_prompt(
                    rng, phrases.SYNTH_TOPICS[int(rng.integers(len(phrases.SYNTH_TOPICS)))]
                ),
                temperature=1.0,
                max_tokens=2048,
                answer_chars=_answer(rng, 400, 2000),
            )
        )
        for _ in range(_pool_size(len(ts)))
    ]
    block = random_block(rng, world.style.cloud_prefixes)
    ips = np.uint32(block) | rng.integers(2, 254, len(ts)).astype(np.uint32)
    agent = world.agent(world.style.sdk_agents[int(rng.integers(0, 6))])
    world.emit(acct, ts, _pool_pick(rng, pool, len(ts)), ips, agent)


ARCHETYPES: dict[str, Callable[[World, ArchetypeSpec, int], None]] = {
    "casual_chat": casual_chat,
    "tool_developer": tool_developer,
    "chat_product": chat_product,
    "eval_runner": eval_runner,
    "router": router,
    "ci_agent": ci_agent,
    "serverless": serverless,
    "new_account": new_account,
    "synthetic_data": synthetic_data,
}


def generate(world: World, name: str, spec: ArchetypeSpec) -> None:
    """Add `spec.accounts` (scaled) accounts of archetype `name` to the world."""
    target = world.scaled(spec.accounts)
    before, i = len(world.accounts), 0
    while len(world.accounts) - before < target:
        if name == "tool_developer":  # small teams: several accounts of one organisation
            tool_developer(world, spec, i, room=target - (len(world.accounts) - before))
        else:
            ARCHETYPES[name](world, spec, i)
        i += 1
