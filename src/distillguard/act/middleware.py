"""The engine as pure ASGI middleware, for providers that serve the model from their own app.

    app = GatewayMiddleware(model_app, engine=Engine(policy, state, exchange_log=...))

The middleware reads the body of a `POST` to one of the API routes, asks the engine for a
decision, and then either answers itself (a provider-shaped 4xx/5xx) or calls the wrapped app,
rewriting the response on the way out when reasoning is withheld and recording the exchange when
logging is on. Other routes and lifespan events pass straight through. No response is buffered
except a non-streaming JSON body whose reasoning is withheld (it has to be rewritten whole).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import orjson

from distillguard.act.actions import ROUTES, family_of, send_error, withhold_json
from distillguard.act.engine import Decision, Engine
from distillguard.act.exchange_log import rfc3339
from distillguard.act.policy import DENYING
from distillguard.act.sse import SSEEvent, SSESplitter, StreamAssembler, StreamWithholder, encode_event

log = logging.getLogger("distillguard.gateway")

DEFAULT_MAX_BODY = 32 * 1024 * 1024
_LOG_BODY_CAP = 8 * 1024 * 1024  # response bytes kept for the log; beyond this the body is not logged
_DENY_MESSAGES = {
    "throttle": "Rate limited: too many requests of this kind from this account. Retry later.",
    "step_up": "This account must complete additional verification before using this endpoint.",
    "block": "This account is not permitted to use this endpoint.",
}


class _Responder:
    """Wraps `send`: withholds reasoning and captures the response for the exchange log."""

    def __init__(
        self, send: Any, flavor: str, withholder: StreamWithholder | None, capture: bool, on_withheld: Any
    ) -> None:
        self._send = send
        self.flavor = flavor
        self.withholder = withholder
        self.capture = capture
        self._on_withheld = on_withheld
        self.status = 0
        self._start: dict[str, Any] | None = None
        self._sse = False
        self._buffer_json = False
        self._chunks: list[bytes] = []
        self._size = 0
        self._splitter: SSESplitter | None = None
        self.assembler: StreamAssembler | None = None

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            headers = message.get("headers") or []
            ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
            self._sse = ctype.startswith(b"text/event-stream")
            transform = self.withholder is not None and self.status == 200
            if self._sse:
                if self.capture:
                    self.assembler = StreamAssembler(self.flavor)
                if transform or self.capture:
                    self._splitter = SSESplitter()
                if transform:
                    message = dict(message)
                    message["headers"] = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            elif transform and ctype.startswith(b"application/json"):
                self._buffer_json = True
                self._start = message
                return
            elif self.withholder is not None:
                self.withholder = None  # an error or non-JSON body: nothing to withhold
            await self._send(message)
            return
        if kind != "http.response.body":
            await self._send(message)
            return
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        if self._buffer_json:
            self._chunks.append(chunk)
            if not more:
                await self._send_withheld_json(b"".join(self._chunks))
            return
        if self._splitter is not None:
            await self._stream(chunk, more, message)
            return
        if self.capture and self._size < _LOG_BODY_CAP:
            self._chunks.append(chunk)
            self._size += len(chunk)
        await self._send(message)

    async def _stream(self, chunk: bytes, more: bool, message: dict[str, Any]) -> None:
        raws = self._splitter.feed(chunk)  # type: ignore[union-attr]
        if not more:
            rest = self._splitter.rest()  # type: ignore[union-attr]
            if rest.strip():
                raws.append(rest)
        if self.withholder is None:  # capture only: forward the bytes untouched
            for raw in raws:
                self._record(SSEEvent(raw))
            await self._send(message)
            return
        out: list[bytes] = []
        for raw in raws:
            try:
                events = self.withholder.process(SSEEvent(raw))
            except Exception:  # a rewriting bug drops the event: never leak reasoning, keep streaming
                log.exception("withholding failed on a stream event; event dropped")
                continue
            for ev in events:
                out.append(encode_event(ev))
                self._record(ev)
        if out or not more:
            await self._send({"type": "http.response.body", "body": b"".join(out), "more_body": more})
        if not more and self.withholder.withheld:
            self._on_withheld()

    def _record(self, ev: SSEEvent) -> None:
        """Feed the log's assembler; a failure there costs the log record, never the stream."""
        if self.assembler is None:
            return
        try:
            self.assembler.add(ev)
        except Exception:
            log.exception("could not rebuild a streamed response for the exchange log")
            self.assembler = None

    async def _send_withheld_json(self, body: bytes) -> None:
        mode, summary = self.withholder.mode, self.withholder.summary  # type: ignore[union-attr]
        try:
            doc = orjson.loads(body)
            if isinstance(doc, dict) and withhold_json(self.flavor, doc, mode, summary):
                body = orjson.dumps(doc)
                self._on_withheld()
        except orjson.JSONDecodeError:
            pass  # not JSON after all: forward as received
        start = dict(self._start or {})
        start["headers"] = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        start["headers"].append((b"content-length", str(len(body)).encode()))
        await self._send(start)
        self._chunks, self._size = [body], len(body)
        await self._send({"type": "http.response.body", "body": body, "more_body": False})

    def response_body(self) -> Any:
        """The response as the client received it, parsed, for the log (None if unavailable)."""
        if self.assembler is not None:
            return self.assembler.result()
        if not self._chunks or self._size >= _LOG_BODY_CAP:
            return None
        try:
            return orjson.loads(b"".join(self._chunks))
        except orjson.JSONDecodeError:
            return None


class GatewayMiddleware:
    """Pure ASGI middleware applying an `Engine` to the Anthropic and OpenAI API routes."""

    def __init__(
        self,
        app: Any,
        engine: Engine | None = None,
        *,
        routes: dict[str, str] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.app = app
        self.engine = engine or Engine()
        self.routes = routes or ROUTES
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self.app(scope, self._lifespan_receive(receive), send)
            return
        flavor = self.routes.get(scope.get("path", "")) if kind == "http" else None
        if flavor is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        await self._handle(scope, receive, send, flavor)

    def _lifespan_receive(self, receive: Any) -> Any:
        async def wrapped() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.engine.start()
            elif message["type"] == "lifespan.shutdown":
                await self.engine.aclose()
            return message

        return wrapped

    async def _handle(self, scope: dict[str, Any], receive: Any, send: Any, flavor: str) -> None:
        engine = self.engine
        engine.start()
        wall = time.time()
        headers = scope["headers"]
        family = family_of(flavor)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                engine.metrics.rejected.labels("too_large").inc()
                await send_error(send, family, 413, f"Request body exceeds {self.max_body_bytes} bytes.")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        t0 = time.perf_counter()  # the gateway's own work starts once the body is in
        decision = await engine.decide(flavor, headers, body)
        route = scope["path"]
        metrics = engine.metrics

        if decision.error is not None or decision.action in DENYING:
            status, sent = await self._refuse(send, family, decision)
            metrics.added_latency.observe(time.perf_counter() - t0)
            metrics.requests.labels(route, "refused" if decision.error else decision.intended).inc()
            self._log(scope, decision, wall, t0, status, orjson.loads(sent))
            return

        withholder = None
        if decision.action == "withhold_reasoning":
            withholder = StreamWithholder(flavor, engine.policy.withhold, engine.policy.withhold_summary)
        capture = engine.exchange_log is not None
        metrics.added_latency.observe(time.perf_counter() - t0)
        metrics.requests.labels(route, decision.intended).inc()

        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        if withholder is None and not capture:
            await self.app(scope, replay, send)
            return
        responder = _Responder(
            send, flavor, withholder, capture, lambda: metrics.withheld.labels(flavor).inc()
        )
        try:
            await self.app(scope, replay, responder.send)
        finally:
            if capture:
                self._log(scope, decision, wall, t0, responder.status, responder.response_body())

    async def _refuse(self, send: Any, family: str, d: Decision) -> tuple[int, bytes]:
        if d.error is not None:
            status, message = d.error
            return status, await send_error(send, family, status, message)
        status = 429 if d.action == "throttle" else 403
        body = await send_error(
            send, family, status, _DENY_MESSAGES[d.action], code=d.reason_code, retry_after=d.retry_after
        )
        return status, body

    def _log(
        self, scope: dict[str, Any], d: Decision, wall: float, t0: float, status: int, response: Any
    ) -> None:
        xlog = self.engine.exchange_log
        if xlog is None or d.request is None:
            return  # an unparseable request is not an exchange the scan could read
        ua = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"user-agent"), None)
        client = scope.get("client")
        xlog.write(
            {
                "id": uuid.uuid4().hex,
                "ts": rfc3339(wall),
                "account_id": d.identity.account_id,
                "api_key_id": d.identity.api_key_id,
                "client_ip": client[0] if client else None,
                "user_agent": ua,
                "request": d.request,
                "response": response,
                "status": status,
                "latency_ms": round((time.perf_counter() - t0) * 1000.0, 3),
                "gateway": {
                    "action": d.intended,
                    "enforced": d.action == d.intended,
                    "rule": d.rule_id,
                    "matched": list(d.matched),
                },
            }
        )
