"""A tiny scenario with every archetype, a lockstep campaign and a reseller pool."""

TINY = """
name: tiny
world: {days: 1, new_model_release_hour: [6, 10]}
legit:
  casual_chat: {accounts: 4}
  tool_developer: {accounts: 3}
  chat_product: {accounts: 1, exchanges_per_day: 120}
  eval_runner: {accounts: 2, exchanges_per_day: 80}
  router: {accounts: 1, exchanges_per_day: 150}
  ci_agent: {accounts: 1, exchanges_per_day: 60}
  serverless: {accounts: 1, exchanges_per_day: 60}
  new_account: {accounts: 2}
  synthetic_data: {accounts: 1, exchanges_per_day: 60}
  classroom: {accounts: 3}
campaigns:
  - id: lockstep
    accounts: 4
    payment: {shared_share: 1.0, pool: 1}
    timing: {mode: lockstep, exchanges_per_account_per_day: 40}
    content: {source: template, tasks: {math: 1}, cot: 0.6, rubric: 0.2, censorship: 0.1}
    reasoning: {thinking_share: 0.5, budgets: [8000]}
    pivot: {share: 0.5, within_hours: 1}
    flavors: {anthropic_messages: 1, openai_chat: 1, openai_responses: 1}
  - id: resale
    accounts: 3
    ip: {strategy: residential_per_request}
    timing: {mode: flat, exchanges_per_account_per_day: 40}
    content: {source: harvest, tasks: {code: 1, tool: 1}, agentic_system: 0.5, tools: 0.3, vision: 0.3}
    reseller: {customers_share: 0.5}
    flavors: {openai_responses: 1, anthropic_messages: 1}
"""
