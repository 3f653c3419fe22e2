"""Act: the real-time gateway, its ASGI middleware, policy and online state.

- `create_app(upstream, ...)`: the gateway as an ASGI app (what `distillguard gateway` serves).
- `GatewayMiddleware(app, engine)`: the same engine around a provider's own ASGI app.
- `build_engine(...)` / `Engine`: scoring, state and policy; `load_policy(path)`: validated rules.
"""

from distillguard.act.app import build_engine, create_app
from distillguard.act.engine import Decision, Engine
from distillguard.act.middleware import GatewayMiddleware
from distillguard.act.policy import Policy, PolicyError, evaluate, load_policy

__all__ = [
    "Decision",
    "Engine",
    "GatewayMiddleware",
    "Policy",
    "PolicyError",
    "build_engine",
    "create_app",
    "evaluate",
    "load_policy",
]
