"""A process killed with SIGKILL between flushes: the next process replays its spool,
under the original batch ids, and the registry's totals are exact."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx

from ai_disclosure._spool import Spool, SpoolEntry
from ai_disclosure.client import AsyncRegistryClient
from ai_disclosure.registry import Settings, create_app

from .conftest import (
    SERVICE,
    RegistryUnderTest,
    eventually,
    free_port,
    make_logger,
    served,
)
from .test_outages import http_totals, published

# Records, flushes (so the batch is in the spool), records more, then is killed.
# With "die-after-send", it is killed the moment the registry has acknowledged the
# batch, before the spool forgets it: the worst moment for doubling.
VICTIM = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from ai_disclosure import _spool
    from ai_disclosure._logger import DisclosureLogger

    spool_dir, url, token, flushed, unflushed, mode = sys.argv[1:]

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if mode == "die-after-send":
        _spool.Spool.delete = die

    async def main():
        logger = DisclosureLogger("demarches", url, token, spool_dir=spool_dir,
                                  window_seconds=3600, timeout=2.0)
        for _ in range(int(flushed)):
            logger.record("assistant-dechets", "/dechets/assistant*", "ai-originated", True, "fr")
        await logger.flush()
        for _ in range(int(unflushed)):
            logger.record("assistant-dechets", "/dechets/assistant*", "ai-originated", True, "fr")
        die()

    asyncio.run(main())
    """
)


def run_victim(spool: Path, url: str, token: str, flushed: int, unflushed: int, mode: str) -> None:
    args = [str(spool), url, token, str(flushed), str(unflushed), mode]
    done = subprocess.run(
        [sys.executable, "-c", VICTIM, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -signal.SIGKILL, done.stderr


def spooled(spool: Path) -> list[SpoolEntry]:
    handle = Spool(spool, SERVICE)
    try:
        entries = handle.claim(100)
        handle.release()
    finally:
        handle.close()
    return entries


async def test_killed_during_an_outage_the_next_process_replays(
    registry: RegistryUnderTest, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens: the registry is down
    run_victim(spool, down, registry.token, flushed=300, unflushed=20, mode="plain")
    entries = spooled(spool)
    assert sum(e.records for e in entries) == 300  # the 20 never flushed died with it

    logger = make_logger(
        registry.url, registry.token, transport=registry.transport(), spool_dir=spool
    )
    await logger.start()

    async def arrived() -> bool:
        return await registry.total() == 300

    await eventually(arrived)
    await logger.aclose()
    assert await registry.total() == 300
    assert spooled(spool) == []
    # The replay used the original batch ids: sending the old bodies again is a duplicate.
    transport = httpx.ASGITransport(app=registry.app)
    async with AsyncRegistryClient(registry.url, registry.token, transport=transport) as client:
        for entry in entries:
            answer = await client.post_body(entry.body)
            assert answer.status_code == 200
            assert answer.json()["status"] == "duplicate"
    assert await registry.total() == 300


async def test_killed_after_the_registry_stored_the_batch_is_not_doubled(
    tmp_path: Path,
) -> None:
    spool = tmp_path / "spool"
    async with published(tmp_path) as (db_url, token):
        with served(create_app(db_url, settings=Settings(rate_per_second=None))) as server:
            run_victim(spool, server.url, token, flushed=250, unflushed=5, mode="die-after-send")
            assert await http_totals(server.url, token) == 250  # stored before the kill
            assert sum(e.records for e in spooled(spool)) == 250  # ... and still spooled

            logger = make_logger(server.url, token, spool_dir=spool)
            await logger.start()

            async def replayed() -> bool:
                return logger.stats()["batches_sent"] == 1

            await eventually(replayed)
            await logger.aclose()
            assert logger.stats()["batches_duplicate"] == 1
            assert await http_totals(server.url, token) == 250  # not 500
            assert spooled(spool) == []
