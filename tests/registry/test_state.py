"""Public reads go to the read replica when one is configured, and never load the
whole register; writes and token-protected reads stay on the main database."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from ai_disclosure.registry import reads as reads_module
from ai_disclosure.registry.store import Store

from .conftest import SERVICE, Backend, Harness, batch, example_manifest, execute, row

PUBLIC = [
    "/",
    "/?q=dechets",
    "/?service=demarches&status=in-use&page=2&per_page=2",
    "/v1/systems",
    "/v1/systems?q=mistral&interaction=chatbot",
    "/v1/systems.csv",
    "/v1/systems.csv?q=eau",
]


async def test_no_public_read_loads_the_whole_register(
    published: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Store.published

    async def one_service_only(self: Store, service: str | None = None) -> Any:
        assert service is not None, "a request loaded every manifest of the register"
        return await original(self, service)

    monkeypatch.setattr(Store, "published", one_service_only)
    for url in PUBLIC:
        assert (await published.client.get(url)).status_code == 200, url
    assert (await published.client.get(f"/services/{SERVICE}")).status_code == 200


@pytest.fixture
async def published(harness: Harness) -> Harness:
    await harness.ready()
    return harness


def _copy_sqlite(source: Path, copy: Path) -> None:
    """A copy of a SQLite database in WAL mode: recent commits are in its -wal file."""
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{copy}{suffix}")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_public_reads_come_from_the_read_database(
    backend: Backend, make_harness: Any, tmp_path: Path
) -> None:
    """SQLite: the replica is a copy of the file, frozen when copied."""
    primary: Harness = await make_harness()
    token = await primary.ready()
    assert (await primary.send(token, batch([row(count=3)]))).status_code == 202
    copy = tmp_path / "replica.sqlite3"
    _copy_sqlite(Path(backend.url.removeprefix("sqlite+aiosqlite:///")), copy)
    app: Harness = await make_harness(read_db_url=f"sqlite+aiosqlite:///{copy}")
    # After the copy, the main database moves on: a new name, more counts.
    renamed = example_manifest()
    renamed["service"]["name"] = "Démarches, nouveau nom"
    assert (await app.publish(token, renamed)).status_code == 201
    assert (await app.send(token, batch([row(count=4)]))).status_code == 202

    listed = (await app.client.get("/v1/systems", params={"q": "dechets"})).json()
    assert [(i["system"], i["disclosures"]) for i in listed["items"]] == [("assistant-dechets", 3)]
    assert "Démarches en ligne" in (await app.client.get("/")).text
    entry = (await app.client.get(f"/v1/systems/{SERVICE}/assistant-dechets")).json()
    assert entry["counts"]["total"] == 3
    assert entry["service_info"]["manifest_version"] == 1
    csv = (await app.client.get("/v1/systems.csv")).text
    assert "Démarches en ligne" in csv
    assert "nouveau nom" not in csv
    # The main database has it all.
    store = await app.store()
    assert (await store.totals(SERVICE))[(SERVICE, "assistant-dechets")].count == 7
    assert [v.version for v in await store.versions(SERVICE)] == [1, 2]
    # Without a replica, the same app reads the main database.
    direct: Harness = await make_harness()
    listed = (await direct.client.get("/v1/systems", params={"q": "dechets"})).json()
    assert listed["items"][0]["disclosures"] == 7


async def _eventually_counted(app: Harness, count: int) -> None:
    """Wait for the replica to replay what the primary committed."""
    deadline = time.monotonic() + 30
    while True:
        listed = (await app.client.get("/v1/systems", params={"q": "dechets"})).json()
        if listed["items"] and listed["items"][0]["disclosures"] == count:
            return
        assert time.monotonic() < deadline, f"the replica never showed {count}: {listed}"
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_public_reads_come_from_a_streaming_replica(
    pg_replica: Backend, make_harness: Any
) -> None:
    """PostgreSQL: a real hot standby; its replay is paused to tell its answers from
    the primary's, then resumed."""
    app: Harness = await make_harness(read_db_url=pg_replica.url)
    token = await app.ready()  # a write: the standby would refuse it
    assert (await app.send(token, batch([row(count=3)]))).status_code == 202
    await _eventually_counted(app, 3)
    await execute(pg_replica.url, "SELECT pg_wal_replay_pause()")
    try:
        renamed = example_manifest()
        renamed["service"]["name"] = "Démarches, nouveau nom"
        assert (await app.publish(token, renamed)).status_code == 201
        assert (await app.send(token, batch([row(count=4)]))).status_code == 202
        listed = (await app.client.get("/v1/systems", params={"q": "dechets"})).json()
        assert [(i["system"], i["disclosures"]) for i in listed["items"]] == [
            ("assistant-dechets", 3)
        ]
        index = (await app.client.get("/")).text
        assert "Démarches en ligne" in index
        assert "nouveau nom" not in index
        entry = (await app.client.get(f"/v1/systems/{SERVICE}/assistant-dechets")).json()
        assert entry["service_info"]["manifest_version"] == 1
        csv = (await app.client.get("/v1/systems.csv", params={"q": "dechets"})).text
        assert "nouveau nom" not in csv
        # Token-protected reads and writes see the primary.
        store = await app.store()
        assert (await store.totals(SERVICE))[(SERVICE, "assistant-dechets")].count == 7
        assert [v.version for v in await store.versions(SERVICE)] == [1, 2]
    finally:
        await execute(pg_replica.url, "SELECT pg_wal_replay_resume()")
    await _eventually_counted(app, 7)
    assert "nouveau nom" in (await app.client.get("/")).text


async def test_exports_stream_chunk_by_chunk_in_register_order(
    published: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reads_module, "EXPORT_CHUNK", 1)
    token = await published.token("voirie")
    other = example_manifest()
    other["service"]["id"] = "voirie"
    assert (await published.publish(token, other)).status_code == 201
    lines = (await published.client.get("/v1/systems.csv")).text.splitlines()
    systems = [s["id"] for s in example_manifest()["systems"]]
    assert lines[0].startswith("service,system,")
    assert [tuple(line.split(",")[:2]) for line in lines[1:]] == [
        *((SERVICE, s) for s in systems),
        *(("voirie", s) for s in systems),
    ]
    nothing = (await published.client.get("/v1/systems.csv", params={"q": "zzz"})).text
    assert nothing.splitlines() == [lines[0]]
    bad = await published.client.get("/v1/systems.csv", params={"status": "nope"})
    assert bad.status_code == 400
