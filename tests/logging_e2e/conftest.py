"""The real registry app, for the logging SDK's end-to-end tests: in-process through
``httpx.ASGITransport``, or served by uvicorn on 127.0.0.1, with faults to inject."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ai_disclosure._logger import DisclosureLogger
from ai_disclosure.client import AsyncRegistryClient
from ai_disclosure.registry import Settings, create_app, create_token_async

from ..conftest import EXAMPLE_MANIFEST

SERVICE = "demarches"
SYSTEMS = ("assistant-dechets", "traduction-pages")


class Faults:
    """What the registry does to ``POST /v1/disclosures``: nothing, or, until ``until``,
    answer 500, answer 429 with ``Retry-After``, or store the batch and answer 500
    as if the answer had been lost on the way back - in turn."""

    def __init__(self) -> None:
        self.down = False
        self.until = 0.0
        self.retry_after = "1"
        self._turns = itertools.cycle(["500", "429", "lost-answer"])
        self.seen: Counter[str] = Counter()

    def trouble_for(self, seconds: float) -> None:
        self.until = time.monotonic() + seconds

    def next(self) -> str | None:
        if time.monotonic() >= self.until:
            return None
        action = next(self._turns)
        self.seen[action] += 1
        return action


async def _send_problem(send: Send, status: int, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"type": "about:blank", "title": "injected fault", "status": status})
    raw = [(b"content-type", b"application/problem+json")]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body.encode()})


class FaultyApp:
    """Wraps the registry app; injects ``Faults`` on ``POST /v1/disclosures`` only."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/disclosures":
            await self.app(scope, receive, send)
            return
        action = self.faults.next()
        if action == "500":
            await _send_problem(send, 500)
        elif action == "429":
            await _send_problem(send, 429, {"Retry-After": self.faults.retry_after})
        elif action == "lost-answer":

            async def swallow(message: Message) -> None:
                pass

            await self.app(scope, receive, swallow)
            await _send_problem(send, 500)
        else:
            await self.app(scope, receive, send)


class DownableTransport(httpx.AsyncBaseTransport):
    """An in-process transport that refuses connections while ``faults.down``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, faults: Faults) -> None:
        self.inner = inner
        self.faults = faults

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.faults.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@contextlib.asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Run an ASGI app's lifespan, as a server does."""
    receive: asyncio.Queue[Message] = asyncio.Queue()
    send: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, receive.get, send.put))
    await receive.put({"type": "lifespan.startup"})
    assert (await send.get())["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        await receive.put({"type": "lifespan.shutdown"})
        assert (await send.get())["type"] == "lifespan.shutdown.complete"
        await task


@dataclass
class RegistryUnderTest:
    db_url: str
    token: str
    app: ASGIApp
    faults: Faults = field(default_factory=Faults)
    url: str = "http://registry.test"

    @property
    def faulty(self) -> FaultyApp:
        return FaultyApp(self.app, self.faults)

    def transport(self) -> httpx.AsyncBaseTransport:
        """In-process, through the faults."""
        return DownableTransport(httpx.ASGITransport(app=self.faulty), self.faults)

    def client(self) -> AsyncRegistryClient:
        """In-process, around the faults: to read what was stored."""
        return AsyncRegistryClient(self.url, self.token, transport=httpx.ASGITransport(self.app))

    async def totals(self) -> dict[str, int]:
        async with self.client() as client:
            return {s: (await client.system_entry(SERVICE, s))["counts"]["total"] for s in SYSTEMS}

    async def total(self) -> int:
        return sum((await self.totals()).values())

    async def decision_system(self, reference: str) -> str | None:
        """Which system took the decision logged under ``reference`` (the service's lookup)."""
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(self.app), base_url=self.url
        ) as client:
            response = await client.get(
                f"/v1/services/{SERVICE}/decisions/{reference}",
                headers={"Authorization": f"Bearer {self.token}"},
            )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        system: str = response.json()["system"]
        return system

    async def decisions(self) -> dict[str, str]:
        """Every stored decision: reference -> system (straight from the database)."""
        from ai_disclosure.registry.db import create_engine
        from ai_disclosure.registry.tables import decisions

        engine = create_engine(self.db_url)
        try:
            async with engine.connect() as connection:
                rows = (await connection.execute(decisions.select())).all()
        finally:
            await engine.dispose()
        found = {row.reference: row.system for row in rows}
        assert len(found) == len(rows), "a reference was stored twice"
        return found


async def new_registry(tmp_path: Path, settings: Settings | None = None) -> RegistryUnderTest:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'registry.sqlite3'}"
    token = await create_token_async(db_url, SERVICE)
    app = create_app(db_url, settings=settings or Settings(rate_per_second=None))
    return RegistryUnderTest(db_url, token, app)


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[RegistryUnderTest]:
    """The real registry, started, with the example manifest published."""
    under_test = await new_registry(tmp_path)
    async with lifespan(under_test.app):
        async with under_test.client() as client:
            await client.push_manifest(EXAMPLE_MANIFEST)
        yield under_test


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Uvicorn:
    """A real uvicorn server on 127.0.0.1:``port``, in a thread of this process."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Uvicorn:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=20)


@contextlib.contextmanager
def served(app: ASGIApp, port: int | None = None) -> Iterator[Uvicorn]:
    with Uvicorn(app, port or free_port()) as server:
        yield server


def make_logger(url: str, token: str, **kwargs: Any) -> DisclosureLogger:
    """A logger with short windows and short backoff, so tests take seconds."""
    options: dict[str, Any] = {
        "window_seconds": 1,
        "backoff_base": 0.05,
        "backoff_cap": 0.5,
        "random": random.Random(7).random,
    }
    options.update(kwargs)
    return DisclosureLogger(SERVICE, url, token, **options)


def record(logger: DisclosureLogger, n: int, system: str = SYSTEMS[0], lang: str = "fr") -> None:
    for _ in range(n):
        logger.record(system, "/dechets/assistant*", "ai-originated", True, lang)


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = 20.0, step: float = 0.1
) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within} s")
        await asyncio.sleep(step)
