"""Engines and migrations: one place that knows the two backends apart.

SQLite runs in WAL mode with ``synchronous=NORMAL`` (durable across application
crashes, fast enough for ingest) and a generous busy timeout so concurrent
writers queue instead of failing. Migrations are Alembic scripts shipped in the
package and run programmatically; on PostgreSQL they hold an advisory lock so two
processes starting together do not race.

Database work runs to its end once begun (``finishes``): a caller's cancellation
reaches the caller, not the statement, which SQLite cannot stop half-way.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .config import normalize_db_url

__all__ = ["MIGRATIONS", "create_engine", "finishes", "is_sqlite", "migrate", "settled"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_ID = 0x41_49_44_52  # "AIDR": the registry's advisory lock on PostgreSQL

log = logging.getLogger("ai_disclosure.registry")
P = ParamSpec("P")
T = TypeVar("T")
#: Work under way, its caller's or left by a cancelled caller (``settled``).
_UNFINISHED: set[asyncio.Task[Any]] = set()


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(db_url: str, *, connect_args: Mapping[str, Any] | None = None) -> AsyncEngine:
    """An async engine for ``db_url`` (normalised: a bare path is a SQLite file)."""
    url = make_url(normalize_db_url(db_url))
    args = dict(connect_args or {})
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args=args)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, connect_args=args, pool_size=10, max_overflow=10)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA busy_timeout=30000",
        "PRAGMA foreign_keys=ON",
    ):
        cursor.execute(pragma)
    cursor.close()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    command.upgrade(alembic_config(connection), "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the latest version (idempotent)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def finishes(work: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """``work`` (one unit of database work) in a task of its own that runs to its
    end when its caller is cancelled (a timeout, a client gone): the caller gets its
    ``CancelledError`` at once, the work commits or rolls back as it would have.

    Why: aiosqlite cannot interrupt a statement. SQLAlchemy answers a cancellation
    in the middle of one by discarding the connection, whose SQLite handle then
    lives on with its transaction until the garbage collector frees the statement:
    a write lock every other writer waits out (the busy timeout) and fails on, or a
    read that keeps the WAL from being checkpointed. On PostgreSQL the work would be
    rolled back instead; finishing it there too keeps one behaviour, and a batch
    whose sender gave up is stored, its retry a duplicate.
    """

    @functools.wraps(work)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        task = asyncio.ensure_future(work(*args, **kwargs))
        _UNFINISHED.add(task)
        task.add_done_callback(_UNFINISHED.discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(_left)
            raise

    return run


def _left(task: asyncio.Task[Any]) -> None:
    """Says how work that nobody awaits any more ended, if it failed."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.warning("database work whose caller had gone failed: %s", type(error).__name__)


async def settled(at_most: float) -> None:
    """Waits, at most ``at_most`` seconds, for the work of this event loop still
    under way (``finishes``): before its engine is disposed."""
    loop = asyncio.get_running_loop()
    unfinished = [task for task in _UNFINISHED if task.get_loop() is loop]
    if unfinished:
        await asyncio.wait(unfinished, timeout=at_most)
