"""What a campaign sends: harvest request specs, and a reseller's ordinary customers' requests.

`HarvestContent.spec` draws one request of a campaign: a slot (harvest prompt, a real user's
prompt, or a math problem) wrapped by the campaign's templates (paraphrased at the configured
share) as plain harvest, chain-of-thought elicitation, rubric grading or a censorship-safe
rewrite; optionally with tools, an agentic system prompt and a tool-loop history; with thinking
budgets or reasoning effort.
"""

from __future__ import annotations

import numpy as np

from distillguard.simulate import phrases
from distillguard.simulate.bodies import RequestSpec, tool_args
from distillguard.simulate.draws import answer_len, pick, weighted, weighted_index
from distillguard.simulate.scenario import CampaignSpec
from distillguard.simulate.world import World

_HARVEST_TOOLS = (
    {
        "name": "web_search",
        "description": "Search the web and return the top results.",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
    },
    {
        "name": "python",
        "description": "Execute Python code and return stdout.",
        "parameters": {"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]},
    },
    {
        "name": "bash",
        "description": "Run a shell command.",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string"}},
            "required": ["command"],
        },
    },
    {
        "name": "read_file",
        "description": "Read a file.",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    },
    {
        "name": "write_file",
        "description": "Write a file.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"],
        },
    },
    {
        "name": "browser_click",
        "description": "Click an element on the current page of the browser.",
        "parameters": {
            "type": "object",
            "properties": {"selector": {"type": "string"}},
            "required": ["selector"],
        },
    },
)


class HarvestContent:
    """Draws the campaign's harvest request specs."""

    def __init__(self, world: World, c: CampaignSpec, rng: np.random.Generator) -> None:
        self.world, self.c, self.rng = world, c, rng
        n = c.content.templates
        self.templates = {
            k: phrases.make_templates(rng, n, k, world.split)
            for k in ("plain", "cot", "cot_backward", "rubric", "censorship")
        }
        self.system = phrases.agent_system_prompt(rng) if c.content.agentic_system else None
        self.plain_system = str(
            rng.choice(
                [
                    "You are a helpful assistant.",
                    "You are a helpful, knowledgeable assistant. Answer in detail.",
                    "You are an expert. Be thorough.",
                ]
            )
        )
        self.tools = tuple(
            _HARVEST_TOOLS[i] for i in sorted(rng.choice(len(_HARVEST_TOOLS), 4, replace=False))
        )
        self.math = phrases.benchmark(300, world.split, rng=rng)

    def _slot(self, task: str) -> tuple[str, tuple]:
        rng, world = self.rng, self.world
        if task == "math":
            return pick(rng, self.math), ()
        if self.c.content.source == "forwarded":
            pool = world.prompts("human", "tool" if task == "tool" else "chat")
            p = pick(rng, pool)
            return phrases.casual(p.text, rng), p.tools
        pool = world.prompts("harvest", task if task != "chat" else "general")
        p = pick(rng, pool)
        return p.text, p.tools

    def _wrap(self, kind: str, text: str) -> str:
        c, rng = self.c.content, self.rng
        if kind == "plain" and c.source != "template":
            return text
        if kind == "cot" and c.source == "forwarded":
            t = pick(rng, self.templates["cot"])
            return f"{text}\n\n{t.parts[-2][t.base[-2]]}"  # the elicitation line appended to a real prompt
        pool = self.templates[kind]
        t = pick(rng, pool)
        return t.render(text, rng if rng.random() < c.paraphrase else None)

    def spec(self, flavor: str, model: str) -> RequestSpec:
        """One harvest request of the campaign, in API shape `flavor`, for `model`."""
        rng, c = self.rng, self.c.content
        r = rng.random()
        kind = "plain"
        for name, share in (("cot", c.cot), ("rubric", c.rubric), ("censorship", c.censorship)):
            if r < share:
                kind = name
                break
            r -= share
        agentic = kind == "plain" and rng.random() < c.agentic_system
        with_tools = agentic or (kind == "plain" and rng.random() < c.tools)
        task = weighted(rng, c.tasks)
        text, own_tools = self._slot(task)
        answer_kind = "code" if task == "code" else "general"
        if kind == "cot":
            if rng.random() < 0.3 and c.source != "forwarded":
                kind = "cot_backward"
                text = f"Question: {text}\nFinal answer: {2 + int(rng.random() * 997)}"
            answer_kind = "cot"
        elif kind == "rubric":
            text = f"Question: {text}\n\nResponse: {self.world.text.answer(rng, 400)}"
            answer_kind = "rubric"
        elif kind == "censorship":
            text = pick(rng, phrases.SENSITIVE_QUESTIONS)
        user = self._wrap(kind, text)
        think = None
        effort = None
        reasoning_chars = 0
        if rng.random() < self.c.reasoning.thinking_share:
            reasoning_chars = answer_len(rng, 1500, 8000)
            if flavor == "anthropic_messages":
                think = pick(rng, self.c.reasoning.budgets)
            else:
                effort = self.c.reasoning.effort
        tools = (own_tools or self.tools) if with_tools else ()
        history: tuple = ()
        system = None
        if agentic:
            system = self.system
            history = (("user", user),)
            for s in range(1 + int(rng.random() * 6)):
                tool = pick(rng, tools)
                cid = f"h{int(rng.random() * (1 << 40))}{s}"
                history = (
                    *history,
                    ("tool_call", cid, tool["name"], tool_args(tool, rng, self.world.text)),
                    ("tool_result", cid, self.world.text.tool_result(rng, tool["name"])),
                )
        elif rng.random() < c.system_prompt_share:
            system = self.plain_system
        return RequestSpec(
            flavor=flavor,
            model=model,
            user=user,
            system=system,
            history=history,
            tools=tools,
            thinking_budget=think,
            effort=effort,
            max_tokens=(think or 0) + pick(rng, (4096, 8192, 16000)),
            temperature=None if think else pick(rng, (0.7, 1.0)),
            answer_chars=answer_len(rng, 500, 4000),
            reasoning_chars=reasoning_chars,
            call_tool=with_tools and rng.random() < 0.6,
            final_is_tool_result=agentic,
            kind=answer_kind,
            images=(1 + int(rng.random() * 2)) if not agentic and rng.random() < c.vision else 0,
        )


def customer_spec(world: World, rng: np.random.Generator, flavor: str, model: str) -> RequestSpec:
    """An ordinary request of a reseller's paying customer."""
    kinds = [("human", "chat"), ("human", "tool"), ("harvest", "code")]
    origin, task = kinds[weighted_index(rng, (0.6, 0.25, 0.15))]
    pool = world.prompts(origin, task)
    p = pick(rng, pool)
    return RequestSpec(
        flavor=flavor,
        model=model,
        user=phrases.casual(p.text, rng),
        tools=p.tools,
        call_tool=bool(p.tools),
        max_tokens=2048,
        temperature=0.7,
        answer_chars=answer_len(rng, 150, 2000),
        kind="code" if task == "code" else "general",
    )
