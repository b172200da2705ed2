"""Fixtures for the registry tests, run against both backends.

SQLite: a template database is migrated once per session and copied for each
test. PostgreSQL (127.0.0.1:5432, database ``test``): one fresh schema per
session, migrated once and emptied before each test, dropped at the end; skipped
only when the server is unreachable and ``CI`` is unset.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import shutil
import socket
import threading
import time
import tomllib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from ai_disclosure.registry import Settings, create_app
from ai_disclosure.registry.db import create_engine, migrate
from ai_disclosure.registry.state import RegistryState
from ai_disclosure.registry.store import Store
from ai_disclosure.registry.tokens import issue_token

from ..conftest import EXAMPLE_MANIFEST, ROOT
from .replica import ReplicaUnavailable, streaming_replica

PG_URL = os.environ.get(
    "AI_DISCLOSURE_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
TABLES = (
    "system_histories",
    "decisions",
    "decision_months",
    "listed_systems",
    "counts",
    "daily_totals",
    "batches",
    "tokens",
    "manifest_versions",
    "services",
)
SERVICE = "demarches"
#: The registry's clock in tests: the example windows (2026-11-26 to 2026-12-03) stay within the
#: accepted range (400 days back, 1 day ahead) whatever day the tests run.
NOW = 1_796_904_000.0  # 2026-12-10T12:00:00Z
BATCH_EXAMPLES = ROOT / "schemas" / "examples" / "disclosure-batch"


@dataclass(frozen=True)
class Backend:
    name: str
    url: str
    connect_args: dict[str, Any] = field(default_factory=dict)


def _pg_reachable() -> str | None:
    async def probe() -> None:
        engine = create_engine(PG_URL)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        finally:
            await engine.dispose()

    try:
        asyncio.run(asyncio.wait_for(probe(), 5))
    except Exception as exc:  # any failure to connect means: not available here
        return f"PostgreSQL unreachable at {PG_URL}: {exc}"
    return None


async def execute(url: str, *statements: str) -> None:
    """Run SQL statements in one transaction on a database of its own engine."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("registry-template") / "template.sqlite3"

    async def prepare() -> None:
        engine = create_engine(str(path))
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(prepare())
    return path


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[Backend]:
    reason = _pg_reachable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    schema = f"registry_test_{uuid.uuid4().hex[:12]}"
    backend = Backend("postgresql", PG_URL, {"server_settings": {"search_path": schema}})

    async def create() -> None:
        await execute(PG_URL, f'CREATE SCHEMA "{schema}"')
        scoped = create_engine(PG_URL, connect_args=backend.connect_args)
        try:
            await migrate(scoped)
        finally:
            await scoped.dispose()

    asyncio.run(create())
    yield backend
    asyncio.run(execute(PG_URL, f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(scope="session")
def pg_replica(pg_schema: Backend) -> Iterator[Backend]:
    """The test schema on a real streaming replica of the server (``replica.py``);
    skipped where one cannot run, unless ``CI`` is set."""
    primary = make_url(PG_URL)
    try:
        with streaming_replica(primary.host or "127.0.0.1", primary.port or 5432) as port:
            url = primary.set(port=port).render_as_string(hide_password=False)
            yield Backend("postgresql", url, pg_schema.connect_args)
    except ReplicaUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """An empty, migrated database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "registry.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return Backend("sqlite", f"sqlite+aiosqlite:///{path}")
    pg: Backend = request.getfixturevalue("pg_schema")

    async def empty() -> None:
        engine = create_engine(pg.url, connect_args=pg.connect_args)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(f"TRUNCATE {', '.join(TABLES)}"))
        finally:
            await engine.dispose()

    asyncio.run(empty())
    return pg


def example_manifest() -> dict[str, Any]:
    with EXAMPLE_MANIFEST.open("rb") as file:
        return tomllib.load(file)


def row(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "system": "assistant-dechets",
        "route": "/dechets/assistant*",
        "mode": "ai-originated",
        "notice_shown": True,
        "language": "fr",
        "window_start": "2026-11-26T10:00:00Z",
        "count": 1,
    }
    base.update(overrides)
    return base


def batch(rows: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"batch_id": str(uuid.uuid4()), "service": SERVICE, "counts": rows}
    body.update(overrides)
    return body


def load_batch(kind: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BATCH_EXAMPLES / kind / name).read_text("utf-8"))
    return copy.deepcopy(data)


@dataclass
class Harness:
    """An app on a fresh database, a client for it, and helpers."""

    app: Starlette
    client: httpx.AsyncClient
    backend: Backend

    @property
    def registry(self) -> RegistryState:
        registry: RegistryState = self.app.state.registry
        return registry

    async def store(self) -> Store:
        return await self.registry.store()

    async def token(self, service: str = SERVICE) -> str:
        _record, secret = await issue_token((await self.store()).engine, service)
        return secret

    async def publish(self, token: str, manifest: dict[str, Any] | None = None) -> httpx.Response:
        data = manifest if manifest is not None else example_manifest()
        return await self.client.put(
            f"/v1/services/{data['service']['id']}/manifest",
            json=data,
            headers={"Authorization": f"Bearer {token}"},
        )

    async def send(self, token: str, body: Any, **headers: str) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        sent.update(headers)
        return await self.client.post("/v1/disclosures", content=raw, headers=sent)

    async def ready(self) -> str:
        """A token for the example service, whose manifest is published."""
        token = await self.token()
        response = await self.publish(token)
        assert response.status_code == 201, response.text
        return token


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"migrate": False, "rate_per_second": None, "clock": lambda: NOW}
    values.update(overrides)
    return Settings(**values)


@pytest_asyncio.fixture
async def make_harness(backend: Backend) -> AsyncIterator[Any]:
    """Factory for harnesses (extra ones share the database); all closed after the test."""
    opened: list[tuple[Any, httpx.AsyncClient]] = []

    async def make(**overrides: Any) -> Harness:
        app = create_app(
            backend.url, settings=settings(**overrides), connect_args=backend.connect_args
        )
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://registry.test"
        )
        opened.append((lifespan, client))
        return Harness(app, client, backend)

    yield make
    for lifespan, client in reversed(opened):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest_asyncio.fixture
async def harness(make_harness: Any) -> Harness:
    made: Harness = await make_harness()
    return made


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread
        pass


@pytest.fixture
def server(backend: Backend) -> Iterator[str]:
    """The registry on a real uvicorn server on 127.0.0.1 (a free port), in a thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(backend.url, settings=settings(), connect_args=backend.connect_args)
    config = uvicorn.Config(app, log_level="warning", access_log=False, ws="none")
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "the server stopped"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()
