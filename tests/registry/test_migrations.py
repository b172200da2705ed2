"""The Alembic migrations build exactly the tables the code uses, on both backends."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from ai_disclosure.registry.db import alembic_config, create_engine, migrate
from ai_disclosure.registry.histories import fill
from ai_disclosure.registry.listing import rebuild
from ai_disclosure.registry.reads import Filters, Reads
from ai_disclosure.registry.store import Store, canonical_json
from ai_disclosure.registry.tables import metadata, outside_metadata
from ai_disclosure.registry.tokens import issue_token

from .conftest import SERVICE, Backend, batch, example_manifest, execute, row
from .test_histories import three_versions

HEAD = "0006"


def _differences(connection: Connection) -> list[object]:
    include = {"include_name": lambda name, kind, _parent: not outside_metadata(name, kind)}
    context = MigrationContext.configure(connection, opts=include)
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

    asyncio.run(execute(backend.url, f'CREATE SCHEMA "{schema}"'))
    try:
        yield Backend(backend.name, backend.url, {"server_settings": {"search_path": schema}})
    finally:
        asyncio.run(execute(backend.url, f'DROP SCHEMA "{schema}" CASCADE'))


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


async def _old_batch(
    engine: AsyncEngine, batch_id: str, rows: list[tuple[str, int]], service: str = SERVICE
) -> None:
    """A batch as a registry before 0003 stored it: no digest; ``rows`` are
    (language, count) of one window of the example system."""
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO batches (batch_id, service, received_at, records, dropped) "
                "VALUES (:id, :service, :now, :records, 0)"
            ),
            {"id": batch_id, "service": service, "now": datetime.now(UTC), "records": len(rows)},
        )
        for language, number in rows:
            await connection.execute(
                text(
                    "INSERT INTO counts (service, system, window_start, route, mode, "
                    'notice_shown, language, "count") VALUES (:service, :system, :window, '
                    ":route, 'ai-originated', true, :language, :count)"
                ),
                {
                    "service": service,
                    "system": "assistant-dechets",
                    "window": "2026-11-26T10:00:00Z",
                    "route": "/dechets/assistant*",
                    "language": language,
                    "count": number,
                },
            )
        total = sum(number for _language, number in rows)
        await connection.execute(
            text(
                'INSERT INTO daily_totals (service, system, day, "count", notice_shown) '
                "VALUES (:service, 'assistant-dechets', '2026-11-26', :total, :total)"
            ),
            {"service": service, "total": total},
        )


async def _old_manifest(engine: AsyncEngine, data: dict[str, Any], version: int = 1) -> None:
    """A manifest as a registry before 0004 published it: no listed rows."""
    content = canonical_json(data)
    service = data["service"]["id"]
    systems = json.dumps(sorted(s["id"] for s in data["systems"]))
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        if version == 1:
            await connection.execute(
                text(
                    "INSERT INTO services (id, created_at, updated_at, current_version, systems) "
                    "VALUES (:id, :now, :now, 1, :systems)"
                ),
                {"id": service, "now": now, "systems": systems},
            )
        else:
            await connection.execute(
                text(
                    "UPDATE services SET current_version = :version, updated_at = :now, "
                    "systems = :systems WHERE id = :id"
                ),
                {"id": service, "now": now, "systems": systems, "version": version},
            )
        await connection.execute(
            text(
                "INSERT INTO manifest_versions (service, version, created_at, sha256, content) "
                "VALUES (:service, :version, :now, :sha, :content)"
            ),
            {
                "service": service,
                "version": version,
                "now": now,
                "sha": hashlib.sha256(content.encode()).hexdigest(),
                "content": content,
            },
        )


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
        _record, secret = await issue_token(engine, SERVICE)
        await _old_manifest(engine, example_manifest())
        first = batch([row(count=5), row(language="en", count=2)])
        await _old_batch(engine, first["batch_id"], [("fr", 5), ("en", 2)])

        await migrate(engine)

        revision, names = await _revision_and_tables(engine)
        assert revision == HEAD
        assert {"decisions", "decision_months"} <= names
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
        store = Store(engine)
        owner = await store.token_owner(secret)
        assert owner is not None
        assert "tri-courrier" in (owner.systems or ())
        assert [v.version for v in await store.versions(SERVICE)] == [1]
        assert (await store.totals())[(SERVICE, "assistant-dechets")].count == 7
        # Stored before digests were kept: a replay is a duplicate, whatever it holds.
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
        assert (await _revision_and_tables(engine))[0] == HEAD
    finally:
        await engine.dispose()


async def _languages(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = (await connection.execute(text('SELECT language, "count" FROM counts'))).all()
    summed: dict[str, int] = {}
    for r in rows:
        summed[r.language] = summed.get(r.language, 0) + int(r.count)
    return summed


async def _batch_rows(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as connection:
        query = text("SELECT service, batch_id FROM batches ORDER BY service, batch_id")
        return [(r.service, r.batch_id) for r in (await connection.execute(query)).all()]


async def test_0003_bounds_languages_and_makes_batch_ids_per_service(
    empty_database: Backend,
) -> None:
    engine = create_engine(empty_database.url, connect_args=empty_database.connect_args)
    long_tag = "fr-" + "-".join(["abcdefgh"] * 4) + "-x1"  # 41 characters, fits 0002's 64
    try:
        await _to(engine, "0002")
        # The same key under "" and under an over-long tag, which 0002 let PostgreSQL keep.
        await _old_batch(engine, str(uuid.uuid4()), [("", 3), (long_tag, 4), ("fr", 1)])

        await _to(engine, "0003")

        assert await _languages(engine) == {"": 7, "fr": 1}  # folded, nothing lost
        await migrate(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
        store = Store(engine)
        shared = batch([row(count=2)])
        assert (await store.ingest(shared)).status == "stored"
        other = {**batch([row(count=9)], service="voirie"), "batch_id": shared["batch_id"]}
        assert (await store.ingest(other)).status == "stored"  # its own id, not a duplicate
        assert (await store.ingest(shared)).status == "duplicate"
        changed = {**shared, "counts": [row(count=3)]}
        assert (await store.ingest(changed)).status == "conflict"
        assert {(SERVICE, shared["batch_id"]), ("voirie", shared["batch_id"])} <= set(
            await _batch_rows(engine)
        )

        # Down: the id shared by two services keeps one row; every count stays.
        await _to(engine, "0002", down=True)
        assert (await _revision_and_tables(engine))[0] == "0002"
        rows = await _batch_rows(engine)
        assert [service for service, batch_id in rows if batch_id == shared["batch_id"]] == [
            SERVICE
        ]
        assert await _languages(engine) == {"": 7, "fr": 1 + 2 + 9}
        await _to(engine, "0003")
        assert (await _revision_and_tables(engine))[0] == "0003"
    finally:
        await engine.dispose()


def _renamed(service: str, keep: int | None = None) -> dict[str, Any]:
    """The example manifest published by another service, with its first ``keep``
    systems only (and the routes that name them)."""
    data = example_manifest()
    data["service"]["id"] = service
    if keep is not None:
        data["systems"] = data["systems"][:keep]
        kept = {s["id"] for s in data["systems"]}
        data["routes"] = [r for r in data["routes"] if set(r["systems"]) <= kept]
    return data


async def test_0004_lists_every_current_manifest_of_a_register_in_use(
    empty_database: Backend,
) -> None:
    engine = create_engine(empty_database.url, connect_args=empty_database.connect_args)
    try:
        await _to(engine, "0003")
        # A register in use at 0003: two services, one of which published twice (its
        # second manifest dropped two systems), and counts.
        await _old_manifest(engine, example_manifest())
        await _old_manifest(engine, _renamed("voirie"))
        await _old_manifest(engine, _renamed("voirie", keep=2), version=2)
        await _old_batch(engine, str(uuid.uuid4()), [("fr", 5)])

        await migrate(engine)

        revision, names = await _revision_and_tables(engine)
        assert revision == HEAD
        assert "listed_systems" in names
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
        reads = Reads(engine)
        page = await reads.page(Filters(), offset=0, limit=50)
        systems = [s["id"] for s in example_manifest()["systems"]]
        expected = [(SERVICE, s) for s in systems] + [("voirie", s) for s in systems[:2]]
        assert [item.key for item in page.items] == expected
        assert page.total == len(expected)
        assert {item.card["summary"]["name"]["fr"] for item in page.items} >= {
            "Assistant tri des déchets"
        }
        found = await reads.page(Filters(query="DÉCHETS"), offset=0, limit=50)
        assert {item.key for item in found.items} == {
            (SERVICE, "assistant-dechets"),
            ("voirie", "assistant-dechets"),
        }
        totals = await reads.totals([item.key for item in page.items])
        assert totals[(SERVICE, "assistant-dechets")].count == 5
        assert len(totals) == 1
        # Publishing after the upgrade keeps the table (and its search index) current.
        await Store(engine).publish("voirie", _renamed("voirie", keep=1))
        found = await reads.page(Filters(query="dechets"), offset=0, limit=50)
        assert {item.key for item in found.items} == {
            (SERVICE, "assistant-dechets"),
            ("voirie", "assistant-dechets"),
        }
        assert (await reads.page(Filters(service="voirie"), offset=0, limit=50)).total == 1

        await _to(engine, "0003", down=True)
        revision, names = await _revision_and_tables(engine)
        assert revision == "0003"
        assert not {n for n in names if n.startswith("listed_")}
        await migrate(engine)
        relisted = await Reads(engine).page(Filters(), offset=0, limit=50)
        assert relisted.total == len(systems) + 1
    finally:
        await engine.dispose()


async def test_0005_gives_every_listed_card_its_systems_uuid(empty_database: Backend) -> None:
    engine = create_engine(empty_database.url, connect_args=empty_database.connect_args)
    try:
        await migrate(engine)
        await Store(engine).publish(SERVICE, example_manifest())
        await _to(engine, "0004", down=True)
        # The cards as 0004 wrote them: without the uuid the register now states.
        async with engine.begin() as connection:
            rows = (await connection.execute(text("SELECT id, card FROM listed_systems"))).all()
            for row in rows:
                card = json.loads(row.card)
                del card["summary"]["uuid"]
                await connection.execute(
                    text("UPDATE listed_systems SET card = :card WHERE id = :id"),
                    {"card": json.dumps(card), "id": row.id},
                )
        await migrate(engine)
        revision, _ = await _revision_and_tables(engine)
        assert revision == HEAD
        page = await Reads(engine).page(Filters(), offset=0, limit=50)
        declared = {s["id"]: s.get("uuid") for s in example_manifest()["systems"]}
        assert {item.key[1]: item.card["summary"]["uuid"] for item in page.items} == declared
    finally:
        await engine.dispose()


async def _histories_and_cards(engine: AsyncEngine) -> tuple[list[Any], dict[str, Any]]:
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT * FROM system_histories ORDER BY service, system")
            )
        ).all()
        cards = (
            await connection.execute(text("SELECT service, system, card FROM listed_systems"))
        ).all()
    return [tuple(r) for r in rows], {f"{c.service}/{c.system}": json.loads(c.card) for c in cards}


async def test_0006_fills_the_histories_publishing_would_have_kept(
    empty_database: Backend,
) -> None:
    engine = create_engine(empty_database.url, connect_args=empty_database.connect_args)
    try:
        await migrate(engine)
        store = Store(engine)
        for manifest in three_versions():
            await store.publish(SERVICE, manifest)
        await store.publish("voirie", _renamed("voirie", keep=2))
        published = await _histories_and_cards(engine)
        assert (SERVICE, "tri-courrier") in {(r[0], r[1]) for r in published[0]}  # removed
        assert [h["change"] for h in published[1][f"{SERVICE}/detection-fuites"]["history"]] == [
            "added",
            "changed",
        ]
        # The register as 0005 left it: no histories, cards without one.
        await _to(engine, "0005", down=True)
        async with engine.begin() as connection:
            rows = (await connection.execute(text("SELECT id, card FROM listed_systems"))).all()
            for row in rows:
                card = json.loads(row.card)
                del card["history"]
                await connection.execute(
                    text("UPDATE listed_systems SET card = :card WHERE id = :id"),
                    {"card": json.dumps(card), "id": row.id},
                )

        await migrate(engine)

        assert (await _revision_and_tables(engine))[0] == HEAD
        assert await _histories_and_cards(engine) == published
        # Run again over its own result: the same rows, nothing doubled.
        async with engine.begin() as connection:
            await connection.run_sync(fill)
            await connection.run_sync(rebuild)
        assert await _histories_and_cards(engine) == published
    finally:
        await engine.dispose()
