"""The Alembic migrations build exactly the tables the code uses, on both backends."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from ai_disclosure.registry.db import alembic_config, create_engine, migrate
from ai_disclosure.registry.store import Store
from ai_disclosure.registry.tables import metadata
from ai_disclosure.registry.tokens import issue_token

from .conftest import SERVICE, Backend, batch, example_manifest, row


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


@pytest.fixture
def empty_database(backend: Backend, tmp_path: Path) -> Iterator[Backend]:
    """A database with no table at all, on the backend under test."""
    if backend.name == "sqlite":
        yield Backend("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
        return
    schema = f"registry_upgrade_{uuid.uuid4().hex[:12]}"

    async def run(statement: str) -> None:
        engine = create_engine(backend.url)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run(f'CREATE SCHEMA "{schema}"'))
    try:
        yield Backend(backend.name, backend.url, {"server_settings": {"search_path": schema}})
    finally:
        asyncio.run(run(f'DROP SCHEMA "{schema}" CASCADE'))


async def _to(engine: AsyncEngine, revision: str, *, down: bool = False) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config(connection)
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def _revision_and_tables(engine: AsyncEngine) -> tuple[str | None, set[str]]:
    def read(connection: Connection) -> tuple[str | None, set[str]]:
        revision = MigrationContext.configure(connection).get_current_revision()
        return revision, set(inspect(connection).get_table_names())

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def test_upgrade_from_0001_keeps_the_data_and_adds_decisions(
    empty_database: Backend,
) -> None:
    engine = create_engine(empty_database.url, connect_args=empty_database.connect_args)
    try:
        await _to(engine, "0001")
        revision, names = await _revision_and_tables(engine)
        assert revision == "0001"
        assert "decisions" not in names
        assert "counts" in names
        # A registry in use at 0001: a manifest, a token, stored counts.
        old = Store(engine)
        _record, secret = await issue_token(engine, SERVICE)
        await old.publish(SERVICE, example_manifest())
        first = batch([row(count=5), row(language="en", count=2)])
        assert (await old.ingest(first)).status == "stored"

        await migrate(engine)

        revision, names = await _revision_and_tables(engine)
        assert revision == "0002"
        assert {"decisions", "decision_months"} <= names
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
        store = Store(engine)
        owner = await store.token_owner(secret)
        assert owner is not None
        assert "tri-courrier" in (owner.systems or ())
        assert [v.version for v in await store.versions(SERVICE)] == [1]
        assert (await store.totals())[(SERVICE, "assistant-dechets")].count == 7
        assert (await store.ingest(first)).status == "duplicate"
        logged = {"system": "tri-courrier", "reference": "DOSSIER-1", "at": "2026-12-01T09:00:00Z"}
        assert (await store.ingest(batch([row(count=1)], decisions=[logged]))).status == "stored"
        assert (await store.totals())[(SERVICE, "assistant-dechets")].count == 8
        assert [d.system for d in await store.decisions_for(SERVICE, "DOSSIER-1")] == [
            "tri-courrier"
        ]
        assert [
            (m.month, m.count) for m in await store.decision_months(SERVICE, "tri-courrier")
        ] == [("2026-12", 1)]

        # And back: the decision tables go, everything else stays.
        await _to(engine, "0001", down=True)
        revision, names = await _revision_and_tables(engine)
        assert revision == "0001"
        assert not {"decisions", "decision_months"} & names
        assert (await Store(engine).totals())[(SERVICE, "assistant-dechets")].count == 8
        await migrate(engine)
        assert (await _revision_and_tables(engine))[0] == "0002"
    finally:
        await engine.dispose()
