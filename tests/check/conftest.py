"""Every test site on its own 127.0.0.1 port, served by one uvicorn in a thread.

One server with one socket per site keeps start-up to a fraction of a second;
the dispatcher picks the site by the port a request arrived on. The auditor's
transport refuses any host but 127.0.0.1, so no test can reach the network.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from ai_disclosure._types import Receive, Scope, Send

from .sites import SITES, Hits, build


class LocalOnly(httpx.AsyncBaseTransport):
    """An httpx transport that only talks to 127.0.0.1."""

    def __init__(self) -> None:
        # Plain http on 127.0.0.1 only: no need to load the CA bundle for each audit.
        self._inner = httpx.AsyncHTTPTransport(verify=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "127.0.0.1":
            raise AssertionError(f"the auditor tried to leave 127.0.0.1: {request.url}")
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass(frozen=True)
class Servers:
    urls: dict[str, str]
    hits: dict[str, Hits]

    def __getitem__(self, name: str) -> str:
        return self.urls[name]


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # not the main thread
        pass


def _socket() -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say TCP;
    # without it every response waits out a 40 ms delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    sockets = {name: _socket() for name in SITES}
    ports = {name: sock.getsockname()[1] for name, sock in sockets.items()}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    apps, hits = build(urls)
    by_port = {ports[name]: app for name, app in apps.items()}

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        await by_port[scope["server"][1]](scope, receive, send)

    config = uvicorn.Config(
        dispatch, log_level="warning", lifespan="off", ws="none", access_log=False
    )
    server = _Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": list(sockets.values())}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test sites did not start")
        time.sleep(0.02)
    yield Servers(urls, hits)
    server.should_exit = True
    thread.join(timeout=10)
    for sock in sockets.values():
        sock.close()


@pytest.fixture
def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on."""
    sock = _socket()
    port: int = sock.getsockname()[1]
    sock.close()
    return port
