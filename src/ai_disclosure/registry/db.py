"""Engines and migrations: one place that knows the two backends apart.

SQLite runs in WAL mode with ``synchronous=NORMAL`` (durable across application
crashes, fast enough for ingest) and a generous busy timeout so concurrent
writers queue instead of failing. Migrations are Alembic scripts shipped in the
package and run programmatically; on PostgreSQL they hold an advisory lock so two
processes starting together do not race.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .config import normalize_db_url

__all__ = ["MIGRATIONS", "create_engine", "is_sqlite", "migrate"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_ID = 0x41_49_44_52  # "AIDR": the registry's advisory lock on PostgreSQL


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
