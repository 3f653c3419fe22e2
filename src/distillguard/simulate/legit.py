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
- classroom: a course's students on education accounts created the same week, one homework
  template, campus addresses, sometimes one department card.
"""

from __future__ import annotations

from collections.abc import Callable

from distillguard.simulate.archetypes.builders import ci_agent, eval_runner, tool_developer
from distillguard.simulate.archetypes.people import casual_chat, classroom, new_account
from distillguard.simulate.archetypes.services import chat_product, router, serverless, synthetic_data
from distillguard.simulate.scenario import ArchetypeSpec
from distillguard.simulate.world import World

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
    "classroom": classroom,
}


def generate(world: World, name: str, spec: ArchetypeSpec) -> None:
    """Add `spec.accounts` (scaled) accounts of archetype `name` to the world."""
    target = world.scaled(spec.accounts)
    before, i = len(world.accounts), 0
    while len(world.accounts) - before < target:
        room = target - (len(world.accounts) - before)
        if name == "tool_developer":  # small teams: several accounts of one organisation
            tool_developer(world, spec, i, room=room)
        elif name == "classroom":  # a course: many students' accounts at once
            classroom(world, spec, i, room=room)
        else:
            ARCHETYPES[name](world, spec, i)
        i += 1
