"""The engine as middleware in a provider's own app, and the exchange log read back by ingest."""

from __future__ import annotations

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from distillguard.act.app import build_engine
from distillguard.act.exchange_log import ExchangeLog
from distillguard.act.middleware import GatewayMiddleware


async def own_model(request: Request) -> JSONResponse:
    body = await request.json()
    return JSONResponse(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [
                {"type": "thinking", "thinking": "private", "signature": "s"},
                {"type": "text", "text": "served by the provider's app"},
            ],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 3, "output_tokens": 5},
        }
    )


async def other(request: Request) -> PlainTextResponse:
    return PlainTextResponse("untouched")


async def test_middleware_in_own_app_and_log_is_scan_input(tmp_path):
    engine = build_engine(log_dir=tmp_path, identity_key=b"k")
    app = GatewayMiddleware(
        Starlette(routes=[Route("/v1/messages", own_model, methods=["POST"]), Route("/status", other)]),
        engine,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://provider") as client:
        assert (await client.get("/status")).text == "untouched"
        r = await client.post(
            "/v1/messages",
            headers={"x-api-key": "sk-live-1"},
            json={
                "model": "m",
                "max_tokens": 50,
                "thinking": {"type": "enabled", "budget_tokens": 1000},
                "messages": [{"role": "user", "content": "Summarize the plot of Hamlet."}],
            },
        )
        assert r.status_code == 200 and r.json()["content"][1]["text"] == "served by the provider's app"
        r = await client.post("/v1/messages", headers={"x-api-key": "sk-live-1"}, content=b"{")
        assert r.status_code == 400 and r.json()["type"] == "error"
    await engine.aclose()
    files = list(tmp_path.glob("exchanges-*.jsonl"))
    assert len(files) == 1 and not list(tmp_path.glob("*.part"))
    raw = files[0].read_bytes()
    assert b"sk-live-1" not in raw  # the raw key never reaches the log

    from distillguard.ingest import normalize_lines

    table, rejects = normalize_lines(enumerate(raw.splitlines(), 1), str(files[0]), None)
    assert rejects == [] and table.num_rows == 1
    row = table.to_pylist()[0]
    assert row["account_id"].startswith("key_") and row["flavor"] == "anthropic_messages"
    assert row["thinking_requested"] and row["reasoning_chars"] == len("private") and row["status"] == 200


def test_exchange_log_rotates_by_size(tmp_path):
    log = ExchangeLog(tmp_path, max_bytes=300)
    for i in range(10):
        log.write({"id": str(i), "ts": "2026-01-01T00:00:00Z", "account_id": "a", "request": {"x": "y" * 50}})
        log.flush()
    log.close()
    files = sorted(tmp_path.glob("*.jsonl"))
    assert len(files) >= 3
    ids = [orjson.loads(line)["id"] for f in files for line in f.read_bytes().splitlines()]
    assert ids == [str(i) for i in range(10)]


async def test_detector_error_never_fails_a_request():
    engine = build_engine(identity_key=b"k")

    def broken(*args, **kwargs):
        raise RuntimeError("scorer bug")

    engine._funcs = (broken, broken)
    engine.start()  # warming the broken scorer up is counted once
    errors = engine.metrics.registry.get_sample_value("distillguard_detector_errors_total")
    app = GatewayMiddleware(Starlette(routes=[Route("/v1/messages", own_model, methods=["POST"])]), engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as client:
        r = await client.post(
            "/v1/messages",
            headers={"x-api-key": "k"},
            json={"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
        )
    assert r.status_code == 200 and r.json()["content"][1]["text"] == "served by the provider's app"
    assert engine.metrics.registry.get_sample_value("distillguard_detector_errors_total") == errors + 1
    await engine.aclose()


def test_verdicts_reload_when_the_file_changes(tmp_path):
    from distillguard.act.verdicts import VerdictTable

    path = tmp_path / "accounts.csv"
    path.write_text(
        "account_id,risk,flagged,cluster_id,exchanges,reasons\na,0.9,true,c1,5,x\nb,0.01,false,,1,\n"
    )
    table = VerdictTable(tmp_path)
    assert table.reload_if_changed() and table.get("a").flagged and table.get("b") is None  # b: no signal
    assert not table.reload_if_changed()  # unchanged
    path.write_text("account_id,risk,flagged,cluster_id,exchanges,reasons\na,0.2,false,,5,x\nbad,oops,,,,\n")
    assert table.reload_if_changed() and table.get("a").risk == 0.2 and not table.get("a").flagged
    assert table.get("bad") is None
