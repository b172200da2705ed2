"""Database work runs to its end when whoever asked for it is cancelled (``finishes``).

A statement cannot be stopped half-way on SQLite: a cancelled one left its
connection holding SQLite's write lock until the garbage collector found it, and
every other writer waited out the busy timeout (30 s) and failed. These tests
cancel an ingest while its first statement waits for a lock held elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ai_disclosure._receipts import ReceiptStatus
from ai_disclosure.registry.db import create_engine, finishes, settled
from ai_disclosure.registry.store import Store

from .conftest import SERVICE, Backend, Harness, batch, row


@contextlib.asynccontextmanager
async def write_lock(backend: Backend) -> AsyncIterator[None]:
    """The database's write lock on ``batches``, held by another connection until
    the block ends."""
    if backend.name == "sqlite":
        path = make_url(backend.url).database
        assert path is not None
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    engine = create_engine(backend.url, connect_args=backend.connect_args)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            await connection.execute(text("LOCK TABLE batches IN EXCLUSIVE MODE"))
            try:
                yield
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()


async def cancelled_while_waiting(store: Store, backend: Backend, body: dict[str, object]) -> None:
    """Starts ingesting ``body`` while another connection holds the lock, cancels
    the caller while its first statement waits, then lets the lock go."""
    async with write_lock(backend):
        task = asyncio.create_task(store.ingest(body))
        await asyncio.sleep(0.5)  # the claim now waits for the lock, in the driver
        assert not task.done()
        task.cancel()
        # The caller has its cancellation at once, lock or no lock.
        await asyncio.wait([task], timeout=5)
        assert task.cancelled()


async def test_a_cancelled_ingest_finishes_and_the_next_one_is_not_locked_out(
    harness: Harness, backend: Backend
) -> None:
    await harness.ready()
    store = await harness.store()
    first = batch([row(count=3)])
    await cancelled_while_waiting(store, backend, first)
    async with asyncio.timeout(10):  # the busy timeout is 30 s
        second = await store.ingest(batch([row(count=4)]))
    assert second.status == ReceiptStatus.STORED
    await settled(10)
    # The cancelled batch was stored whole: the logger's retry of it is a duplicate.
    stored = await store.stored_batch(SERVICE, first["batch_id"])
    assert stored is not None
    assert stored.records == 1
    again = await store.ingest(first)
    assert again.status == ReceiptStatus.DUPLICATE
    totals = await store.totals(SERVICE)
    assert totals[(SERVICE, "assistant-dechets")].count == 7


async def test_the_registry_closes_after_the_work_its_callers_left(
    harness: Harness, backend: Backend
) -> None:
    await harness.ready()
    store = await harness.store()
    first = batch([row(count=5)])
    await cancelled_while_waiting(store, backend, first)
    await harness.registry.close()  # as at shutdown: the engine is disposed after
    engine = create_engine(backend.url, connect_args=backend.connect_args)
    try:
        stored = await Store(engine).stored_batch(SERVICE, first["batch_id"])
    finally:
        await engine.dispose()
    assert stored is not None
    assert stored.records == 1


async def test_finished_work_gives_its_result_and_its_error_to_a_caller_still_there() -> None:
    @finishes
    async def double(n: int) -> int:
        await asyncio.sleep(0)
        if n < 0:
            raise ValueError(n)
        return 2 * n

    assert await double(21) == 42
    with pytest.raises(ValueError, match="-1"):
        await double(-1)


async def test_work_whose_caller_went_away_runs_on_and_its_failure_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    go = asyncio.Event()
    done: list[str] = []

    @finishes
    async def work(name: str) -> None:
        await go.wait()
        done.append(name)
        if name == "fails":
            raise RuntimeError("the database went away")

    callers = [asyncio.create_task(work(name)) for name in ("runs", "fails")]
    await asyncio.sleep(0)
    for caller in callers:
        caller.cancel()
    await asyncio.wait(callers)
    assert all(caller.cancelled() for caller in callers)
    assert done == []
    go.set()
    with caplog.at_level(logging.WARNING, logger="ai_disclosure.registry"):
        await settled(5)
    assert done == ["runs", "fails"]
    assert [r.getMessage() for r in caplog.records] == [
        "database work whose caller had gone failed: RuntimeError"
    ]


async def test_settled_waits_at_most_its_timeout() -> None:
    @finishes
    async def forever() -> None:
        await asyncio.Event().wait()

    caller = asyncio.create_task(forever())
    await asyncio.sleep(0)
    caller.cancel()
    loop = asyncio.get_running_loop()
    start = loop.time()
    await settled(0.2)
    assert 0.15 < loop.time() - start < 2
