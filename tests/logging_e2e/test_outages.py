"""The logger against the real registry through outages, faults and rate limits: the
registry's totals always equal what was recorded - nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from ai_disclosure._logger import DisclosureLogger
from ai_disclosure.client import AsyncRegistryClient
from ai_disclosure.registry import Settings, create_app, create_token_async

from ..conftest import EXAMPLE_MANIFEST
from .conftest import (
    SERVICE,
    SYSTEMS,
    FaultyApp,
    RegistryUnderTest,
    eventually,
    free_port,
    lifespan,
    make_logger,
    new_registry,
    record,
    served,
)


async def traffic(logger: DisclosureLogger, seconds: float) -> int:
    """Records across several 1 s windows; returns how many."""
    made = 0
    for _ in range(round(seconds / 0.25)):
        record(logger, 40)
        record(logger, 7, system=SYSTEMS[1], lang="en")
        made += 47
        await asyncio.sleep(0.25)
    return made


@contextlib.asynccontextmanager
async def published(tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """A registry database with a token and the example manifest; yields (db_url, token)."""
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'registry.sqlite3'}"
    token = await create_token_async(db_url, SERVICE)
    app = create_app(db_url, settings=Settings(rate_per_second=None))
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with AsyncRegistryClient("http://registry.test", token, transport=transport) as c:
            await c.push_manifest(EXAMPLE_MANIFEST)
    yield db_url, token


async def http_totals(url: str, token: str) -> int:
    async with AsyncRegistryClient(url, token) as client:
        entries = [await client.system_entry(SERVICE, s) for s in SYSTEMS]
    return sum(e["counts"]["total"] for e in entries)


# --- in-process (httpx.ASGITransport) ------------------------------------------------


async def test_down_for_the_whole_run_then_up(registry: RegistryUnderTest) -> None:
    registry.faults.down = True
    logger = make_logger(registry.url, registry.token, transport=registry.transport())
    await logger.start()
    made = await traffic(logger, 2.5)
    assert await registry.total() == 0
    assert logger.stats()["retried"] > 0

    registry.faults.down = False

    async def arrived() -> bool:
        return await registry.total() == made

    await eventually(arrived)
    await logger.aclose()
    assert await registry.total() == made
    stats = logger.stats()
    assert (stats["recorded"], stats["sent"], stats["dropped"]) == (made, made, 0)


async def test_500_and_429_for_a_while(registry: RegistryUnderTest) -> None:
    registry.faults.trouble_for(3.0)
    logger = make_logger(registry.url, registry.token, transport=registry.transport(), max_batch=1)
    await logger.start()
    made = await traffic(logger, 2.5)

    async def arrived() -> bool:
        return await registry.total() >= made and not logger.stats()["pending"]

    await eventually(arrived)
    await logger.aclose()
    assert await registry.total() == made  # exact: no batch counted twice
    assert set(registry.faults.seen) == {"500", "429", "lost-answer"}
    stats = logger.stats()
    assert stats["batches_duplicate"] >= 1  # an answer was lost; the retry was a duplicate
    assert (stats["sent"], stats["dropped"]) == (made, 0)


async def test_the_registry_rate_limit_is_honoured(tmp_path: Path) -> None:
    registry = await new_registry(tmp_path, Settings(rate_per_second=4, rate_burst=2))
    async with lifespan(registry.app):
        async with registry.client() as client:
            await client.push_manifest(EXAMPLE_MANIFEST)
        logger = make_logger(
            registry.url, registry.token, transport=registry.transport(), max_batch=1
        )
        for i in range(8):  # eight keys, eight batches at once: beyond the burst
            logger.record(SYSTEMS[0], f"/page/{i}", "ai-originated", True, "fr")
        assert not await logger.flush()
        assert logger.last_error is not None
        assert logger.last_error.startswith("429")

        async def arrived() -> bool:
            return await registry.total() == 8

        await logger.start()
        await eventually(arrived)
        await logger.aclose()
        assert logger.stats()["retried"] >= 1
        assert await registry.total() == 8


async def test_shutdown_mid_outage_spools_then_replays(
    registry: RegistryUnderTest, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    registry.faults.down = True
    first = make_logger(
        registry.url, registry.token, transport=registry.transport(), spool_dir=spool
    )
    await first.start()
    made = await traffic(first, 1.0)
    await first.aclose(deadline=1.0)
    assert (first.stats()["spooled"], first.stats()["sent"]) == (made, 0)

    registry.faults.down = False
    second = make_logger(
        registry.url, registry.token, transport=registry.transport(), spool_dir=spool
    )
    await second.start()

    async def arrived() -> bool:
        return await registry.total() == made

    await eventually(arrived)
    await second.aclose()
    assert await registry.total() == made


# --- over the network (uvicorn on 127.0.0.1) -------------------------------------------


async def test_uvicorn_down_for_the_whole_run_then_up(tmp_path: Path) -> None:
    async with published(tmp_path) as (db_url, token):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        logger = make_logger(url, token)  # nothing listens there yet
        await logger.start()
        made = await traffic(logger, 2.5)
        assert logger.stats()["sent"] == 0
        assert "ConnectError" in (logger.last_error or "")
        with served(create_app(db_url, settings=Settings(rate_per_second=None)), port):

            async def arrived() -> bool:
                return await http_totals(url, token) == made

            await eventually(arrived)
            await logger.aclose()
            assert await http_totals(url, token) == made
        assert logger.stats()["sent"] == made


async def test_uvicorn_500_and_429_for_a_while(tmp_path: Path) -> None:
    async with published(tmp_path) as (db_url, token):
        registry = RegistryUnderTest(db_url, token, create_app(db_url))
        registry.faults.trouble_for(3.0)
        with served(FaultyApp(registry.app, registry.faults)) as server:
            logger = make_logger(server.url, token, max_batch=1)
            await logger.start()
            made = await traffic(logger, 2.5)

            async def arrived() -> bool:
                return (
                    await http_totals(server.url, token) >= made and not logger.stats()["pending"]
                )

            await eventually(arrived)
            await logger.aclose()
            assert await http_totals(server.url, token) == made
        assert set(registry.faults.seen) == {"500", "429", "lost-answer"}
        assert logger.stats()["batches_duplicate"] >= 1
