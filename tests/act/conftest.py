"""Real servers on loopback for the gateway tests: a stand-in model API and gateways in front."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn

from distillguard.act.app import create_app
from distillguard.act.identity import IdentityResolver
from distillguard.act.standin import create_standin_app

IDENTITY_KEY = b"test-identity-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """A uvicorn server running an ASGI app in a background thread."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.app = app
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            server_header=False,
            date_header=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def account_of() -> Callable[[str], str]:
    """The account id the test gateways give a raw API key."""
    resolver = IdentityResolver(key=IDENTITY_KEY)
    return lambda api_key: resolver.key_id(api_key.encode())


@pytest.fixture
def port() -> Callable[[], int]:
    """A factory of free loopback ports."""
    return free_port


@pytest.fixture(scope="session")
def upstream() -> Iterator[ServerThread]:
    server = ServerThread(create_standin_app()).start()
    yield server
    server.stop()


@pytest.fixture
def gateway(upstream: ServerThread) -> Iterator[Callable[..., ServerThread]]:
    """Factory: start a gateway in front of the stand-in upstream with the given options."""
    started: list[ServerThread] = []

    def start(**options: Any) -> ServerThread:
        options.setdefault("identity_key", IDENTITY_KEY)
        target = options.pop("upstream_url", upstream.url)
        server = ServerThread(create_app(target, **options)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
