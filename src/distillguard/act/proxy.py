"""Forwarding to the upstream model API with httpx, as a pure ASGI app.

Faithful pass-through: the upstream's status, headers (less hop-by-hop ones) and body bytes go
to the client as they arrive, chunk by chunk, so server-sent events stream without the gateway
buffering them. The gateway asks the upstream for an uncompressed body (it must read streams to
withhold reasoning and to log them); compression toward the client, if wanted, belongs to the
server in front. Connection failures and timeouts become provider-shaped 502 / 504 errors; a
stream that breaks half-way ends with the provider's `error` event.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from distillguard.act.actions import error_body, family_of, send_error
from distillguard.act.metrics import GatewayMetrics

log = logging.getLogger("distillguard.gateway")

# Hop-by-hop and framing headers, which describe one connection and are never forwarded.
_REQUEST_DROP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
        b"accept-encoding",
    }
)
_RESPONSE_DROP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)


def default_client(timeout_s: float = 600.0, max_connections: int = 1000) -> httpx.AsyncClient:
    """An httpx client for a model API: long reads (streams), bounded pools, no env proxies."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s, connect=10.0, pool=30.0),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections // 4),
        trust_env=False,
        follow_redirects=False,
    )


class UpstreamProxy:
    """Forward every request it gets to `upstream` + the same path and query."""

    def __init__(
        self, upstream: str, client: httpx.AsyncClient | None = None, metrics: GatewayMetrics | None = None
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.client = client or default_client()
        self.metrics = metrics

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        path = scope.get("raw_path") or scope["path"].encode()
        url = self.upstream + path.decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k not in _REQUEST_DROP]
        headers.append((b"accept-encoding", b"identity"))
        family = family_of(scope["path"], scope["headers"])
        request = self.client.build_request(scope["method"], url, headers=headers, content=b"".join(chunks))
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            self._count("timeout")
            log.warning("upstream timeout: %s", exc)
            await send_error(send, family, 504, "The upstream model API did not answer in time.")
            return
        except httpx.HTTPError as exc:
            self._count("connect")
            log.warning("upstream unreachable: %s", exc)
            await send_error(send, family, 502, "The upstream model API is unreachable.")
            return
        gone: asyncio.Future | None = None
        try:
            out_headers = [
                (k, v) for k, v in response.headers.raw if k.decode("latin-1").lower() not in _RESPONSE_DROP
            ]
            await send(
                {"type": "http.response.start", "status": response.status_code, "headers": out_headers}
            )
            is_sse = response.headers.get("content-type", "").startswith("text/event-stream")
            # A client that leaves a stream should stop the generation it was paying for.
            gone = asyncio.ensure_future(receive()) if is_sse else None
            try:
                async for chunk in response.aiter_raw():
                    if chunk:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    if gone is not None and gone.done():
                        log.info("client left a stream; closing the upstream stream")
                        break
            except httpx.HTTPError as exc:
                self._count("stream")
                log.warning("upstream stream broke: %s", exc)
                if is_sse:  # tell SDK clients the stream failed rather than ending it silently
                    await send({"type": "http.response.body", "body": _sse_error(family), "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            if gone is not None and not gone.done():
                gone.cancel()
            await response.aclose()

    def _count(self, kind: str) -> None:
        if self.metrics is not None:
            self.metrics.upstream_errors.labels(kind).inc()


def _sse_error(family: str) -> bytes:
    body = error_body(family, 502, "The upstream stream ended unexpectedly.")
    return (b"event: error\n" if family == "anthropic" else b"") + b"data: " + body + b"\n\n"
