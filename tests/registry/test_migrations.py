"""The Alembic migrations build exactly the tables the code uses, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from ai_disclosure.registry.db import create_engine, migrate
from ai_disclosure.registry.tables import metadata

from .conftest import Backend


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    return list(compare_metadata(context, metadata))


async def test_migrated_schema_matches_the_tables(backend: Backend) -> None:
    engine = create_engine(backend.url, connect_args=backend.connect_args)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
            names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert names >= {t.name for t in metadata.sorted_tables} | {"alembic_version"}
        await migrate(engine)  # again: nothing to do, no error
    finally:
        await engine.dispose()


async def test_sqlite_database_uses_wal(backend: Backend) -> None:
    from sqlalchemy import text

    if backend.name != "sqlite":
        return
    engine = create_engine(backend.url)
    try:
        async with engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
        assert mode == "wal"
    finally:
        await engine.dispose()
