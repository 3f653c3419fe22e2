"""The gateway application: the engine's middleware around a forwarding proxy.

    app = create_app("http://model-api.internal:8000", policy="policy.yaml",
                     state_url="redis://127.0.0.1:6379/0", scan_dir="scans/latest", log_dir="logs")

Routes: `POST /v1/messages`, `/v1/chat/completions`, `/v1/responses` (scored, then forwarded),
`GET /healthz`, `GET /metrics` (Prometheus), `/admin/...` (see `admin.py`). Anything else gets
a provider-shaped 404.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from distillguard.act.actions import ROUTES, error_response, family_of
from distillguard.act.admin import admin_routes
from distillguard.act.engine import Engine
from distillguard.act.exchange_log import ExchangeLog
from distillguard.act.identity import IdentityResolver
from distillguard.act.metrics import GatewayMetrics
from distillguard.act.middleware import DEFAULT_MAX_BODY, GatewayMiddleware
from distillguard.act.policy import Policy, load_policy
from distillguard.act.proxy import UpstreamProxy, default_client
from distillguard.act.state import open_state
from distillguard.act.verdicts import VerdictTable

ADMIN_TOKEN_ENV = "DISTILLGUARD_ADMIN_TOKEN"


def build_engine(
    *,
    policy: Policy | str | Path | None = None,
    state_url: str | None = None,
    scan_dir: str | Path | None = None,
    log_dir: str | Path | None = None,
    account_header: str | None = None,
    identity_key: bytes | None = None,
    detect: bool = True,
    dry_run: bool = False,
    fail_mode: str | None = None,
    state_options: dict[str, Any] | None = None,
) -> Engine:
    """An `Engine` from the gateway's options (also what the middleware takes)."""
    pol = policy if isinstance(policy, Policy) else load_policy(policy)
    updates: dict[str, Any] = {}
    if dry_run:
        updates["mode"] = "dry_run"
    if fail_mode:
        updates["fail_mode"] = fail_mode
    if updates:
        pol = pol.model_copy(update=updates)
    metrics = GatewayMetrics()
    state = (
        open_state(state_url, pol.scoring, **({"metrics": metrics} | (state_options or {})))
        if state_url and not state_url.startswith("memory:")
        else open_state(None, pol.scoring)
    )
    xlog = None
    if log_dir:
        xlog = ExchangeLog(log_dir, on_written=metrics.log_records.inc, on_dropped=metrics.log_dropped.inc)
    return Engine(
        pol,
        state,
        identity=IdentityResolver(account_header, identity_key),
        verdicts=VerdictTable(scan_dir) if scan_dir else None,
        exchange_log=xlog,
        metrics=metrics,
        detect=detect,
    )


def create_app(
    upstream: str,
    *,
    engine: Engine | None = None,
    admin_token: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    upstream_timeout_s: float = 600.0,
    **engine_options: Any,
) -> GatewayMiddleware:
    """The gateway as an ASGI app. `engine_options` go to `build_engine` when no engine is given;
    the admin token defaults to the DISTILLGUARD_ADMIN_TOKEN environment variable."""
    engine = engine or build_engine(**engine_options)
    token = admin_token if admin_token is not None else os.environ.get(ADMIN_TOKEN_ENV)
    proxy = UpstreamProxy(upstream, default_client(upstream_timeout_s), engine.metrics)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "state": engine.state.name, "state_up": engine.state_up})

    async def metrics(request: Request) -> Response:
        return Response(engine.metrics.render(), media_type="text/plain; version=0.0.4")

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = {
            404: f"Unknown route {request.url.path}.",
            405: f"Method {request.method} is not allowed on {request.url.path}.",
        }.get(status, "The gateway failed to handle the request.")
        status, headers, body = error_response(
            family_of(request.url.path, request.scope["headers"]), status, message
        )
        return Response(body, status_code=status, headers={k.decode(): v.decode() for k, v in headers})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine.start()
        try:
            yield
        finally:
            await proxy.aclose()

    routes = [Route(path, proxy, methods=["POST"]) for path in ROUTES]
    routes += [Route("/healthz", healthz, methods=["GET"]), Route("/metrics", metrics, methods=["GET"])]
    routes += admin_routes(engine, token)
    inner = Starlette(
        routes=routes, exception_handlers={HTTPException: not_found, Exception: not_found}, lifespan=lifespan
    )
    return GatewayMiddleware(inner, engine, max_body_bytes=max_body_bytes)
