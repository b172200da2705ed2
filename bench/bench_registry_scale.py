"""How the public register holds up as it grows: national scale.

Seeds a register of N services x 5 systems, each with ``--days`` days of counts,
straight through the database driver (the ingest path is measured by
``bench_registry.py``), then starts the registry in its own process (uvicorn on
127.0.0.1) and measures, single client:

- the first request after the start (``/``), the cost of any warm-up;
- p50 / p95 latency, time to the first byte (p50) and response size of every
  public read endpoint; the whole register's CSV once live (its first download,
  which builds the file it is sent from afterwards), then from its file;
- the server's resident memory after the reads, and the database's size.

Backends: PostgreSQL at 127.0.0.1:5432/test in a throwaway schema (``--services``,
default 20,000 services = 100,000 systems) and SQLite in a temporary file
(``--sqlite-services``, default 2,000 = 10,000 systems). Targets (issue 17): every
endpoint p95 < 200 ms, first request < 1 s, RSS < 200 MB.

Run: ``.venv/bin/python bench/bench_registry_scale.py [--services 20000]
[--sqlite-services 2000] [--backends postgresql,sqlite] [--requests 20]``
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from alembic import command

from ai_disclosure._manifest import parse_manifest
from ai_disclosure.registry.db import alembic_config, create_engine, migrate
from ai_disclosure.registry.store import canonical_json

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_registry import (
    PG_URL,
    SERVER,
    free_port,
    pg_schema,
    scratch_schemas,
    wait_until_up,
)

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "examples" / "montpellier" / "ai-disclosure.toml"
SYSTEMS_PER_SERVICE = 5
#: Words spread over the services' names, so that a search finds a known share.
WORDS = ("eau", "dechets", "mobilite", "urbanisme", "culture", "social", "fiscalite", "sante")
SEARCHED = "mobilite"


def manifests(count: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """``count`` distinct valid manifests built from the Montpellier example."""
    with MANIFEST.open("rb") as file:
        template = tomllib.load(file)
    examples = template["systems"]
    for index in range(count):
        service = f"svc-{index:06d}"
        word = WORDS[index % len(WORDS)]
        data = json.loads(json.dumps(template))
        data["service"]["id"] = service
        data["service"]["name"] = f"Service {word} {index}"
        systems = []
        for n in range(SYSTEMS_PER_SERVICE):
            system = json.loads(json.dumps(examples[n % len(examples)]))
            if n >= len(examples):  # the example's routes name its own systems
                system["id"] = f"{system['id']}-{n}"
                system.pop("uuid", None)  # each system has its own
            system["name"] = {"fr": f"Système {word} {index}-{n}", "en": f"System {index}-{n}"}
            systems.append(system)
        data["systems"] = systems
        if index == 0:
            parse_manifest(data, source=service)  # a bench of a register that loads nothing
        yield service, data


def rows(services: int, days: int) -> Iterator[tuple[list[Any], list[list[Any]], list[list[Any]]]]:
    """Per service: its services row, its one manifest version, its daily totals."""
    now = datetime.now(UTC)
    first = now.date() - timedelta(days=days)
    generator = random.Random(17)
    for service, data in manifests(services):
        content = canonical_json(data)
        digest = hashlib.sha256(content.encode()).hexdigest()
        ids = sorted(s["id"] for s in data["systems"])
        service_row = [service, now, now, 1, json.dumps(ids)]
        version_row = [[service, 1, now, digest, content]]
        daily = []
        for system in ids:
            for d in range(days):
                count = generator.randint(1, 500)
                day = (first + timedelta(days=d)).isoformat()
                daily.append([service, system, day, count, count // 2])
        yield service_row, version_row, daily


# --- seeding --------------------------------------------------------------------------


async def seed_postgresql(schema: str, services: int, days: int) -> None:
    import asyncpg  # type: ignore[import-untyped]

    dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        chunk: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
        for service_row, version_rows, daily in rows(services, days):
            chunk[0].append(service_row)
            chunk[1].extend(version_rows)
            chunk[2].extend(daily)
            if len(chunk[0]) >= 1000:
                await _copy(connection, schema, chunk)
                chunk = ([], [], [])
        await _copy(connection, schema, chunk)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def _copy(connection: Any, schema: str, chunk: tuple[list[Any], ...]) -> None:
    services_rows, versions, daily = chunk
    if not services_rows:
        return
    await connection.copy_records_to_table(
        "services",
        records=services_rows,
        columns=["id", "created_at", "updated_at", "current_version", "systems"],
        schema_name=schema,
    )
    await connection.copy_records_to_table(
        "manifest_versions",
        records=versions,
        columns=["service", "version", "created_at", "sha256", "content"],
        schema_name=schema,
    )
    await connection.copy_records_to_table(
        "daily_totals",
        records=daily,
        columns=["service", "system", "day", "count", "notice_shown"],
        schema_name=schema,
    )


def _sql(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def seed_sqlite(path: Path, services: int, days: int) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN")
        for service_row, version_rows, daily in rows(services, days):
            stamp = [_sql(v) for v in service_row]
            connection.execute(
                "INSERT INTO services (id, created_at, updated_at, current_version, systems)"
                " VALUES (?, ?, ?, ?, ?)",
                stamp,
            )
            connection.executemany(
                "INSERT INTO manifest_versions (service, version, created_at, sha256, content)"
                " VALUES (?, ?, ?, ?, ?)",
                [[_sql(v) for v in r] for r in version_rows],
            )
            connection.executemany(
                "INSERT INTO daily_totals (service, system, day, count, notice_shown)"
                " VALUES (?, ?, ?, ?, ?)",
                daily,
            )
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
    finally:
        connection.close()


#: The schema the register is seeded at: the one before the read table, so that
#: the upgrade to the newest schema (which lists every manifest) is measured too.
SEEDED_AT = "0003"


async def migrated(url: str, connect_args: dict[str, Any], revision: str = "head") -> float:
    """Migrate to ``revision``; how long it took (seconds)."""
    engine = create_engine(url, connect_args=connect_args)
    start = time.perf_counter()
    try:
        if revision == "head":
            await migrate(engine)
        else:

            def upgrade(connection: Any) -> None:
                command.upgrade(alembic_config(connection), revision)

            async with engine.begin() as connection:
                await connection.run_sync(upgrade)
    finally:
        await engine.dispose()
    return time.perf_counter() - start


# --- measuring ------------------------------------------------------------------------


def endpoints(services: int, stats_pages: int) -> list[tuple[str, str]]:
    middle = f"svc-{services // 2:06d}"
    system = f"{middle}/assistant-dechets"
    return [
        ("index /", "/"),
        (f"index /?q={SEARCHED}", f"/?q={SEARCHED}"),
        ("/v1/systems?per_page=100", "/v1/systems?per_page=100"),
        (f"/v1/systems?q={SEARCHED}", f"/v1/systems?q={SEARCHED}"),
        ("/v1/stats last page", f"/v1/stats?per_page=100&page={stats_pages}"),
        ("/v1/systems.csv (its file)", "/v1/systems.csv"),
        ("system page", f"/systems/{system}"),
        ("system JSON", f"/v1/systems/{system}"),
        ("system ATRS", f"/v1/systems/{system}/atrs.json"),
        ("service page", f"/services/{middle}"),
    ]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure(
    url: str, connect_args: dict[str, Any], services: int, days: int, requests: int
) -> dict[str, Any]:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVER, url, str(port), json.dumps(connect_args)
    )
    result: dict[str, Any] = {"endpoints": []}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            # Up: the port answers (a 404 touches no register data).
            await wait_until_up(client, "/no-such-page-for-the-bench")
            start = time.perf_counter()
            first = await client.get("/")
            result["first"] = time.perf_counter() - start
            assert first.status_code == 200, first.status_code
            stats_pages = max(1, -(-services * SYSTEMS_PER_SERVICE * days // 100))
            # The whole register's first download streams live and starts building
            # its file; the measured ones are sent from that file.
            start = time.perf_counter()
            cold = await client.get("/v1/systems.csv")
            result["csv_live"] = (time.perf_counter() - start, len(cold.content))
            for _ in range(1200):
                if await _from_file(client, "/v1/systems.csv"):
                    break
                await asyncio.sleep(0.5)
            for label, path in endpoints(services, stats_pages):
                times, firsts, size = [], [], 0
                for _ in range(requests):
                    start = time.perf_counter()
                    async with client.stream("GET", path) as response:
                        assert response.status_code == 200, (path, response.status_code)
                        size, first = 0, None
                        async for piece in response.aiter_raw():
                            first = first or time.perf_counter() - start
                            size += len(piece)
                    times.append(time.perf_counter() - start)
                    firsts.append(first or times[-1])
                times.sort()
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                first_p50 = statistics.median(firsts)
                result["endpoints"].append((label, statistics.median(times), p95, first_p50, size))
        result["rss"] = rss_mb(server.pid)
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 60)
    return result


async def _from_file(client: httpx.AsyncClient, path: str) -> bool:
    async with client.stream("GET", path) as response:
        return response.headers.get("accept-ranges") == "bytes"


async def pg_size(schema: str) -> float:
    from sqlalchemy import text

    engine = create_engine(PG_URL)
    try:
        async with engine.connect() as connection:
            size = (
                await connection.execute(
                    text(
                        "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
                        " JOIN pg_namespace n ON n.oid = c.relnamespace"
                        " WHERE n.nspname = :schema AND c.relkind = 'r'"
                    ),
                    {"schema": schema},
                )
            ).scalar()
    finally:
        await engine.dispose()
    return float(size or 0) / 2**20


def report(
    backend: str, services: int, seeded: float, upgraded: float, size: float, result: dict[str, Any]
) -> None:
    systems = services * SYSTEMS_PER_SERVICE
    print(
        f"\n{backend}: {services:,} services, {systems:,} systems; seeded in {seeded:.0f} s,"
        f" upgraded from {SEEDED_AT} (listing every manifest) in {upgraded:.0f} s,"
        f" database {size:,.0f} MB"
    )
    print(f"  first request after start: {result['first'] * 1000:,.0f} ms")
    print(
        f"  {'endpoint':<28}{'p50 ms':>10}{'p95 ms':>10}{'1st byte':>10}{'bytes':>14}"
        "  target p95 < 200 ms"
    )
    for label, p50, p95, first, size_bytes in result["endpoints"]:
        mark = "ok" if p95 < 0.2 else "MISSES"
        print(
            f"  {label:<28}{p50 * 1000:>10,.0f}{p95 * 1000:>10,.0f}{first * 1000:>10,.0f}"
            f"{size_bytes:>14,}  {mark}"
        )
    live, live_size = result["csv_live"]
    print(
        f"  the CSV's first download after the start (live, builds the file):"
        f" {live * 1000:,.0f} ms, {live_size:,} bytes"
    )
    print(f"  server RSS after the reads: {result['rss']:,.0f} MB (target < 200 MB)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--services", type=int, default=20_000, help="PostgreSQL services")
    parser.add_argument("--sqlite-services", type=int, default=2_000, help="SQLite services")
    parser.add_argument("--days", type=int, default=30, help="days of counts per system")
    parser.add_argument("--requests", type=int, default=20, help="requests per endpoint")
    parser.add_argument("--backends", default="postgresql,sqlite", help="comma-separated")
    args = parser.parse_args()
    print(f"registry at scale, single client, {os.cpu_count()} CPUs")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "register.sqlite3"
                url = f"sqlite+aiosqlite:///{path}"
                asyncio.run(migrated(url, {}, SEEDED_AT))
                start = time.perf_counter()
                seed_sqlite(path, args.sqlite_services, args.days)
                seeded = time.perf_counter() - start
                upgraded = asyncio.run(migrated(url, {}))
                services = args.sqlite_services
                result = asyncio.run(measure(url, {}, services, args.days, args.requests))
                size = path.stat().st_size / 2**20
                report(backend, args.sqlite_services, seeded, upgraded, size, result)
            continue
        with scratch_schemas("bench_scale") as schemas:
            if schemas is None:
                continue
            schema = schemas[0]
            scoped = {"server_settings": {"search_path": schema}}
            asyncio.run(migrated(PG_URL, scoped, SEEDED_AT))
            start = time.perf_counter()
            asyncio.run(seed_postgresql(schema, args.services, args.days))
            seeded = time.perf_counter() - start
            upgraded = asyncio.run(migrated(PG_URL, scoped))
            asyncio.run(pg_schema(f'ANALYZE "{schema}".listed_systems'))
            result = asyncio.run(measure(PG_URL, scoped, args.services, args.days, args.requests))
            size = asyncio.run(pg_size(schema))
            report(backend, args.services, seeded, upgraded, size, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
