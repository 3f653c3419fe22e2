"""Builders: developers of tool-using apps, CI coding agents, and eval runners.

Traps: exact repeats and tool loops from small teams sharing an organisation and a card; agentic
loops at machine cadence at night from a fresh runner address; a public benchmark with
"let's think step by step" sent by unrelated accounts at full speed on release day.
"""

from __future__ import annotations

import numpy as np

from distillguard.simulate import phrases, timing
from distillguard.simulate.archetypes.common import (
    answer_len,
    flavor_for,
    make_spec,
    new_model_mask,
    rate_for,
)
from distillguard.simulate.bodies import RequestSpec
from distillguard.simulate.draws import pick
from distillguard.simulate.scenario import ArchetypeSpec
from distillguard.simulate.style import hosts_in
from distillguard.simulate.timing import DAY, HOUR, US
from distillguard.simulate.world import TZ, World

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


def tool_developer(world: World, spec: ArchetypeSpec, idx: int, room: int = 3) -> None:
    """A small team of developers (one organisation, one card) building a tool-using app."""
    rng = np.random.default_rng([world.seed, 102, idx])
    team = min(room, int(rng.integers(1, 4)))
    org, pay, country = world.new_org(), world.payment(rng), world.country(rng)
    domain = world.company_domain(rng)
    tier = "startup" if rng.random() < 0.3 else "standard"
    founded = world.start - int(rng.uniform(20, 900) * DAY)  # a team signs up within days
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
            created_at=founded + int(rng.uniform(0, 2) * DAY),
            n_keys=int(rng.integers(1, 4)),
        )
        flavor = flavor_for(rng, spec.flavors)
        model = world.model(rng, (0.2, 0.6, 0.2))
        rate = rate_for(world, spec, "tool_developer", rng)
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
        new_model = new_model_mask(world, rng, ts, 0.25)
        office = hosts_in(rng, world.style.residential_prefixes, 1)[0]
        staging = hosts_in(rng, world.style.cloud_prefixes, 1)[0]
        agent = world.agent(world.style.sdk_agents[int(rng.integers(0, 6))])
        bodies = np.empty(len(ts), np.int32)
        first = -1
        for i in range(len(ts)):
            if i == 0 or sess[i] != sess[i - 1] or rng.random() < 0.35:
                p = pick(rng, tools_prompts)
                step = 0
            else:
                step = (step + 1) % 3  # debugging: re-send the same request, then run the tool loop
            if step == 1 and first >= 0:
                bodies[i] = first
                continue
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
            bodies[i] = world.body(
                make_spec(
                    rng,
                    flavor,
                    m,
                    p.text,
                    tools=p.tools,
                    history=history,
                    call_tool=call_tool,
                    final_is_tool_result=bool(history),
                    answer_chars=answer_len(rng, 80, 900),
                )
            )
            if step == 0:
                first = int(bodies[i])
        ips = np.where(rng.random(len(ts)) < 0.8, office, staging).astype(np.uint32)
        world.emit(acct, ts, bodies, ips, agent)


def ci_agent(world: World, spec: ArchetypeSpec, idx: int) -> None:
    """A CI coding agent: harness prompt, tool loops in night-time bursts, a fresh runner address per run."""
    rng = np.random.default_rng([world.seed, 106, idx])
    country = world.country(rng)
    acct = world.new_account(
        archetype="ci_agent",
        tier=str(rng.choice(["standard", "startup", "enterprise"])),
        email_domain=world.company_domain(rng),
        country=country,
    )
    flavor = flavor_for(rng, spec.flavors)
    model = world.model(rng, (0.1, 0.6, 0.3))
    repo = f"{world.company_domain(rng).split('.')[0]}/{world.text.word(rng)}-service"
    system = phrases.ci_harness_prompt(rng, repo)
    rate = rate_for(world, spec, "ci_agent", rng)
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
        task = pick(rng, prompts).text.split("\n")[0][:200]
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
                    answer_chars=answer_len(rng, 200, 1200),
                    kind="code",
                )
            )
            tool = pick(rng, _CI_TOOLS)["name"]
            cid = f"ci{idx}{s}{int(rng.random() * (1 << 30))}"
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


def eval_runner(world: World, spec: ArchetypeSpec, idx: int) -> None:
    """An eval runner: a public benchmark at full speed on the new model's release day, then idle."""
    rng = np.random.default_rng([world.seed, 104, idx])
    tier = str(rng.choice(["research", "enterprise", "startup", "education"]))
    acct = world.new_account(
        archetype="eval_runner",
        tier=tier,
        verified=True,
        email_domain=world.edu_domain(rng) if tier == "education" else world.company_domain(rng),
    )
    flavor = flavor_for(rng, spec.flavors)
    # Everyone runs the same public benchmarks in the same order: shared prompts across unrelated
    # accounts. A math set, and the public chat benchmark questions of the corpora when present
    # (real people's questions: the same text a forwarder or a chat user may send).
    size = int(rng.integers(200, 600))
    questions = phrases.benchmark(size, world.split)
    if rng.random() < 0.5:
        public = sorted(
            (p for p in world.prompts("human", "chat") if "arena" in p.source), key=lambda p: p.id
        )
        questions = [p.text for p in public[:size]] or questions
    suffix = pick(rng, phrases.EVAL_COT_SUFFIX)
    samples = int(rng.integers(1, 5))
    rate = rate_for(world, spec, "eval_runner", rng)
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
                    answer_chars=answer_len(rng, 300, 1500),
                    reasoning_chars=answer_len(rng, 800, 6000) if think else 0,
                    kind="math",
                )
            )
            for q in questions[: min(len(questions), len(ts))]
        ]
        bodies = np.asarray(per_question, np.int32)[np.arange(len(ts)) % max(1, len(per_question))]
        world.emit(acct, ts, bodies, ips[rng.integers(0, len(ips), len(ts))], agent)
