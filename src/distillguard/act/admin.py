"""Admin API behind a bearer token: read an account's risk and actions, override them.

    GET    /admin/accounts/{account_id}            online state and features, scan verdict, override
    PUT    /admin/accounts/{account_id}/override   {"action", "reason", "ttl_s"}
    DELETE /admin/accounts/{account_id}/override
    GET    /admin/policy                           mode and rules
    POST   /admin/verdicts/reload                  re-read the scan's accounts.csv now

With no token configured the admin API is off (every route answers 404).
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from distillguard.act.engine import Engine
from distillguard.act.policy import Action
from distillguard.act.scoring import account_summary
from distillguard.act.state import Override, StateUnavailable


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action
    reason: str = Field(min_length=1, max_length=500)
    ttl_s: int = Field(86_400, ge=1, le=90 * 86_400)


def admin_routes(engine: Engine, token: str | None) -> list[Route]:
    """The admin routes, guarded by `token` (compared in constant time)."""
    expected = f"Bearer {token}".encode() if token else None

    def authorized(request: Request) -> Response | None:
        if expected is None:
            return JSONResponse({"error": "admin API disabled"}, status_code=404)
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return JSONResponse({"error": "invalid admin token"}, status_code=401)
        return None

    async def get_account(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        account_id = request.path_params["account_id"]
        try:
            state = await engine.state.get_account(account_id)
            override = await engine.state.get_override(account_id)
        except (StateUnavailable, OSError) as exc:
            return JSONResponse({"error": f"state backend unavailable: {exc}"}, status_code=503)
        verdict = engine.verdicts.get(account_id) if engine.verdicts is not None else None
        body: dict[str, Any] = {
            "account_id": account_id,
            "online": state.to_dict() if state is not None else None,
            "online_features": account_summary(state, time.time(), engine.policy.scoring.rate_tau_s)
            if state is not None
            else None,
            "scan": {"risk": verdict.risk, "flagged": verdict.flagged, "cluster_id": verdict.cluster_id}
            if verdict is not None
            else None,
            "override": override.to_dict() if override is not None else None,
        }
        return JSONResponse(body)

    async def put_override(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        try:
            data = OverrideIn.model_validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse(
                {"error": exc.errors(include_url=False, include_context=False)}, status_code=422
            )
        override = Override(data.action, data.reason, time.time() + data.ttl_s)
        try:
            await engine.state.set_override(request.path_params["account_id"], override)
        except (StateUnavailable, OSError) as exc:
            return JSONResponse({"error": f"state backend unavailable: {exc}"}, status_code=503)
        return JSONResponse({"account_id": request.path_params["account_id"], "override": override.to_dict()})

    async def delete_override(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        try:
            removed = await engine.state.clear_override(request.path_params["account_id"])
        except (StateUnavailable, OSError) as exc:
            return JSONResponse({"error": f"state backend unavailable: {exc}"}, status_code=503)
        return JSONResponse({"removed": removed}, status_code=200 if removed else 404)

    async def get_policy(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        p = engine.policy
        return JSONResponse(
            {
                "mode": p.mode,
                "fail_mode": p.fail_mode,
                "withhold": p.withhold,
                "rules": [
                    {
                        "id": r.id,
                        "title": r.title,
                        "level": r.level,
                        "action": r.action,
                        "enabled": r.enabled,
                        "condition": {
                            "all": [str(c) for c in r.condition.all],
                            "any": [str(c) for c in r.condition.any],
                        },
                    }
                    for r in p.rules
                ],
            }
        )

    async def reload_verdicts(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        if engine.verdicts is None:
            return JSONResponse({"error": "no scan directory configured"}, status_code=404)
        changed = engine.verdicts.reload_if_changed()
        return JSONResponse({"reloaded": changed, "accounts": len(engine.verdicts.verdicts)})

    return [
        Route("/admin/accounts/{account_id}", get_account, methods=["GET"]),
        Route("/admin/accounts/{account_id}/override", put_override, methods=["PUT", "POST"]),
        Route("/admin/accounts/{account_id}/override", delete_override, methods=["DELETE"]),
        Route("/admin/policy", get_policy, methods=["GET"]),
        Route("/admin/verdicts/reload", reload_verdicts, methods=["POST"]),
    ]
